"""The ``nanogrid`` pytest plugin as a user gets it: registered by the package, lazy, and
its fixtures on a real stack, here and in a project outside the repository."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from contextlib import closing
from pathlib import Path

import boto3
import pytest

import harness.pytest_plugin
from harness.evidence import FAULTS_FILE, TRACE_FILE, load
from harness.faults import EventKind, Fault, FaultKind
from harness.provision import client_kwargs
from harness.pytest_plugin.errors import DeployFailed
from harness.pytest_plugin.session import NanoGridRun
from harness.pytest_plugin.stack import session_stack
from harness.stack import wait_until
from harness.wire.model import DETAIL_TRANSACTION, KIND_REPLY, KIND_SUBSCRIBED
from nanogrid import defaults
from nanogrid.telemetry import semconv as sc

ROOT = Path(__file__).resolve().parents[2]
GREET = "import json, sys\nprint('hello', json.load(sys.stdin)['name'])\n"


def test_the_package_registers_the_plugin_by_its_entry_point(pytestconfig):
    [entry] = importlib.metadata.entry_points(group="pytest11", name="nanogrid")
    assert entry.value == "harness.pytest_plugin"
    assert pytestconfig.pluginmanager.get_plugin("nanogrid") is harness.pytest_plugin


def test_importing_the_plugin_starts_and_loads_no_live_machinery():
    code = (
        "import os, sys, threading, harness.pytest_plugin\n"
        "live = ('harness.scenario', 'harness.stack', 'harness.procs', 'harness.env', "
        "'harness.faults.proxy', 'boto3', 'redis', 'httpx')\n"
        "print(sorted(m for m in sys.modules if m.startswith(live)))\n"
        "print(threading.active_count())\n"
        "from harness.procs import descendants\n"
        "print(len(descendants(os.getpid())))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "1", "0"]


# --- the fixtures on the session stack ---------------------------------------------------


@pytest.fixture(scope="module")
def nanogrid_stack(nanogrid_options, tmp_path_factory):
    """The plugin's stack, for this module only: a full run carries no idle stack through
    the suites after it (the project outside the repository uses the session one)."""
    root = tmp_path_factory.mktemp("plugin-stack")
    with session_stack(nanogrid_options, root, os.environ) as stack:
        yield stack


def test_a_run_is_deployed_answered_and_traced_in_order(deploy_function, run_function, evidence):
    function_id = deploy_function({"main.py": GREET})
    call = run_function(function_id, {"name": "ci"})
    assert call.status == "SUCCESS", call.body
    assert call.body["stdout"] == "hello ci\n"
    request = evidence.wait_complete(call.requestId, deadline=15)
    subscribe = request.span("subscribe *", {sc.MESSAGING_DESTINATION: f"result:{call.requestId}"})
    publish = request.span("publish *", service="nanogrid-worker")
    request.assert_before(subscribe, publish)
    confirmed = request.wire_event(KIND_SUBSCRIBED, path="controller->redis")
    # The PUBLISH inside MULTI has two replies: its QUEUED, then its result from EXEC.
    published = request.wire_event(KIND_REPLY, name="PUBLISH", detail={DETAIL_TRANSACTION: True})
    request.assert_before(confirmed, published)
    assert request.log(sc.RESULT_PUBLISHED)[sc.F_REQUEST_ID] == call.requestId


def test_redis_unreachable_for_the_controller_answers_503(
    deploy_function, run_function, faults, evidence
):
    function_id = deploy_function({"main.py": GREET})
    sg = Fault("sg-drops-syn", FaultKind.CONNECT_TIMEOUT)
    faults.on("controller->redis", sg, fresh_connections=True)
    call = run_function(function_id, {"name": "ci"})
    assert call.httpStatus == 503, call.body
    request = evidence.wait_complete(call.requestId, deadline=15)
    assert request.select("send *") == []  # nothing was enqueued
    assert request.span("subscribe *").is_error
    added = [e for e in evidence.load().ledger if e.event is EventKind.FAULT_ADDED]
    assert [(e.proxy, e.fault) for e in added] == [("controller->redis", "sg-drops-syn")]


def test_completeness_waits_for_the_worker_after_the_answer(
    deploy_function, run_function, faults, evidence, nanogrid_stack
):
    function_id = deploy_function({"main.py": GREET})
    slow = Fault("slow-metrics", FaultKind.LATENCY, latency_ms=300)
    with faults.on("worker->cloudwatch", slow):
        call = run_function(function_id, {"name": "ci"})
        assert call.status == "SUCCESS", call.body
        # The answer comes before the worker's metrics: the trace is not complete yet.
        request = evidence.wait_complete(call.requestId, deadline=15)
    assert not nanogrid_stack.network.proxies["worker->cloudwatch"].faults
    metrics = request.span("CloudWatch.PutMetricData")
    assert metrics.duration_ns >= 300_000_000
    request.assert_before(request.span("publish *"), metrics)
    assert request.span("process *").ended


def test_a_refused_upload_fails_the_deploy_with_the_controllers_answer(
    deploy_function, nanogrid_run
):
    with pytest.raises(DeployFailed) as refused:
        deploy_function({"app.py": "print('no main')\n"})
    assert refused.value.status == 400
    assert refused.value.body["error"]["code"]
    call = nanogrid_run.upload({"app.py": "print('no main')\n"})
    assert call.httpStatus == 400


def test_the_end_of_a_run_lifts_its_faults_and_deletes_its_functions_on_failure(
    nanogrid_stack, tmp_path
):
    deployed = []

    def failing_test() -> None:
        with NanoGridRun(nanogrid_stack, tmp_path / "run", "test_cleanup") as run:
            deployed.append(run.deploy({"main.py": GREET}))
            run.faults.on("worker->cloudwatch", Fault("cw-down", FaultKind.DOWN))
            raise RuntimeError("the test failed")

    with pytest.raises(RuntimeError, match="the test failed"):
        failing_test()
    [function_id] = deployed
    assert not any(p.faults for p in nanogrid_stack.network.proxies.values())
    kwargs = client_kwargs(nanogrid_stack.stack.endpoints)
    with closing(boto3.client("s3", **kwargs)) as s3:
        listed = s3.list_objects_v2(Bucket=defaults.BUCKET, Prefix=f"functions/{function_id}/")
    assert listed.get("KeyCount") == 0
    with closing(boto3.client("dynamodb", **kwargs)) as table:
        item = table.get_item(TableName=defaults.TABLE, Key={"functionId": {"S": function_id}})
    assert "Item" not in item
    assert not any(w.alive for w in nanogrid_stack.stack.workers)  # the next test restarts them
    # The window closed before the faults were lifted: the removal is not the run's evidence.
    ledger = load(tmp_path / "run").ledger
    assert [e.event for e in ledger if e.fault == "cw-down"] == [
        EventKind.FAULT_ADDED,
        EventKind.FAULT_ACTIVE,
    ]
    assert (tmp_path / "run" / FAULTS_FILE).exists()
    assert (tmp_path / "run" / TRACE_FILE).exists()


# --- a project outside the repository -------------------------------------------------

PROJECT_TEST = """
from harness.faults import Fault, FaultKind
from nanogrid.telemetry import semconv as sc

