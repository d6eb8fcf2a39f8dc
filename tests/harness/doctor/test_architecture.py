"""The doctor works from endpoints alone: it imports no live harness machinery."""

from __future__ import annotations

from tests.test_architecture import LIVE, imports


def test_the_doctor_uses_endpoints_never_harness_internals():
    offenders = {
        f: sorted(n for n in names if n.startswith((*LIVE, "harness.faults", "harness.analysis")))
        for f, names in imports("harness/doctor").items()
    }
    assert {f: n for f, n in offenders.items() if n} == {}
