"""The failure catalogue: every ``SCENARIO`` declared by a module of the ``scenarios`` package."""

from __future__ import annotations

import importlib
import pkgutil

from harness.scenario.model import Scenario


def load_catalogue() -> dict[str, Scenario]:
    """Scenarios by name, in file order; a module without ``SCENARIO`` is not one."""
    import scenarios

    found: dict[str, Scenario] = {}
    for info in sorted(pkgutil.iter_modules(scenarios.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"scenarios.{info.name}")
        scenario = getattr(module, "SCENARIO", None)
        if isinstance(scenario, Scenario):
            if scenario.name in found:
                raise ValueError(f"two scenarios are named {scenario.name!r}")
            found[scenario.name] = scenario
    return found


def find(name: str) -> Scenario:
    catalogue = load_catalogue()
    if name not in catalogue:
        raise KeyError(
            f"no scenario {name!r}; `nanogrid-harness scenarios` lists them: {', '.join(catalogue)}"
        )
    return catalogue[name]
