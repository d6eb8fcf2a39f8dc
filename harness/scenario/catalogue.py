"""The failure catalogue: every ``SCENARIO`` declared by a module of the ``scenarios`` package."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path

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


def load_path(path: Path) -> list[Scenario]:
    """The scenarios a ``.py`` file declares (``SCENARIO``), or every such file of a folder
    (``test_*.py`` and others, sorted by name); a file without ``SCENARIO`` is skipped in a
    folder and refused alone."""
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if not p.name.startswith(("_", "conftest")))
        found = [s for f in files if (s := _scenario_of(f)) is not None]
        if not found:
            raise ValueError(f"{path} holds no .py file declaring SCENARIO")
        return found
    if path.suffix != ".py" or not path.is_file():
        raise ValueError(f"{path} is neither a .py file nor a folder of them")
    scenario = _scenario_of(path)
    if scenario is None:
        raise ValueError(
            f"{path} declares no SCENARIO: assign a harness.scenario.Scenario (or single(...)) "
            "to a module-level SCENARIO"
        )
    return [scenario]


def _scenario_of(path: Path) -> Scenario | None:
    name = f"nanogrid_user_scenario_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ValueError(f"{path} failed to load: {type(exc).__name__}: {exc}") from exc
    scenario = getattr(module, "SCENARIO", None)
    return scenario if isinstance(scenario, Scenario) else None
