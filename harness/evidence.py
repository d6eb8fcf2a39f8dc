"""The recorded evidence of one run, on disk: what the timeline and the diagnosis read.

Nothing here knows the harness's live objects, so the same analysis works on evidence
collected from a real deployment (spans exported as OTLP JSON, JSON log lines, a fault
ledger if faults were injected, the client's view of each call).

Layout of a run directory::

    RUN_DIR/
      scenario.json   what was run: name, title, hypothesis, faults, knobs, workload, expect
      results.jsonl   one client call per line (see :class:`CallRecord`)
      faults.jsonl    the fault ledger (ts_ns, proxy, event, fault, kind, direction, ...)
      trace.jsonl     OTLP JSON lines: the spans of this run's requests, every process
      logs.jsonl      JSON log lines of every component during the run (``component`` field)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness import traces
from harness.faults import FaultLedger, LedgerEvent

SCENARIO_FILE = "scenario.json"
RESULTS_FILE = "results.jsonl"
FAULTS_FILE = "faults.jsonl"
TRACE_FILE = "trace.jsonl"
LOGS_FILE = "logs.jsonl"


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


@dataclass
class Evidence:
    """Everything recorded about one run, loaded from its directory."""

    run_dir: Path
    scenario: dict[str, Any]
    calls: list[CallRecord]
    ledger: list[LedgerEvent]
    spans: list[traces.SpanRecord]
    logs: list[dict[str, Any]] = field(default_factory=list)

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


def write_logs(run_dir: Path, lines: Iterable[dict[str, Any]]) -> None:
    with (run_dir / LOGS_FILE).open("w") as out:
        for line in lines:
            out.write(json.dumps(line) + "\n")


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
    return Evidence(run_dir, scenario, calls, ledger, spans, logs)
