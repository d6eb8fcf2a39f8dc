"""report.html as a browser shows it: headless Chromium renders a real incident bundle.

The bundle is the evidence a replay of ``incident-2025-12-02`` recorded (``fixtures/``),
rendered here as ``nanogrid-harness report`` would. Skipped without ``chromium`` unless
``REQUIRE_BROWSER=1``; ``REPORT_SCREENSHOTS=DIR`` keeps the screenshots there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.replay import render_bundle
from tests.harness.report.browser import Chromium, require_browser

FIXTURE = Path(__file__).parent / "fixtures" / "incident-2025-12-02"
VARIANTS = ["h1-failed-ignored", "h2-redis-blocked-for-controller", "h3-late-subscription"]

GEOMETRY = """(() => {
  const w = innerWidth, inside = r => r.left >= -1 && r.right <= w + 1;
  const boxes = sel => [...document.querySelectorAll(sel)].map(e => e.getBoundingClientRect());
  const lives = boxes('svg.seq line.life'), lines = boxes('svg.seq .msg .line');
  const heads = boxes('svg.seq .head text');
  return {width: w, scroll: document.documentElement.scrollWidth,
          svgs: document.querySelectorAll('svg.seq').length,
          details: document.querySelectorAll('details').length,
          lives: lives.length, tall: lives.filter(r => r.height > 100).length,
          livesInside: lives.filter(inside).length,
          lines: lines.length, linesInside: lines.filter(r => inside(r) && r.width > 5).length,
          heads: heads.filter(r => r.width > 10 && r.height > 5 && inside(r)).length};
})()"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    require_browser()
    out = tmp_path_factory.mktemp("bundle") / "incident-2025-12-02"
    shutil.copytree(FIXTURE, out)
    render_bundle(out)
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with Chromium.start(tmp_path_factory.mktemp("chromium") / "profile") as started:
        yield started


@pytest.fixture(scope="module")
def page(browser, bundle):
    return browser.open(bundle / "report.html", width=1280, height=900)


def test_every_variant_has_its_picture_inside_the_viewport(page):
    found = page.evaluate(GEOMETRY)
    assert found["svgs"] >= 7  # 4 variants, 3 of them beside the control
    assert found["details"] >= 4
    assert found["scroll"] <= found["width"], "the page scrolls sideways"
    assert found["lives"] == found["livesInside"] == found["tall"] > 0
    assert found["lines"] > 60
    assert found["linesInside"] == found["lines"]
    assert found["heads"] >= found["lives"]  # a name at the top and the bottom of each
    assert page.errors == []


def test_the_failed_variant_opens_with_its_causes_then_draws_the_story(page):
    text = page.evaluate("document.querySelector('#v1 .answer').innerText")
    assert "FAILED_NOT_PROPAGATED" in text
    assert "Fix:" in text
    first = page.evaluate(
        "[...document.querySelectorAll('#v1 svg.seq')[0].querySelectorAll('.msg')]"
        ".map(g => [...g.querySelectorAll('text')].map(t => t.textContent).join(' '))"
    )
    story = ["POST /run", "SUBSCRIBE result", "task", "PUBLISH result", "message FAILED",
             "ignored FAILED", "deadline hit", "HTTP 202 TIMEOUT"]  # fmt: skip
    at = [next(n for n, t in enumerate(first) if step in t) for step in story]
    assert at == sorted(at), first


def test_an_evidence_link_scrolls_to_its_arrow(page):
    page.evaluate("scrollTo(0, 0)")
    target = page.evaluate(
        "(() => { const a = document.querySelector('#v1 a.ev'); a.click();"
        " return a.getAttribute('href'); })()"
    )
    assert target.startswith("#v1-seq-")
    where = page.evaluate(
        f"(() => {{ const e = document.getElementById('{target[1:]}');"
        " const r = e.getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom, h: innerHeight, y: scrollY,"
        " inSvg: !!e.closest('svg'), hash: location.hash}; })()"
    )
    assert where["hash"] == target
    assert where["inSvg"]
    assert where["y"] > 500
    assert 0 <= where["top"] < where["bottom"] <= where["h"]


