"""The recorded evidence of one run, on disk: what the timeline and the diagnosis read.

Nothing here knows the harness's live objects, so the same analysis works on evidence
collected from a real deployment (spans exported as OTLP JSON, JSON log lines, a fault
ledger if faults were injected, the client's view of each call).

Layout of a run directory::

    RUN_DIR/
      scenario.json   what was run: name, title, hypothesis, faults, knobs, workload, expect
      results.jsonl   one client call per line (see :class:`CallRecord`)
      trace.jsonl     OTLP JSON lines: the spans of this run's requests, every process
      logs.jsonl      JSON log lines of every component during the run (``component`` field)
      wire.jsonl      what the network saw: decoded Redis and AWS traffic per connection
                      (see :mod:`harness.wire`)
      components.jsonl  the supervisor's view: when each component ran and how it ended
      environment.json  what the run ran on: the AWS emulator (kind, version, image) and its
                      deviations, as the backend describes itself
      faults.jsonl    ground truth, never evidence: the fault ledger of what was injected
      actions.jsonl   ground truth, never evidence: the scenario's actions and their outcome

The first six are *evidence*: what the system and its network showed, as a real
deployment has it too (its OTLP export, its logs, a packet capture or service mesh, the
orchestrator's pod events). ``faults.jsonl``, ``actions.jsonl`` and the declaration in
``scenario.json`` record what the harness did: they grade a diagnosis, and the diagnosis
never reads them (:mod:`harness.analysis` has no access to them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness import traces
from harness.faults.ledger import FaultLedger, LedgerEvent
from harness.wire.model import WireEvent

SCENARIO_FILE = "scenario.json"
RESULTS_FILE = "results.jsonl"
FAULTS_FILE = "faults.jsonl"
TRACE_FILE = "trace.jsonl"
LOGS_FILE = "logs.jsonl"
WIRE_FILE = "wire.jsonl"
COMPONENTS_FILE = "components.jsonl"
ACTIONS_FILE = "actions.jsonl"
ENVIRONMENT_FILE = "environment.json"


@dataclass
class CallRecord:
    """One call the client made and what it saw.

    ``kind`` is ``upload``, ``run``, ``fetch`` (GET /runs/{id} after the run) or ``s3`` (code
    put straight into S3 with a hand-registered item, the memo's way).
    """

    kind: str
    functionId: str | None
    requestId: str | None
    httpStatus: int | None
    body: dict[str, Any]
    startNs: int
    endNs: int
    error: str | None = None  # a client-side failure (connection refused, read timeout)

    @property
    def status(self) -> str | None:
        """The client-visible status: the body's ``status``, else ``HTTP {code}``."""
        if "status" in self.body:
            return str(self.body["status"])
        if self.httpStatus is not None:
            return f"HTTP {self.httpStatus}"
        return None


@dataclass(frozen=True)
class ComponentLife:
    """The supervisor's record of one component process (an orchestrator's pod events).

    ``stopped`` is True when the supervisor asked it to stop; an exit without it, or with a
    negative ``exit_code`` (killed by that signal), is a crash.
    """

    component: str
    pid: int | None
    started_ns: int
    ended_ns: int | None = None
    exit_code: int | None = None
    stopped: bool = False

    @property
    def crashed(self) -> bool:
        return self.ended_ns is not None and not self.stopped and self.exit_code != 0

    def alive_at(self, ts_ns: int) -> bool:
        return self.started_ns <= ts_ns and (self.ended_ns is None or ts_ns <= self.ended_ns)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComponentLife:
        ended = data.get("endedNs")
        code = data.get("exitCode")
        return cls(
            component=str(data.get("component", "unknown")),
            pid=int(data["pid"]) if data.get("pid") is not None else None,
            started_ns=int(data.get("startedNs") or 0),
            ended_ns=int(ended) if ended else None,
            exit_code=int(code) if code is not None else None,
            stopped=bool(data.get("stopped")),
        )


@dataclass
class Evidence:
    """Everything recorded about one run, loaded from its directory.

    ``ledger``, ``actions`` and the declaration in ``scenario`` are ground truth for grading
    a diagnosis; the analysis reads only the other fields.
    """

    run_dir: Path
    scenario: dict[str, Any]
    calls: list[CallRecord]
    ledger: list[LedgerEvent]
    spans: list[traces.SpanRecord]
    logs: list[dict[str, Any]] = field(default_factory=list)
    wire: list[WireEvent] = field(default_factory=list)
    components: list[ComponentLife] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def runs(self) -> list[CallRecord]:
        return [c for c in self.calls if c.kind == "run"]

    def request_ids(self) -> list[str]:
        return [c.requestId for c in self.runs if c.requestId]

    def spans_of(self, request_id: str) -> list[traces.SpanRecord]:
        return traces.spans_for_request(self.spans, request_id)

    def logs_of(self, request_id: str) -> list[dict[str, Any]]:
        return [line for line in self.logs if line.get("requestId") == request_id]


def write_scenario(run_dir: Path, definition: dict[str, Any]) -> None:
    (run_dir / SCENARIO_FILE).write_text(json.dumps(definition, indent=2, default=str))


def append_call(run_dir: Path, call: CallRecord) -> None:
    with (run_dir / RESULTS_FILE).open("a") as out:
        out.write(json.dumps(asdict(call), default=str) + "\n")


def write_environment(run_dir: Path, environment: dict[str, Any]) -> None:
    (run_dir / ENVIRONMENT_FILE).write_text(json.dumps(environment, indent=2, default=str))


def write_logs(run_dir: Path, lines: Iterable[dict[str, Any]]) -> None:
    write_json_lines(run_dir / LOGS_FILE, lines)


def write_json_lines(path: Path, lines: Iterable[dict[str, Any]]) -> None:
    with path.open("w") as out:
        for line in lines:
            out.write(json.dumps(line, default=str) + "\n")


def read_json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON-lines file; other lines (headers, tracebacks) are skipped."""
    if not path.exists():
        return
    with path.open(errors="replace") as lines:
        for line in lines:
            if not line.startswith("{"):
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                yield value


def log_time_ns(line: dict[str, Any]) -> int:
    """A log line's ``ts`` (ISO-8601, ms) as epoch nanoseconds; 0 when absent or invalid."""
    try:
        return int(datetime.fromisoformat(str(line["ts"]).replace("Z", "+00:00")).timestamp() * 1e9)
    except (KeyError, ValueError):
        return 0


def load(run_dir: Path) -> Evidence:
    """Read a run directory (missing files count as empty)."""
    scenario_path = run_dir / SCENARIO_FILE
    scenario = json.loads(scenario_path.read_text()) if scenario_path.exists() else {}
    calls = [CallRecord(**line) for line in read_json_lines(run_dir / RESULTS_FILE)]
    faults = run_dir / FAULTS_FILE
    ledger = FaultLedger.read_jsonl(faults).events if faults.exists() else []
    trace = run_dir / TRACE_FILE
    spans = traces.load_spans(trace) if trace.exists() else []
    logs = list(read_json_lines(run_dir / LOGS_FILE))
    wire = [WireEvent.from_dict(line) for line in read_json_lines(run_dir / WIRE_FILE)]
    components = [ComponentLife.from_dict(c) for c in read_json_lines(run_dir / COMPONENTS_FILE)]
    actions = list(read_json_lines(run_dir / ACTIONS_FILE))
    environment_path = run_dir / ENVIRONMENT_FILE
    environment = json.loads(environment_path.read_text()) if environment_path.exists() else {}
    return Evidence(
        run_dir, scenario, calls, ledger, spans, logs, wire, components, actions, environment
    )


EVIDENCE_FILES = (RESULTS_FILE, TRACE_FILE, LOGS_FILE, WIRE_FILE, COMPONENTS_FILE)


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` holds a run's evidence (any of its evidence files)."""
    return path.is_dir() and any((path / name).exists() for name in EVIDENCE_FILES)


def find_runs(paths: Iterable[Path]) -> list[Path]:
    """The run directories among ``paths``: each path that is one, else the run directories
    one or two levels below it (a report bundle, a folder of bundles), in name order."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        if is_run_dir(path):
            found.append(path)
            continue
        below = sorted(p for p in path.glob("*") if is_run_dir(p))
        below = below or sorted(p for p in path.glob("*/*") if is_run_dir(p))
        if not below:
            raise FileNotFoundError(
                f"{path} holds no run evidence ({', '.join(EVIDENCE_FILES)} in it or below it)"
            )
        found += below
    return found


def run_name(evidence: Evidence) -> tuple[str, str]:
    """(scenario, variant) of a run: its scenario.json's names, else its folders' names."""
    scenario = str(evidence.scenario.get("name") or evidence.run_dir.parent.name)
    variant = str(evidence.scenario.get("variant") or evidence.run_dir.name)
    return scenario, variant


def blind(evidence: Evidence) -> Evidence:
    """The evidence a real deployment would have: no ledger, no actions, and of the
    scenario's declaration only its names."""
    scenario, variant = run_name(evidence)
    return Evidence(
        evidence.run_dir,
        {"name": scenario, "variant": variant},
        evidence.calls,
        [],
        evidence.spans,
        evidence.logs,
        evidence.wire,
        evidence.components,
        [],
        evidence.environment,
    )
