"""``nanogrid-harness``: run NanoGrid on an embedded stack, break it, and explain what happened."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from harness import artifacts, traces
from harness.accuracy import Grade, grade, totals
from harness.env.base import Backend, Endpoints
from harness.env.embedded import EmbeddedBackend
from harness.env.external import ExternalBackend
from harness.env.localstack import LocalStackBackend, LocalStackUnavailable
from harness.evidence import load
from harness.procs import Terminated, install_signal_handlers
from harness.replay import render_bundle, replay
from harness.report.verdict import write_document
from harness.scenario.catalogue import find, load_catalogue, load_path
from harness.scenario.model import Scenario, Variant
from harness.scenario.play import Outcome
from harness.stack import Stack, StackConfig
from nanogrid import defaults

#: SIGINT too: a shell's background job starts with SIGINT ignored, and `kill -INT` must stop it.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True)

RunDirOption = Annotated[
    Path | None,
    typer.Option("--run-dir", help="where logs and telemetry go (default: runs/<time>)"),
]


def _run_dir(run_dir: Path | None, label: str) -> Path:
    if run_dir is not None:
        return run_dir
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
    return Path("runs") / f"{label}-{stamp}"


class BackendName(StrEnum):
    embedded = "embedded"  # child processes: Redis (or valkey) and moto's server
    containers = "containers"  # Docker containers through testcontainers
    external = "external"  # your own Redis and AWS endpoints (--redis-url, --aws-endpoint-url)
    localstack = "localstack"  # a running LocalStack (LOCALSTACK_HOST, else localhost:4566)


class RuntimeName(StrEnum):
    process = "process"  # a local process per function
    docker = "docker"  # a container per function


@dataclass(frozen=True)
class ExternalOptions:
    redis_url: str | None
    aws_endpoint_url: str | None
    region: str


def _backend(
    name: BackendName, directory: Path, external: ExternalOptions | None = None
) -> Backend:
    directory.mkdir(parents=True, exist_ok=True)
    if name is BackendName.external:
        if external is None or not external.redis_url:
            err.print(
                "[red]--backend external needs --redis-url[/] (--aws-endpoint-url: an emulator)"
            )
            raise typer.Exit(2)
        endpoints = Endpoints(external.redis_url, external.aws_endpoint_url, external.region)
        return ExternalBackend(endpoints)
    if name is BackendName.containers:
        from harness.env.containers import ContainersBackend  # needs nanogrid[containers]

        return ContainersBackend.from_env(os.environ, directory)
    if name is BackendName.localstack:
        options = external or ExternalOptions(None, None, defaults.REGION)
        return LocalStackBackend.from_env(
            os.environ,
            directory,
            aws_endpoint_url=options.aws_endpoint_url,
            redis_url=options.redis_url,
            region=options.region,
        )
    return EmbeddedBackend(directory)


RedisUrlOption = Annotated[
    str | None,
    typer.Option(
        envvar="REDIS_URL",
        help="--backend external: your Redis (--backend localstack: unset, a Redis of its own)",
    ),
]
AwsUrlOption = Annotated[
    str | None,
    typer.Option(
        envvar="AWS_ENDPOINT_URL",
        help="--backend external: your AWS endpoint (unset: real AWS); --backend localstack: "
        "your LocalStack (unset: http://$LOCALSTACK_HOST, else http://localhost:4566)",
    ),
]
RegionOption = Annotated[str, typer.Option(envvar="AWS_REGION", help="--backend external: region")]


@app.command()
def up(
    workers: Annotated[int, typer.Option(min=0, help="number of worker processes")] = 1,
    port: Annotated[int | None, typer.Option(help="controller port (default: a free one)")] = None,
    run_dir: RunDirOption = None,
    deadline: Annotated[float, typer.Option(help="seconds /run waits for a result")] = 25.0,
    backend: Annotated[BackendName, typer.Option(help="where Redis and AWS run")] = (
        BackendName.embedded
    ),
    runtime: Annotated[RuntimeName, typer.Option(help="how workers run functions")] = (
        RuntimeName.process
    ),
    redis_url: RedisUrlOption = None,
    aws_endpoint_url: AwsUrlOption = None,
    region: RegionOption = defaults.REGION,
) -> None:
    """Start Redis, the AWS emulator, the controller and WORKERS workers; print KEY=value lines.

    Stays in the foreground; SIGINT / SIGTERM stop everything. ``--backend containers`` takes
    its images from NANOGRID_REDIS_IMAGE / NANOGRID_AWS_IMAGE, ``--runtime docker`` from
    NANOGRID_DOCKER_IMAGE.
    """
    logging.basicConfig(level=logging.WARNING)
    install_signal_handlers(_STOP_SIGNALS)
    directory = _run_dir(run_dir, "up")
    config = StackConfig(
        workers=workers, port=port, run_deadline=deadline, min_workers=min(workers, 1)
    )
    config.runtime = runtime.value
    if image := os.environ.get("NANOGRID_DOCKER_IMAGE"):
        config.worker_env["NANOGRID_DOCKER_IMAGE"] = image
    try:
        external = ExternalOptions(redis_url, aws_endpoint_url, region)
        with (
            _backend(backend, directory, external) as started,
            Stack(started, directory, config) as stack,
        ):
            for key, value in stack.exports().items():
                print(f"{key}={value}")
            _print_emulator(started)
            sys.stdout.flush()
            err.print(f"[green]NanoGrid is up[/] at {stack.controller_url}; Ctrl-C stops it.")
            threading.Event().wait()
    except (KeyboardInterrupt, Terminated):
        err.print("stopped")
    except LocalStackUnavailable as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from exc


def _print_emulator(backend: Backend) -> None:
    """``NANOGRID_EMULATOR[_VERSION|_IMAGE]=`` lines; the summary and each deviation on stderr."""
    emulator = backend.emulator()
    print(f"NANOGRID_EMULATOR={emulator.kind.value}")
    print(f"NANOGRID_EMULATOR_VERSION={emulator.version or ''}")
    print(f"NANOGRID_EMULATOR_IMAGE={emulator.image or ''}")
    err.print(f"AWS emulator: {emulator.summary()}", markup=False, highlight=False)
    for deviation in emulator.deviations:
        err.print(f"deviation: {deviation}", markup=False, highlight=False)


@app.command()
def demo(run_dir: RunDirOption = None) -> None:
    """Bring the stack up, upload the memo's test function, run it, print the result, stop."""
    logging.basicConfig(level=logging.WARNING)
    install_signal_handlers(_STOP_SIGNALS)
    directory = _run_dir(run_dir, "demo")
    with Stack.embedded(directory, StackConfig(workers=1)) as stack:
        files = {"file": ("function.zip", artifacts.memo_function_zip(), "application/zip")}
        upload = httpx.post(
            f"{stack.controller_url}/upload",
            files=files,
            data={"functionId": "test-manual"},
            timeout=30,
        )
        err.print(f"POST /upload -> {upload.status_code} {upload.json()}")
        upload.raise_for_status()
        run = httpx.post(
            f"{stack.controller_url}/run",
            json={"functionId": "test-manual", "inputData": {}},
            timeout=60,
        )
        err.print(f"POST /run -> {run.status_code}")
        print(json.dumps(run.json(), indent=2))
    if run.json().get("status") != "SUCCESS":
        raise typer.Exit(1)


