from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest

import harness.analysis
from harness.analysis import VERDICTS
from harness.analysis.rules import RULES
from harness.analysis.rules.function import FunctionOutcome
from harness.faults import EventKind, FaultKind
from harness.report import write_report
from harness.report.i18n import MESSAGES, PHRASES_KO, VERDICTS_KO
from nanogrid.telemetry import semconv as sc
from tests.harness.analysis.synth import request_run


@pytest.fixture
def incident_report(tmp_path):
    failed_ignored = request_run(zip_bytes=34, invalid=True, client="TIMEOUT", ignored=True)
    blocked = request_run(unavailable=(sc.REDIS, "connect_timeout"))
    blocked.fault(-100, "controller->redis", EventKind.FAULT_ACTIVE, FaultKind.CONNECT_TIMEOUT)
    blocked.fault(1000, "controller->redis", EventKind.FAULT_REMOVED, FaultKind.CONNECT_TIMEOUT)
    late = request_run(receivers=0, late_subscribe=True, client="TIMEOUT")
    control = request_run(zip_bytes=34, invalid=True, client="FAILED")
    variants = [
        ("failed-ignored", failed_ignored.evidence()),
        ("redis-blocked", blocked.evidence()),
        ("late-subscription", late.evidence()),
    ]
    return write_report(tmp_path, "incident-2025-12-02", variants, control=control.evidence())


def test_writes_the_three_files(incident_report):
    assert sorted(incident_report) == ["report.html", "report.md", "verdict.json"]
    assert all(path.stat().st_size > 0 for path in incident_report.values())


def test_verdict_json_has_the_documented_shape(incident_report):
    doc = json.loads(incident_report["verdict.json"].read_text())
    assert doc["scenario"] == "incident-2025-12-02"
    names = [v["name"] for v in doc["variants"]]
    assert names == ["failed-ignored", "redis-blocked", "late-subscription"]
    first = doc["variants"][0]
    assert first["clientStatus"] == "TIMEOUT"
    fnp = next(v for v in first["verdicts"] if v["code"] == "FAILED_NOT_PROPAGATED")
    assert fnp["status"] == "confirmed"
    assert set(fnp) >= {"code", "status", "evidence", "explanation", "fix"}
    assert set(fnp["evidence"][0]) >= {"ts", "component", "kind", "text"}
    assert [h["status"] for h in first["hypotheses"]] == ["confirmed", "ruled_out", "ruled_out"]
    assert first["divergence"]["step"] == "controller message ignored"
    redis = doc["variants"][1]["verdicts"]
    assert (
        next(v for v in redis if v["code"] == "REDIS_UNREACHABLE")["detail"]["symptom"]
        == "connect_timeout"
    )


def test_verdict_json_gives_each_confirmed_verdict_its_role(tmp_path):
    slow = request_run(function_ms=5000, receivers=0, client="TIMEOUT")
    paths = write_report(tmp_path, "slow-function", [("slow", slow.evidence())])
    [variant] = json.loads(paths["verdict.json"].read_text())["variants"]
    verdicts = {v["code"]: v for v in variant["verdicts"]}
    assert verdicts["SLOW_FUNCTION"]["role"] == "cause"
    assert "causedBy" not in verdicts["SLOW_FUNCTION"]
    assert verdicts["RESULT_AFTER_DEADLINE"]["role"] == "consequence"
    assert verdicts["RESULT_AFTER_DEADLINE"]["causedBy"] == ["SLOW_FUNCTION"]
    assert variant["causes"] == ["SLOW_FUNCTION"]
    unconfirmed = [v for v in variant["verdicts"] if v["status"] != "confirmed"]
    assert unconfirmed
    assert all("role" not in v and "causedBy" not in v for v in unconfirmed)


def test_markdown_shows_the_memo_layout_and_four_steps(incident_report):
    text = incident_report["report.md"].read_text()
    headings = [
        "## Summary of problems found",
        "### Evidence (log excerpt)",
        "### Cause analysis (verdicts)",
        "### The memo's hypotheses",
        "### Timeline (the memo's four steps)",
        "### Sequence of messages: Request",
        "### Full timeline: Request",
        "### Result JSON actually published",
        "### Checklist of fixes",
        "### Expected result after the fix (control run)",
        "## Observations that tell the hypotheses apart in production logs",
    ]
    positions = [text.index(h) for h in headings]
    assert positions[:-1] == sorted(positions[:-1])
    steps = [
        "- /run called, message sent to SQS",
        "- Worker: processing finished in",
        "- Worker: Redis publish succeeded, receivers=1",
        "- Controller: TIMEOUT at its 4.0 s deadline",
    ]
    found = [text.index(step) for step in steps]
    assert found == sorted(found)
    assert '"errorType": "INVALID_PACKAGE"' in text
    assert "- [ ] **FAILED result not propagated**" in text
    assert "| PUBLISH receiver count |" in text
    assert "'message ignored status=FAILED'" in text


