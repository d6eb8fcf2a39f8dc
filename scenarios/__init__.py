"""The failure catalogue: one module per scenario, each declaring ``SCENARIO``.

Run them with ``pytest scenarios/`` (or one: ``pytest scenarios/test_NAME.py``), list them
with ``nanogrid-harness scenarios`` and replay one with ``nanogrid-harness replay NAME``.
"""
