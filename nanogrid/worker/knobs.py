"""Worker behaviour knobs, for failure scenarios. Off by default.

==================================  =====================================================
environment variable                effect
==================================  =====================================================
``NANOGRID_KNOB_CRASH_MARKER``      path of a marker file: when it does not exist yet, the
                                    worker creates it and kills itself (SIGKILL) while the
                                    function runs; a worker crash mid-run, exactly once
``NANOGRID_KNOB_SLOW_START``        seconds the worker waits before its first poll
``NANOGRID_KNOB_SHARED_DIR``        a folder every sandboxed function may write (at its
                                    own path): a test's ledger of executions, written by
                                    the functions themselves; a hole in the sandbox
==================================  =====================================================
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nanogrid.telemetry import semconv as sc

log = logging.getLogger("nanogrid.worker")


@dataclass(frozen=True)
class WorkerKnobs:
    crash_marker: Path | None = None
    slow_start: float = 0.0
    shared_dir: Path | None = None
    crash_after: float = 0.3  # seconds into the run

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerKnobs:
        env = os.environ if env is None else env
        marker = env.get("NANOGRID_KNOB_CRASH_MARKER")
        shared = env.get("NANOGRID_KNOB_SHARED_DIR")
        return cls(
            crash_marker=Path(marker) if marker else None,
            slow_start=float(env.get("NANOGRID_KNOB_SLOW_START") or 0),
            shared_dir=Path(shared) if shared else None,
        )

    def before_run(self, request_id: str) -> None:
        """Arms the crash knob: the worker dies ``crash_after`` seconds into this run."""
        if self.crash_marker is None:
            return
        try:
            fd = os.open(self.crash_marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, request_id.encode())
        os.close(fd)
        log.warning(
            "crash knob armed: this worker dies %.1fs into %s",
            self.crash_after,
            request_id,
            extra={sc.EVENT: sc.KNOB_ACTIVE, sc.F_KNOB: "crash", "value": self.crash_after},
        )
        timer = threading.Timer(self.crash_after, os.kill, (os.getpid(), signal.SIGKILL))
        timer.daemon = True
        timer.start()
