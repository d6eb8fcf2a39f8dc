"""The catalogue's proxied stack, for property tests that run outside ``pytest scenarios/``.

``pytest scenarios/`` must stay within its time budget, so the random fault schedules live
here and get a stack of their own (the same fixture, which checks no process is left).
"""

from scenarios.conftest import scenario_harness

__all__ = ["scenario_harness"]
