"""A test's run: the function ids it makes from test names."""

from __future__ import annotations

from harness.pytest_plugin.session import _slug


def test_function_ids_from_test_names_are_valid():
    assert _slug("test_x[a b/c]") == "test_x-a-b-c"
    assert _slug("[]") == "pytest"
    assert _slug("_private") == "private"