def test_markdown_draws_the_sequence_with_the_cited_evidence_numbered(incident_report):
    text = incident_report["report.md"].read_text()
    chart = text[text.index("### Sequence of messages") :].split("```text\n", 1)[1].split("```")[0]
    rows = chart.splitlines()
    header = ["time", "client", "controller", "SQS", "worker-1", "Redis", "S3", "DynamoDB"]
    assert rows[0].split() == header
    ignored = next(r for r in rows if "ignored FAILED" in r)
    number = re.search(r"\[(\d+)\]", ignored).group(1)
    assert re.search(rf"^- \[{number}\] \S+ controller \(span\): .*message ignored", text, re.M)
    publish = next(r for r in rows if "PUBLISH result" in r and "worker-1" not in r)
    assert publish.index("|-") < publish.index(">|"), publish  # worker-1 -> Redis
    assert any("idle" in r and r.lstrip().startswith("~") for r in rows)
    assert "✕ HTTP 202 TIMEOUT" in chart


def test_html_opens_with_the_causal_chain_then_the_picture(incident_report):
    html = incident_report["report.html"].read_text()
    v1 = html[html.index('<section class="variant" id="v1">') : html.index('id="v2"')]
    order = [
        v1.index('class="answer"'),
        v1.index('class="link cause" id="v1-verdict-INVALID_PACKAGE"'),
        v1.index('class="link cause" id="v1-verdict-FAILED_NOT_PROPAGATED"'),
        v1.index('<figure class="sequence"'),
        v1.index('<details class="others">'),
    ]
    assert order == sorted(order)
    fix = VERDICTS["FAILED_NOT_PROPAGATED"].fix
    assert fix.split(":")[0] in v1[: order[3]]
    others = v1[order[4] :].split("</details>")[0]
    [first] = json.loads(incident_report["verdict.json"].read_text())["variants"][:1]
    statuses = [v["status"] for v in first["verdicts"]]
    counts = (statuses.count("ruled_out"), statuses.count("unknown"))
    assert f"Ruled out ({counts[0]}) and unknown ({counts[1]})" in others
    assert others.count("<tr id=") == sum(counts)
    assert 'id="v1-verdict-REDIS_UNREACHABLE" class="verdict status-ruled_out"' in others
    assert "v1-verdict-FAILED_NOT_PROPAGATED" not in others


def test_html_draws_lifelines_fault_intervals_and_links_evidence_to_arrows(incident_report):
    html = incident_report["report.html"].read_text()
    v2 = html[html.index('id="v2"') : html.index('id="v3"')]
    lifelines = set(re.findall(r'class="life" data-lifeline="([^"]+)"', v2))
    assert {"client", "controller", "worker-1", "redis", "sqs"} <= lifelines
    assert 'class="fault"' in v2
    assert "injected: connect_timeout (connect_timeout-fault)" in v2
    assert 'class="fault"' not in html[html.index('id="v1"') : html.index('id="v2"')]
    assert 'id="verdict-FAILED_NOT_PROPAGATED"' in html
    assert 'id="v1-verdict-FAILED_NOT_PROPAGATED"' in html
    evidence_links = re.findall(r'class="ev" href="#(v1-[^"]+)"', html)
    assert len(evidence_links) >= 5
    assert all(f'id="{anchor}"' in html for anchor in evidence_links)
    assert all(anchor.startswith("v1-seq-") for anchor in evidence_links)
    assert 'href="#v1-verdict-FAILED_NOT_PROPAGATED"><g class="msg' in html
    rows = re.findall(r'<tr id="(v1-(?:log|span|call)-[^"]+)"', html)
    assert rows
    assert '<a href="#v1-verdict-FAILED_NOT_PROPAGATED">FAILED_NOT_PROPAGATED</a>' in html