GREET = "import json, sys\\nprint('hello', json.load(sys.stdin)['name'])\\n"


def test_greeting(deploy_function, run_function, evidence):
    function_id = deploy_function({"main.py": GREET})
    call = run_function(function_id, {"name": "outside"})
    assert call.status == "SUCCESS", call.body
    assert call.body["stdout"] == "hello outside\\n"
    request = evidence.wait_complete(call.requestId, deadline=20)
    request.assert_before(request.span("subscribe *"), request.span("publish *"))


def test_redis_blocked_for_the_controller(deploy_function, run_function, faults, evidence):
    function_id = deploy_function({"main.py": GREET})
    faults.on(
        "controller->redis", Fault("sg", FaultKind.CONNECT_TIMEOUT), fresh_connections=True
    )
    call = run_function(function_id, {"name": "outside"})
    assert call.httpStatus == 503, call.body
    request = evidence.wait_complete(call.requestId, deadline=20)
    assert request.span("subscribe *", {sc.MESSAGING_SYSTEM: "redis"}).is_error
    assert request.select("send *") == []


def test_a_lost_pushed_result_is_read_from_the_stored_key(
    deploy_function, run_function, faults, evidence
):
    function_id = deploy_function({"main.py": GREET})
    faults.on("controller->redis", Fault("lost", "redis_message_drop", channel="result:*"))
    call = run_function(function_id, {"name": "outside"})
    assert call.status == "SUCCESS", call.body
    request = evidence.wait_complete(call.requestId, deadline=20)
    assert request.span("wait *").attributes[sc.RESULT_SOURCE] == "stored"
    assert request.wire_events("reply", path="worker->redis", name="PUBLISH")
"""
SOURCES = ("pyproject.toml", "README.md", "nanogrid", "harness", "scenarios")
CACHES = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")


def _install_fresh_venv(scratch: Path) -> Path:
    """A new venv (no system site-packages) with the package installed from a copy of the
    sources; the dependencies come from this venv's site-packages through a .pth file."""
    source = scratch / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=CACHES)
        else:
            shutil.copy2(ROOT / name, source / name)
    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q"]
    subprocess.run([*pip, f"{source}/"], check=True, capture_output=True, timeout=240)
    # Written after the install, so pip saw no nanogrid but the one it installed.
    deps = _purelib(venv) / "nanogrid_test_deps.pth"
    deps.write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _purelib(venv: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip())


def _pytest(venv: Path, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "PYTHON")) and k not in ("VIRTUAL_ENV",)
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    argv = [str(venv / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(
        argv, cwd=project, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def _processes_of(venv: Path) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(venv).encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


@pytest.mark.timeout(480)
def test_a_project_outside_the_repository_passes_with_the_installed_plugin():
    with tempfile.TemporaryDirectory(prefix="nanogrid-plugin-") as tmp:
        scratch = Path(tmp)
        venv = _install_fresh_venv(scratch)
        project = scratch / "project"
        project.mkdir()
        (project / "test_mine.py").write_text(textwrap.dedent(PROJECT_TEST))
        basetemp = f"--basetemp={scratch / 'basetemp'}"
        ran = _pytest(venv, project, "--trace-config", "-q", basetemp, "test_mine.py")
        assert ran.returncode == 0, ran.stdout[-6000:] + ran.stderr[-3000:]
        assert "3 passed" in ran.stdout
        # --trace-config: the plugin module came from the new venv, not from this checkout.
        mark = "PLUGIN registered: <module 'harness.pytest_plugin' from "
        [loaded] = [line for line in ran.stdout.splitlines() if line.startswith(mark)]
        assert loaded == f"{mark}'{_purelib(venv)}/harness/pytest_plugin/__init__.py'>"
        off = _pytest(venv, project, "-p", "no:nanogrid", "-q", basetemp, "test_mine.py")
        assert off.returncode == 1, off.stdout[-3000:]
        assert "fixture 'deploy_function' not found" in off.stdout
        assert wait_until(lambda: not _processes_of(venv), timeout=10), _processes_of(venv)