def _telemetry_dirs(telemetry_dir: Path | None) -> list[Path]:
    if telemetry_dir is not None:
        return [telemetry_dir]
    if env_dir := os.environ.get("NANOGRID_TELEMETRY_DIR"):
        return [Path(env_dir)]
    bundles = sorted(p.parent for p in Path("reports").glob("*/trace.jsonl"))
    return sorted(Path("runs").glob("*/telemetry")) + bundles


@app.command("trace")
def trace_command(
    request_id: Annotated[str, typer.Argument(help="the requestId (a UUID) of a /run")],
    telemetry_dir: Annotated[
        Path | None,
        typer.Option(
            help="span files (default: $NANOGRID_TELEMETRY_DIR, else runs/*/telemetry and "
            "the report bundles under reports/)"
        ),
    ] = None,
    jaeger: Annotated[
        Path | None, typer.Option(help="also write native Jaeger JSON (UI: 'upload JSON') here")
    ] = None,
) -> None:
    """Print the span tree of one request from the stored OTLP JSON files."""
    dirs = [d for d in _telemetry_dirs(telemetry_dir) if d.is_dir()]
    if not dirs:
        err.print(
            "[red]no telemetry directory[/]: pass --telemetry-dir or set NANOGRID_TELEMETRY_DIR"
        )
        raise typer.Exit(2)
    try:
        spans = traces.spans_for_request(traces.load_spans(dirs), request_id)
    except ValueError as exc:
        err.print(f"[red]{request_id!r} is not a requestId[/]: {exc}")
        raise typer.Exit(2) from exc
    if not spans:
        err.print(f"[red]no spans of {request_id}[/] in {', '.join(map(str, dirs))}")
        raise typer.Exit(1)
    print(traces.render_tree(spans))
    if jaeger is not None:
        jaeger.write_text(json.dumps(traces.to_jaeger(spans), indent=1))
        err.print(f"Jaeger JSON written to {jaeger}")


