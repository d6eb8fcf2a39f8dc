"""NanoGrid: a small serverless-function platform.

The Controller (:mod:`nanogrid.controller`) accepts zip uploads and ``/run`` requests; the
Worker Agent (:mod:`nanogrid.worker`) executes them and publishes results over Redis.
"""

__version__ = "0.1.0"
