"""Failure scenarios: declared in ``scenarios/``, run on a proxied stack, checked on evidence."""

from harness.scenario.model import PATHS, Expect, FaultSpec, Scenario, Variant, Workload, single

__all__ = ["PATHS", "Expect", "FaultSpec", "Scenario", "Variant", "Workload", "single"]