@app.command("scenarios")
def list_scenarios() -> None:
    """List the failure catalogue: name, variants, expected outcome and verdicts."""
    table = Table(title="NanoGrid failure catalogue")
    for column in ("scenario", "variant", "expects", "verdicts", "title"):
        table.add_column(column)
    for scenario in load_catalogue().values():
        for variant in scenario.variants:
            table.add_row(
                scenario.name,
                variant.name,
                variant.expect.client_status,
                ", ".join(variant.verdicts) or "-",
                scenario.title,
            )
    Console().print(table)


@app.command("fault-kinds")
def list_fault_kinds(
    as_json: Annotated[bool, typer.Option("--json", help="the kinds as JSON")] = False,
) -> None:
    """List the fault kinds (built in and plug-ins): what each does, where it acts, its
    parameters with defaults. Use them as ``Fault(name, kind, **params)``."""
    from harness.faults.kinds import registry

    kinds = registry()
    if as_json:
        rows = [_kind_dict(kind) for _, kind in sorted(kinds.items())]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="fault kinds")
    for column in ("kind", "acts on", "what it does", "parameters (default)"):
        table.add_column(column)
    for name, kind in sorted(kinds.items()):
        params = ", ".join(f"{key}={p.default!r}" for key, p in kind.params.items())
        table.add_row(name, str(_kind_dict(kind)["acts_on"]), kind.summary, params or "-")
    Console(width=160).print(table)


def _kind_dict(kind: object) -> dict[str, object]:
    from harness.faults.kinds.base import FaultType, Layer

    assert isinstance(kind, FaultType)
    acts_on = "the listening socket" if kind.layer is Layer.LISTENER else "stream bytes"
    if kind.layer is Layer.MESSAGE:
        acts_on = f"{getattr(kind, 'protocol', '')} {getattr(kind, 'stream', '')} messages"
    params = {key: {"default": p.default, "doc": p.doc} for key, p in kind.params.items()}
    return {"kind": kind.name, "acts_on": acts_on, "summary": kind.summary, "params": params}


LangOption = Annotated[str, typer.Option("--lang", help="report language: en or ko")]
ControllerOption = Annotated[
    str | None,
    typer.Option(metavar="CMD", help="a controller under test in place of the reference one"),
]
WorkerOption = Annotated[
    str | None,
    typer.Option(metavar="CMD", help="a worker under test in place of the reference one"),
]
ControllerImageOption = Annotated[
    str | None,
    typer.Option(metavar="IMAGE", help="a controller under test as a container image"),
]
WorkerImageOption = Annotated[
    str | None,
    typer.Option(metavar="IMAGE", help="a worker under test as a container image"),
]


def _component(role: str, command: str | None, image: str | None) -> str | None:
    """The command of a component under test, given as a command or an image (not both)."""
    if command and image:
        err.print(f"[red]give --{role} or --{role}-image, not both[/]")
        raise typer.Exit(2)
    if image:
        from harness.image_component import image_command

        return image_command(image)
    return command


