"""The ``workers`` check of ``/health``: live workers and what each one's runtime isolates."""

from __future__ import annotations

from nanogrid.controller.health import workers_check

ISOLATED = {"network": True, "processes": True, "filesystem": True}


def beat(worker_id: str, **isolation: bool) -> dict[str, object]:
    return {"workerId": worker_id, "runtime": "process", "pid": 1, "isolation": isolation}


def test_each_workers_isolation_is_shown() -> None:
    report = workers_check([beat("w1", **ISOLATED), beat("w2", **ISOLATED)], min_workers=1)
    assert report["ok"] is True
    assert report["ids"] == ["w1", "w2"]
    assert report["isolation"] == {"w1": ISOLATED, "w2": ISOLATED}
    assert "warning" not in report


def test_a_worker_without_filesystem_isolation_is_named_but_counts() -> None:
    lacking = {**ISOLATED, "filesystem": False}
    old = {"workerId": "w3", "runtime": "process", "pid": 3}  # a heartbeat from before the flags
    report = workers_check([beat("w1", **ISOLATED), beat("w2", **lacking), old], min_workers=3)
    assert (report["ok"], report["live"]) == (True, 3)
    assert report["warning"] == "functions are not fully isolated on: w2 (filesystem); w3 (unknown)"


def test_too_few_workers_is_an_error() -> None:
    report = workers_check([beat("w1", **ISOLATED)], min_workers=2)
    assert report["ok"] is False
    assert report["error"] == "1 live worker(s), 2 required"
