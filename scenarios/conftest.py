"""The catalogue runs on the ``nanogrid`` pytest plugin (:mod:`harness.pytest_plugin`).

``run_scenario`` and the session's proxied stack (``nanogrid_stack``, which fails the
session if a process of it is left behind) are the plugin's, as any project installing the
package gets them. ``scenario_harness`` stays as the stack's old name for the property
tests that import it (``tests/properties/conftest.py``).
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("nanogrid"):
        raise pytest.UsageError(
            "the catalogue needs the nanogrid pytest plugin: install the package "
            "(`pip install -e .`, as `make` does) and do not pass -p no:nanogrid"
        )


@pytest.fixture(scope="session")
def scenario_harness(nanogrid_stack):
    """The plugin's session stack, under the name the property tests use."""
    return nanogrid_stack