@app.command("replay")
def replay_command(
    name: Annotated[
        str | None,
        typer.Argument(
            help="scenario name (see `scenarios`), or a .py file or folder of them declaring "
            "SCENARIO (your own scenarios)"
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="replay the whole catalogue")] = False,
    out: Annotated[
        Path | None, typer.Option(help="bundle directory (default reports/NAME)")
    ] = None,
    lang: LangOption = "en",
    backend: Annotated[BackendName, typer.Option(help="where Redis and AWS run")] = (
        BackendName.embedded
    ),
    redis_url: RedisUrlOption = None,
    aws_endpoint_url: AwsUrlOption = None,
    region: RegionOption = defaults.REGION,
    controller: ControllerOption = None,
    worker: WorkerOption = None,
    controller_image: ControllerImageOption = None,
    worker_image: WorkerImageOption = None,
) -> None:
    """Replay scenarios (embedded stack by default); write reports and print each verdict.

    With ``--controller`` / ``--worker`` (a command) or ``--controller-image`` /
    ``--worker-image`` (run with ``docker run`` on the host network) the scenarios run
    against your component (started under the platform's environment contract, behind the
    same fault proxies) and the diagnosis names what it does wrong; a scenario whose
    expected verdicts do not hold exits 1.
    """
    controller = _component("controller", controller, controller_image)
    worker = _component("worker", worker, worker_image)
    logging.basicConfig(level=logging.WARNING)
    install_signal_handlers(_STOP_SIGNALS)
    if all_ == (name is not None):
        err.print("[red]give a scenario NAME or --all[/] (`nanogrid-harness scenarios` lists them)")
        raise typer.Exit(2)
    chosen = list(load_catalogue().values()) if all_ else _chosen(str(name))
    many = all_ or len(chosen) > 1
    root = out if out is not None and many else Path("reports")

    def bundle(scenario: Scenario) -> Path:
        return out if out is not None and not many else root / scenario.name

    external = ExternalOptions(redis_url, aws_endpoint_url, region)
    outcomes = _replay_with_progress(
        chosen, bundle, lang, lambda d: _backend(backend, d, external), (controller, worker)
    )
    _print_outcomes(outcomes, bundle)
    if any(o.problems for o in outcomes):
        raise typer.Exit(1)


@app.command("report")
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="a bundle written by `replay`")],
    lang: LangOption = "en",
) -> None:
    """Re-render the reports of a stored run from its evidence alone."""
    try:
        files = render_bundle(run_dir, lang)
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    for path in files.values():
        print(path)


def _chosen(name: str) -> list[Scenario]:
    """A catalogue scenario by name, or the scenarios of a .py file or folder."""
    path = Path(name)
    if name.endswith(".py") or path.is_dir():
        try:
            return load_path(path)
        except ValueError as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
    return [_find(name)]


