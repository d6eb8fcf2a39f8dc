"""Work a worker does after a result is delivered, off the path to its next task.

Once a result is stored and published the caller has it; deleting the SQS message and
sending the CloudWatch metrics only delay the worker's next receive (two AWS calls). A
:class:`Background` runs such actions in one thread, in order, each in the context it was
submitted from (so its spans stay in the request's trace). Its queue is bounded: when it is
full the submitter runs the action itself, so a slow dependency slows the worker down
instead of piling up work. :meth:`Background.close` runs what is still queued.

::

    background = Background("finish", max_pending=64)
    background.submit(lambda: delete(receipt))
    background.close()          # at shutdown: every queued action has run
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("nanogrid.worker")

Action = Callable[[], None]


class Background:
    """Runs submitted actions in a daemon thread; ``max_pending=0`` runs them inline."""

    def __init__(self, name: str = "background", max_pending: int = 64) -> None:
        self.max_pending = max_pending
        self._queue: queue.Queue[tuple[contextvars.Context, Action] | None] = queue.Queue(
            max_pending
        )
        self._thread: threading.Thread | None = None
        if max_pending > 0:
            self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
            self._thread.start()

    @classmethod
    def inline(cls) -> Background:
        """A Background that runs each action at once, in the submitter's thread."""
        return cls(max_pending=0)

    def submit(self, action: Action) -> None:
        """Queue ``action`` with a copy of the current context; run it here if the queue is full."""
        context = contextvars.copy_context()
        if self._thread is not None and self._thread.is_alive():
            try:
                self._queue.put_nowait((context, action))
                return
            except queue.Full:
                log.warning("background queue full (%d): running inline", self.max_pending)
        _run(context, action)

    def join(self) -> None:
        """Block until every action submitted so far has run."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.join()

    def close(self, timeout: float = 30.0) -> None:
        """Run what is queued, then stop the thread (waits at most ``timeout``)."""
        if self._thread is None:
            return
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("background actions still running after %.0fs at close", timeout)
        self._thread = None

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                _run(*item)
            finally:
                self._queue.task_done()


def _run(context: contextvars.Context, action: Action) -> None:
    # A deliberate boundary: a failing background action is logged, never raised into the
    # worker's loop (the actions handle their own dependency errors already).
    try:
        context.run(action)
    except Exception:
        log.exception("background action failed")