def test_a_link_into_the_collapsed_verdicts_opens_them(page):
    page.evaluate("location.hash = '#v1-verdict-REDIS_UNREACHABLE'")
    found = page.evaluate(
        "(() => { const e = document.getElementById('v1-verdict-REDIS_UNREACHABLE');"
        " const r = e.getBoundingClientRect();"
        " return {open: e.closest('details').open, top: r.top, h: innerHeight}; })()"
    )
    assert found["open"]
    assert -2 <= found["top"] <= found["h"]


def test_outcomes_read_without_colour(page):
    """Line style and weight tell an answer, an unknown outcome and a failure apart."""
    page.evaluate(
        'document.body.insertAdjacentHTML(\'beforeend\', \'<svg class="seq" id="probe">'
        '<g class="msg call ok"><line class="line"/></g>'
        '<g class="msg answer ok"><line class="line"/></g>'
        '<g class="msg answer unknown"><line class="line"/></g>'
        '<g class="msg call error"><line class="line"/></g></svg>\')'
    )
    style = page.evaluate(
        "[...document.querySelectorAll('#probe .line')].map(e => getComputedStyle(e))"
        ".map(s => [s.strokeDasharray, parseFloat(s.strokeWidth)])"
    )
    page.evaluate("document.getElementById('probe').remove()")
    (call, call_width), (answer, _), (unknown, _), (error, error_width) = style
    assert call in ("none", "")
    assert answer not in ("none", "")
    assert unknown not in ("none", "", answer)
    assert error in ("none", "")
    assert error_width > call_width * 1.5


def test_at_a_phones_width_the_pictures_stack_and_nothing_scrolls_sideways(browser, bundle):
    phone = browser.open(bundle / "report.html", width=390, height=844)
    found = phone.evaluate(
        "(() => { const p = [...document.querySelectorAll('#v1 .panel')]"
        ".map(e => e.getBoundingClientRect());"
        " const text = document.querySelector('#v1 svg.seq .msg text').getBoundingClientRect();"
        " return {scroll: document.documentElement.scrollWidth, w: innerWidth,"
        " stacked: p[1].top >= p[0].bottom, right: Math.max(...p.map(r => r.right)),"
        " text: text.height}; })()"
    )
    assert found["scroll"] <= found["w"]
    assert found["stacked"]
    assert found["right"] <= found["w"]  # a picture wider than the phone scrolls in its panel
    assert found["text"] >= 9  # px: the words on the arrows stay legible


def test_printed_the_pair_is_one_below_the_other(browser, bundle):
    printed = browser.open(bundle / "report.html")
    printed.pipe.call("Emulation.setEmulatedMedia", printed.session, media="print")
    assert printed.evaluate("getComputedStyle(document.querySelector('.pair')).display") == "block"


def test_in_korean_the_same_layout(browser, bundle, tmp_path):
    korean = tmp_path / "ko"
    shutil.copytree(bundle, korean)
    render_bundle(korean, lang="ko")
    ko = browser.open(korean / "report.html")
    en = browser.open(bundle / "report.html")
    shape = "[...document.querySelectorAll('svg.seq, details, .link, figure')].map(e => e.tagName)"
    assert ko.evaluate(shape) == en.evaluate(shape)
    assert "근본 원인" in ko.evaluate("document.querySelector('#v1 .answer').innerText")
    assert "Noto Sans CJK KR" in ko.evaluate("getComputedStyle(document.body).fontFamily")
    assert ko.evaluate(GEOMETRY)["linesInside"] == en.evaluate(GEOMETRY)["linesInside"]
    assert ko.errors == []


def test_screenshots_of_the_failed_variant_beside_its_control(page, tmp_path):
    keep = Path(os.environ.get("REPORT_SCREENSHOTS") or tmp_path)
    keep.mkdir(parents=True, exist_ok=True)
    page.evaluate("history.replaceState(null, '', location.pathname); scrollTo(0, 0)")
    figure = page.evaluate(
        "(() => { const r = document.querySelector('#v1-r1').getBoundingClientRect();"
        " return {x: r.left, y: r.top + scrollY, width: r.width, height: r.height}; })()"
    )
    shots = {
        "report-top.png": {"x": 0, "y": 0, "width": 1280, "height": 1400},
        "report-h1-beside-control.png": figure,
    }
    for name, clip in shots.items():
        png = page.screenshot(keep / name, clip=clip)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 20_000
    assert figure["width"] > 1000
    assert figure["height"] > 600