def _component_option(values: list[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            err.print(f"--component wants NAME=PATH (e.g. worker=logs/worker.log), got {value!r}")
            raise typer.Exit(2)
        out[name] = Path(path)
    return out


def _date_option(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        err.print(f"--date wants YYYY-MM-DD (the day of time-only log lines), got {value!r}")
        raise typer.Exit(2) from exc


@app.command("diagnose")
def diagnose_command(
    evidence: Annotated[
        list[Path],
        typer.Argument(
            help="run directories or bundles, and any files or folders of evidence: log "
            "files (JSON lines or text), OTLP / Jaeger JSON, result and response JSON"
        ),
    ],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write the verdict JSON here")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="write the report set here (report.md, report.html, ...)"),
    ] = None,
    component: Annotated[
        list[str] | None,
        typer.Option(
            "--component",
            metavar="NAME=PATH",
            help="which component wrote a file or folder, when its content does not say",
        ),
    ] = None,
    day: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help="the day of time-only log lines"),
    ] = None,
    patterns: Annotated[
        list[Path] | None,
        typer.Option(
            "--patterns",
            metavar="FILE",
            help="a TOML file of wording rules (regex -> event), tried before the built-in",
        ),
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="a healthy run directory to compare with")
    ] = None,
    lang: LangOption = "en",
) -> None:
    """Diagnose from evidence alone: stored runs, or the logs and files of a real incident.

    Prints each case's causes, the memo's hypotheses when a request timed out, and the
    evidence's own inconsistencies. Exit status 2 when the evidence cannot be read."""
    from harness.incident import diagnose_inputs, document, write_bundle
    from harness.ingest import IngestError

    components = _component_option(component or [])
    try:
        base = load(baseline) if baseline is not None else None
        cases = diagnose_inputs(
            evidence,
            components=components,
            date=_date_option(day),
            patterns=patterns or [],
            baseline=base,
        )
    except (FileNotFoundError, ValueError, IngestError) as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc
    for case in cases:
        diagnosis = case.diagnosis
        causes = ", ".join(v.code for v in diagnosis.causes()) or "none"
        follows = ", ".join(
            f"{v.code} (from {', '.join(v.caused_by)})" for v in diagnosis.consequences()
        )
        print(
            f"{case.scenario} / {case.variant}: client saw {diagnosis.client_status or '-'}; "
            f"CAUSE {causes}" + (f"; CONSEQUENCE {follows}" if follows else "")
        )
        for hypothesis in diagnosis.hypotheses:
            print(f"  {hypothesis.id} {hypothesis.title}: {hypothesis.verdict.status}")
        for found in diagnosis.inconsistencies:
            print(f"  inconsistent evidence: {found.to_dict()['text']}")
    if out is not None:
        files = write_bundle(out, cases, lang)
        err.print(f"reports written to {out}: {', '.join(sorted(files))}")
    if json_out is not None:
        write_document(json_out, document(cases))
        err.print(f"verdict JSON written to {json_out}")


@app.command("doctor")
def doctor_command(
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env",
            metavar="FILE",
            help="read the settings from this file of KEY=value lines (what `up` prints) "
            "instead of the environment",
        ),
    ] = None,
    function: Annotated[
        str | None,
        typer.Option(metavar="ID", help="also check this function's DynamoDB item and S3 code"),
    ] = None,
    controller: Annotated[
        str | None,
        typer.Option(metavar="URL", help="the controller's base URL (default: CONTROLLER_URL)"),
    ] = None,
    connect_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.01, help="seconds per connect (default: NANOGRID_REDIS_CONNECT_TIMEOUT, 2)"
        ),
    ] = None,
    read_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.01,
            help="seconds per reply, and for the pub/sub round trip (default: "
            "NANOGRID_REDIS_SOCKET_TIMEOUT, 5)",
        ),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json", metavar="FILE", help="also write the result JSON here ('-': print only it)"
        ),
    ] = None,
) -> None:
    """Check every endpoint the platform uses, from this host: one line per check, with its
    time and, when it fails, the fix. Read-only. Exit 0 only when every check passed."""
    from harness import doctor

    logging.basicConfig(level=logging.WARNING)
    try:
        source = doctor.read_env_file(env_file) if env_file is not None else os.environ
        config = doctor.DoctorConfig.from_env(
            source,
            isolated=env_file is not None,
            controller_url=controller,
            function_id=function,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
    except doctor.ConfigError as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc
    report = doctor.run_doctor(config)
    if json_out is not None and str(json_out) == "-":
        print(doctor.to_json(report))
        raise typer.Exit(report.exit_code)
    doctor.render(report, Console(highlight=False))
    if json_out is not None:
        json_out.write_text(doctor.to_json(report) + "\n", encoding="utf-8")
        err.print(f"doctor JSON written to {json_out}")
    raise typer.Exit(report.exit_code)


@app.command("accuracy")
def accuracy_command(
    names: Annotated[
        list[str] | None, typer.Argument(help="scenarios to replay (default: the catalogue)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="keep the run directories here (default: a temp dir)")
    ] = None,
) -> None:
    """Replay scenarios, diagnose each run blind (no fault ledger, no declaration, no
    baseline) and grade it against the scenario: a table, the totals last."""
    logging.basicConfig(level=logging.WARNING)
    install_signal_handlers(_STOP_SIGNALS)
    chosen = [s for n in names for s in _chosen(n)] if names else list(load_catalogue().values())
    with contextlib.ExitStack() as stack:
        root = out or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="accuracy-")))
        outcomes = _replay_with_progress(
            chosen, lambda s: root / s.name, "en", lambda d: _backend(BackendName.embedded, d)
        )
        by_name = {s.name: s for s in chosen}
        grades = [
            grade(o.scenario, by_name[o.scenario].variant(o.variant), load(o.run_dir))
            for o in outcomes
        ]
    _print_grades(grades)
    if not all(g.exact for g in grades):
        raise typer.Exit(1)