def test_html_has_no_external_reference(incident_report):
    html = incident_report["report.html"].read_text().lower()
    for needle in ("http://", "https://", "<link", "@import", "<script"):
        assert needle not in html, needle
    assert not re.search(r"url\((?!#)", html), "only references inside the page"
    assert not re.search(r'src="(?!data:)', html)
    assert len(re.findall(r"<svg\b", html)) >= 3
    assert "<details" in html


def test_korean_report_has_korean_headings_and_explanations(tmp_path):
    run = request_run(zip_bytes=34, invalid=True, client="TIMEOUT", ignored=True)
    paths = write_report(tmp_path, "incident", [("a", run.evidence())], lang="ko")
    md = paths["report.md"].read_text()
    assert "## 발견된 문제 요약" in md
    assert "### 타임라인 (메모의 네 단계)" in md
    assert "FAILED 결과 미전달" in md
    assert "워커가 07:40:19.322에 FAILED를 게시했고" in md
    html = paths["report.html"].read_text()
    assert "발견된 문제 요약" in html
    assert "근본 원인" in html
    assert "메시지 순서" in html
    assert "무시함" in html  # the controller's "ignored FAILED" note, in Korean
    english = json.loads(paths["verdict.json"].read_text())
    assert "confirmed because" in json.dumps(english)


def test_catalogue_covers_every_key_in_korean():
    assert set(MESSAGES["ko"]) >= set(MESSAGES["en"])
    assert set(VERDICTS_KO) == set(VERDICTS)
    assert all(re.search("[가-힣]", text) for text in PHRASES_KO.values())


def phrases_used() -> dict[str, tuple[set[str], list[str]]]:
    """Every phrase key the analysis builds, with its parameters and English templates,
    read from the source: ``phrase("key", "en", p=...)`` and ``Phrase("key", "en", {...})``."""
    found: dict[str, tuple[set[str], list[str]]] = {}
    for path in sorted(Path(harness.analysis.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "func", None)
            if not isinstance(node, ast.Call) or getattr(name, "id", "") not in (
                "phrase",
                "Phrase",
            ):
                continue
            key, *rest = node.args
            if isinstance(key, ast.Name):
                continue  # phrase() itself, handing its arguments on
            params = {k.arg for k in node.keywords if k.arg}
            if len(rest) > 1 and isinstance(rest[1], ast.Dict):
                params |= {k.value for k in rest[1].keys if isinstance(k, ast.Constant)}
            english = [rest[0].value] if isinstance(rest[0], ast.Constant) else []
            for each in _keys(key):
                known = found.setdefault(each, (set(), []))
                known[0].update(params)
                known[1].extend(english)
    return found


def _keys(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant):
        return [node.value]
    # f"function.{self.code}": one key per FunctionOutcome rule
    assert isinstance(node, ast.JoinedStr), ast.dump(node)
    assert ast.unparse(node) == "f'function.{self.code}'"
    return [f"function.{rule.code}" for rule in RULES if isinstance(rule, FunctionOutcome)]


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_phrase_the_analysis_uses_has_a_korean_template():
    used = phrases_used()
    assert {"reach.wire_only", "crash.exited", "slowfn.because", "memo.sent"} <= set(used)
    assert set(PHRASES_KO) == set(used), "missing or unused Korean phrases"
    for key, (params, english) in used.items():
        assert placeholders(PHRASES_KO[key]) == params, key
        assert all(placeholders(en) == params for en in english), key


def test_unknown_language_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown report language"):
        write_report(tmp_path, "x", [("a", request_run().evidence())], lang="fr")


def test_the_emulator_a_run_ran_on_is_named_in_every_report(tmp_path):
    evidence = request_run().evidence()
    evidence.environment = {
        "emulator": {
            "emulator": "localstack",
            "version": "4.14.0",
            "image": "nanogrid/localstack:local",
            "deviations": ["dynamodb: LocalStack's bundled moto"],
        }
    }
    paths = write_report(tmp_path, "synthetic", [("a", evidence)])
    line = "AWS emulator: localstack 4.14.0 (image nanogrid/localstack:local); deviation: dynamodb"
    assert line in paths["report.md"].read_text()
    assert line in paths["report.html"].read_text()
    [variant] = json.loads(paths["verdict.json"].read_text())["variants"]
    assert variant["environment"]["emulator"]["version"] == "4.14.0"
    bare = write_report(tmp_path / "bare", "synthetic", [("a", request_run().evidence())])
    assert "AWS emulator" not in bare["report.md"].read_text()
