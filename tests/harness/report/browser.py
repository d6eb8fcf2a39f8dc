"""Headless Chromium driven over the DevTools protocol on a pipe, with the stdlib alone.

Chromium started with ``--remote-debugging-pipe`` reads protocol messages on its fd 3 and
writes them on fd 4, each a JSON text ended by a NUL byte: no websocket client needed.
Where no ``chromium`` is on PATH the tests using it skip with the reason, unless
``REQUIRE_BROWSER=1`` makes that a failure (CI installs Debian's ``chromium``)::

    with Chromium.start(tmp_path) as browser:
        page = browser.open(report, width=1280, height=900)
        page.evaluate("document.title")
        page.screenshot(tmp_path / "shot.png", full=True)
        assert page.errors == []
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

DEADLINE_S = 30.0


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_browser() -> str:
    """The browser's path; skip (or, with ``REQUIRE_BROWSER=1``, fail) without one."""
    found = chromium_path()
    if found is None:
        skip_or_fail("no chromium on PATH (Debian: apt-get install chromium)")
    return found


def skip_or_fail(problem: str) -> NoReturn:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {problem}")
    pytest.skip(problem)


class ProtocolError(RuntimeError):
    """Chromium answered a command with an error, closed the pipe, or took too long."""


class _Pipe:
    """NUL-framed JSON messages to and from the browser's fds 3 and 4."""

    def __init__(self, to_browser: int, from_browser: int) -> None:
        self._out = os.fdopen(to_browser, "wb", buffering=0)
        self._in = os.fdopen(from_browser, "rb", buffering=0)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str = "", **params: Any) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        while True:
            answer = self.receive()
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise ProtocolError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))
            self.events.append(answer)

    def receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = self._in.read(1 << 16)
            if not chunk:
                raise ProtocolError("the browser closed its pipe")
            self._buffer += chunk
        text, _, self._buffer = self._buffer.partition(b"\0")
        return dict(json.loads(text))

    def wait_for(self, method: str, deadline_s: float = DEADLINE_S) -> dict[str, Any]:
        """The next event named ``method`` (events already read count)."""
        stop = time.monotonic() + deadline_s
        while time.monotonic() < stop:
            for n, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(n)
            self.events.append(self.receive())
        raise ProtocolError(f"no {method} within {deadline_s} s")

    def close(self) -> None:
        self._out.close()
        self._in.close()


@dataclass
class Page:
    """One tab: navigate, evaluate JavaScript, capture; ``errors`` are its console's."""

    pipe: _Pipe
    session: str
    errors: list[str] = field(default_factory=list)

    def _collect(self) -> None:
        keep = []
        for event in self.pipe.events:
            method = event.get("method", "")
            params = event.get("params", {})
            if method == "Runtime.exceptionThrown":
                self.errors.append(str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                self.errors.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                self.errors.append(str(params["entry"].get("text")))
            else:
                keep.append(event)
        self.pipe.events = keep

    def goto(self, url: str) -> None:
        self.pipe.call("Page.navigate", self.session, url=url)
        self.pipe.wait_for("Page.loadEventFired")
        self._collect()

    def evaluate(self, expression: str) -> Any:
        found = self.pipe.call(
            "Runtime.evaluate", self.session, expression=expression, returnByValue=True
        )
        if "exceptionDetails" in found:
            raise ProtocolError(f"{expression[:60]}: {found['exceptionDetails']}")
        self._collect()
        return found.get("result", {}).get("value")

    def screenshot(
        self, path: Path, full: bool = False, clip: dict[str, float] | None = None
    ) -> Path:
        """A PNG of the viewport, the whole page (``full``) or a region (``clip``: x, y,
        width, height in CSS px of the page)."""
        if full:
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.body.scrollHeight]"
            )
            clip = {"x": 0, "y": 0, "width": size[0], "height": size[1]}
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": clip is not None}
        if clip is not None:
            params["clip"] = {**clip, "scale": 1}
        self.pipe.call("Page.bringToFront", self.session)  # a background tab paints no frame
        shot = self.pipe.call("Page.captureScreenshot", self.session, **params)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@dataclass
class Chromium:
    """A headless Chromium process; :meth:`start` stops it on every exit path."""

    process: subprocess.Popen[bytes]
    pipe: _Pipe

    @classmethod
    @contextmanager
    def start(cls, profile: Path) -> Iterator[Chromium]:
        binary = require_browser()
        ours, theirs = os.pipe(), os.pipe()  # (read, write): the browser reads 3, writes 4
        # Its two ends above 9, where putting them on 3 and 4 cannot clobber either; a
        # small Python puts them there and becomes the browser (no preexec_fn in a
        # threaded pytest, and dash's redirections take single-digit fds only).
        reads, writes = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (ours[0], theirs[1]))
        for fd in (ours[0], theirs[1]):
            os.close(fd)
        trampoline = (
            "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4);"
            " os.execv(sys.argv[3], sys.argv[3:])"
        )
        args = [
            sys.executable,
            "-c",
            trampoline,
            str(reads),
            str(writes),
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        log = (profile.parent / f"{profile.name}.log").open("wb")
        process = subprocess.Popen(args, pass_fds=(reads, writes), stdout=log, stderr=log)
        os.close(reads)
        os.close(writes)
        pipe = _Pipe(ours[1], theirs[0])
        try:
            yield cls(process, pipe)
        finally:
            try:
                pipe.call("Browser.close")
            except (ProtocolError, OSError):
                pass  # already gone: the kill below makes sure
            pipe.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()

    def open(self, path: Path, width: int = 1280, height: int = 900) -> Page:
        """A new tab of ``width`` x ``height`` CSS px showing the file ``path``."""
        target = self.pipe.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.pipe.call("Target.attachToTarget", targetId=target, flatten=True)
        page = Page(self.pipe, session["sessionId"])
        for domain in ("Page", "Runtime", "Log"):
            self.pipe.call(f"{domain}.enable", page.session)
        self.pipe.call(
            "Emulation.setDeviceMetricsOverride",
            page.session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 600,
        )
        page.goto(path.resolve().as_uri())
        return page