def _print_grades(grades: list[Grade]) -> None:
    table = Table(title="Blind diagnosis accuracy")
    for column in ("scenario", "variant", "expected", "confirmed", "exact"):
        table.add_column(column)
    for g in grades:
        confirmed = ", ".join(g.causes) + (
            f" (+ {', '.join(g.consequences)})" if g.consequences else ""
        )
        table.add_row(
            g.scenario, g.variant, ", ".join(g.expected), confirmed, "yes" if g.exact else "NO"
        )
    Console(width=160).print(table)
    for g in grades:
        for problem in g.problems:
            print(f"{g.scenario} / {g.variant}: {problem}")
    print(totals(grades))


def _find(name: str) -> Scenario:
    try:
        return find(name)
    except KeyError as exc:
        err.print(f"[red]{exc.args[0]}[/]")
        raise typer.Exit(2) from exc


def _replay_with_progress(
    chosen: list[Scenario],
    bundle: Callable[[Scenario], Path],
    lang: str,
    backend: Callable[[Path], Backend],
    commands: tuple[str | None, str | None] = (None, None),
) -> list[Outcome]:
    total = sum(len(s.variants) for s in chosen)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("starting the embedded stack", total=total)
        started: list[str] = []

        def on_variant(scenario: Scenario, variant: Variant) -> None:
            if started:
                progress.advance(task)
            started.append(variant.name)
            progress.update(task, description=f"{scenario.name} / {variant.name}")

        outcomes = replay(chosen, bundle, lang, on_variant, backend, *commands)
        progress.update(task, completed=total, description="done")
    return outcomes


def _print_outcomes(outcomes: list[Outcome], bundle: Callable[[Scenario], Path]) -> None:
    """One line per variant: what the client saw, the confirmed verdicts, the checks."""
    for o in outcomes:
        checks = "ok" if not o.problems else "CHECK FAILED: " + "; ".join(o.problems)
        print(
            f"{o.scenario} / {o.variant}: client saw {o.client_status or '-'}; "
            f"VERDICT {', '.join(o.confirmed) or 'none'} [{checks}]"
        )
    for directory in sorted({str(o.run_dir.parent) for o in outcomes}):
        print(f"report: {Path(directory) / 'report.md'} (and report.html, verdict.json)")


# --- conformance: components under test (issue 13) --------------------------------------


@app.command("conformance")
def conformance_command(
    controller: ControllerOption = None,
    worker: WorkerOption = None,
    controller_image: ControllerImageOption = None,
    worker_image: WorkerImageOption = None,
    out: Annotated[
        Path | None, typer.Option(help="report directory (default runs/conformance-<time>)")
    ] = None,
) -> None:
    """Check the platform's invariants on the stack with the given components (a command,
    or an image run on the host network; the reference when none is given); one PASS/FAIL
    line per invariant, exit 1 on a FAIL."""
    controller = _component("controller", controller, controller_image)
    worker = _component("worker", worker, worker_image)
    from harness import conformance
    from harness.scenario.runner import ScenarioHarness

    logging.basicConfig(level=logging.WARNING)
    install_signal_handlers(_STOP_SIGNALS)
    root = _run_dir(out, "conformance")
    components = {k: v for k, v in (("controller", controller), ("worker", worker)) if v}
    with ScenarioHarness(root, controller_command=controller, worker_command=worker) as harness:
        verdicts = conformance.check(
            harness, root / "runs", on_scenario=lambda name: err.print(f"running {name}")
        )
    for line in conformance.render_lines(verdicts):
        print(line)
    print(conformance.summary(verdicts))
    print(f"report: {conformance.write_report(root, verdicts, components)}")
    if not all(v.finding.passed for v in verdicts):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
