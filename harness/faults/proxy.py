"""A TCP fault proxy in the spirit of Toxiproxy: no root, no extra binary.

The harness puts one proxy on every network path it controls, so that "Redis blocked for
the Controller but fine for the Worker" is one line. Example::

    ledger = FaultLedger()
    with FaultProxy("controller->redis", "127.0.0.1", redis_port, ledger) as proxy:
        controller_redis_url = f"redis://127.0.0.1:{proxy.listen_port}/0"
        ...
        proxy.add(Fault("sg-blocks-6379", FaultKind.CONNECT_TIMEOUT))

With ``wire=WireRecorder()`` and ``protocol="redis"`` (or ``"http"``), the proxy also
decodes what passes and records it as wire evidence (see :mod:`harness.wire`); the
forwarded bytes stay exactly those sent.

The proxy runs an asyncio loop in a background thread; its public methods are synchronous,
thread-safe and return once the change is in effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar, cast

from harness.faults.errors import InvalidFault, ProxyError, UnknownFault
from harness.faults.kinds.base import Layer, ListenerKind, MessageKind
from harness.faults.ledger import EventKind, FaultLedger
from harness.faults.link import Link
from harness.faults.listener import Listener, ListenerState
from harness.faults.model import Direction, Fault
from harness.faults.schedule import ArmedFault, Phase
from harness.wire.model import PROTOCOLS, WireRecorder
from harness.wire.tap import Tap, make_tap

logger = logging.getLogger(__name__)

CALL_TIMEOUT_S = 10.0
_T = TypeVar("_T")


class FaultProxy:
    """Forwards ``127.0.0.1:listen_port`` to the upstream, applying the installed faults.

    Faults added while connections are open act on them too. Every event goes to ``ledger``
    (a new one if not given). ``stop()`` closes every connection and socket it opened.
    Given a ``wire`` recorder (and ``decode``), each connection's bytes are decoded as
    ``protocol`` (``"redis"``, ``"http"``; None counts bytes only) into wire events. A
    proxy speaking a protocol (and decoding) also frames its messages, for the faults that
    act on them; ``decode=False`` makes it a bytes-only proxy.
    """

    def __init__(
        self,
        name: str,
        upstream_host: str,
        upstream_port: int,
        ledger: FaultLedger | None = None,
        *,
        listen_host: str = "127.0.0.1",
        protocol: str | None = None,
        wire: WireRecorder | None = None,
        decode: bool = True,
    ) -> None:
        if protocol is not None and protocol not in PROTOCOLS:
            raise ProxyError(f"proxy {name!r}: no wire decoder for protocol {protocol!r}")
        self.name = name
        self.protocol = protocol
        self.wire = wire
        self.decode = decode
        self.upstream = (upstream_host, upstream_port)
        self.ledger = ledger if ledger is not None else FaultLedger()
        self.listen_host = listen_host
        self._lock = threading.Lock()
        self._armed: dict[str, ArmedFault] = {}  # replaced, never mutated: readers need no lock
        self._links: dict[int, Link] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_id = 1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._listener: Listener | None = None
        self._scheduler: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._sync_lock = asyncio.Lock()
        self._stopped = False

    def __repr__(self) -> str:
        port = self._listener.port if self._listener else None
        return f"<FaultProxy {self.name!r} :{port} -> {self.upstream[0]}:{self.upstream[1]}>"

    @property
    def listen_port(self) -> int:
        """The port clients connect to; kept for the proxy's life, even while down."""
        if self._listener is None:
            raise ProxyError(f"proxy {self.name!r} is not started")
        return self._listener.port

    @property
    def address(self) -> tuple[str, int]:
        """``(listen_host, listen_port)``."""
        return self.listen_host, self.listen_port

    @property
    def faults(self) -> tuple[Fault, ...]:
        """The installed faults, whatever their phase, in the order added."""
        return tuple(armed.fault for armed in self._armed.values())

    @property
    def connections(self) -> list[int]:
        """Ids of the connections open now."""
        return sorted(list(self._links))

    def start(self) -> FaultProxy:
        """Bind, listen and arm the installed faults; on failure nothing is left running."""
        if self._thread is not None or self._stopped:
            raise ProxyError(f"proxy {self.name!r} was already started; create a new one")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=_run_loop, args=(loop,), name=f"FaultProxy[{self.name}]", daemon=True
        )
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self._call(self._astart())
        except BaseException:
            self._halt_loop()
            raise
        logger.info("fault proxy %s listening on %s", self.name, self.address)
        return self

    def stop(self) -> None:
        """Close every connection and socket and end the thread; idempotent."""
        if self._loop is None:
            return
        try:
            self._call(self._astop())
        finally:
            self._halt_loop()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def message_faults_installed(self) -> bool:
        """Whether a fault on messages is installed, whatever its phase."""
        return any(a.fault.spec.layer is Layer.MESSAGE for a in self._armed.values())

    def add(self, fault: Fault) -> None:
        """Install ``fault``; its schedule starts now (or at ``start()``).

        A fault on messages needs a proxy decoding its protocol (``"redis"``, ``"http"``).
        """
        spec = fault.spec
        if spec.layer is Layer.MESSAGE:
            wants = cast(MessageKind, spec).protocol
            speaks = self.protocol if self.decode else None
            if speaks != wants:
                raise InvalidFault(
                    f"fault {fault.name!r} ({fault.kind}) acts on {wants} messages, but proxy "
                    f"{self.name!r} speaks {speaks or 'bytes only (decode=False)'}"
                )
        armed = ArmedFault(fault)
        with self._lock:
            if fault.name in self._armed:
                raise InvalidFault(f"proxy {self.name!r} already has a fault {fault.name!r}")
            # Recorded before arming, so the ledger never shows a schedule shorter than asked.
            self.ledger.record(
                self.name, EventKind.FAULT_ADDED, fault=fault, detail=fault.to_dict()
            )
            if self._loop is not None:
                armed.arm(time.monotonic())
            self._armed = {**self._armed, fault.name: armed}
        self._resync()

    def remove(self, name: str) -> None:
        """Take the fault ``name`` off; raises :class:`UnknownFault` if there is none."""
        self._drop([name])
        self._resync()

    def clear(self) -> None:
        """Take every fault off."""
        self._drop(list(self._armed))
        self._resync()

    def close_connections(self, reason: str = "closed by the harness") -> None:
        """Close every open connection (both ends), as a restarted client host would see:
        the next request has to connect again, through whatever faults are installed."""
        self._call(self._aclose_links(reason))

    async def _aclose_links(self, reason: str) -> None:
        for link in list(self._links.values()):
            if not link.ending:
                link.close(reason)

    def _drop(self, names: list[str]) -> None:
        with self._lock:
            missing = [name for name in names if name not in self._armed]
            if missing:
                raise UnknownFault(f"proxy {self.name!r} has no fault {missing[0]!r}")
            removed = [self._armed[name] for name in names]
            self._armed = {k: v for k, v in self._armed.items() if k not in names}
        for armed in removed:
            self.ledger.record(self.name, EventKind.FAULT_REMOVED, fault=armed.fault)

    def _resync(self) -> None:
        if self._loop is not None:
            self._call(self._sync(reschedule=True))

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` on the proxy's loop and wait for its result."""
        if self._loop is None or threading.current_thread() is self._thread:
            coro.close()
            raise ProxyError(f"proxy {self.name!r}: not running, or called from its own loop")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout=CALL_TIMEOUT_S)
        except TimeoutError as exc:
            future.cancel()
            raise ProxyError(f"proxy {self.name!r} did not answer in {CALL_TIMEOUT_S} s") from exc

    def _halt_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop, self._listener, self._stopped = None, None, True
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

    # --- on the loop -------------------------------------------------------------------

    async def _astart(self) -> None:
        self._listener = Listener(self.listen_host, self._accept)
        self._listener.start()
        now = time.monotonic()
        for armed in self._armed.values():
            armed.arm(now)
        await self._sync(reschedule=False)
        self._scheduler = asyncio.get_running_loop().create_task(self._schedule_loop())

    async def _astop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler
        async with self._sync_lock:  # not while a change is half applied
            if self._listener is not None:
                await self._listener.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for link in list(self._links.values()):
            link.abandon()
        await asyncio.get_running_loop().shutdown_default_executor()

    async def _schedule_loop(self) -> None:
        """Wake at each fault's next phase change, or when a change is made."""
        while True:
            self._wake.clear()
            due = [t for armed in self._armed.values() if (t := armed.next_change()) is not None]
            timeout = max(0.0, min(due) - time.monotonic()) if due else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            await self._sync(reschedule=False)

    async def _sync(self, *, reschedule: bool) -> None:
        """Bring phases, the listener and open connections in line with the faults."""
        async with self._sync_lock:
            now = time.monotonic()
            for armed in self._armed.values():
                self._advance(armed, now)
            if self._listener is not None:
                await self._listener.set_state(self._listener_state())
            for link in list(self._links.values()):
                self._enforce(link)
        if reschedule:
            self._wake.set()

    def _advance(self, armed: ArmedFault, now: float) -> None:
        phase = armed.phase_at(now)
        if phase is armed.phase:
            return
        if armed.phase is Phase.PENDING:
            armed.phase = Phase.ACTIVE
            self.ledger.record(self.name, EventKind.FAULT_ACTIVE, fault=armed.fault)
            for connection in sorted(self._links):
                armed.claim(connection)
        if phase is Phase.EXPIRED:
            armed.phase = Phase.EXPIRED
            self.ledger.record(self.name, EventKind.FAULT_EXPIRED, fault=armed.fault)

    def _listener_state(self) -> ListenerState:
        """The strongest state the active listener kinds ask for: refusing, stalled, open."""
        states = {
            cast(ListenerKind, a.fault.spec).state
            for a in self._armed.values()
            if a.phase is Phase.ACTIVE and a.fault.spec.layer is Layer.LISTENER
        }
        for state in (ListenerState.REFUSING, ListenerState.STALLED):
            if state in states:
                return state
        return ListenerState.OPEN

    def _enforce(self, link: Link) -> None:
        """Apply the faults that act on a whole connection at once: down, immediate reset."""
        for armed in self._armed.values():
            fault = armed.fault
            if link.ending or armed.phase is not Phase.ACTIVE or not armed.covers(link.id):
                continue
            spec = fault.spec
            if spec.layer is Layer.LISTENER and cast(ListenerKind, spec).closes_open:
                self.ledger.record_hit(self.name, fault, link.id, fault.direction, "close", 0)
                link.close(f"fault {fault.name!r}: {fault.kind}")
        if not link.ending:
            link.on_connect_faults()

    def _accept(self, sock: socket.socket) -> None:
        connection, self._next_id = self._next_id, self._next_id + 1
        protocol = self.protocol if self.decode else None  # not decoding: bytes only
        link = Link(self, connection, sock, self.upstream, self._tap(connection), protocol)
        self._links[connection] = link
        try:
            peer = sock.getpeername()
        except OSError:  # already reset by the client; the link will notice and close
            peer = ("?", 0)
        detail = {"client": f"{peer[0]}:{peer[1]}"}
        self.ledger.record(
            self.name, EventKind.CONNECTION_OPENED, connection=connection, detail=detail
        )
        for armed in self._armed.values():
            if armed.phase is Phase.ACTIVE:
                armed.claim(connection)
        task = asyncio.get_running_loop().create_task(link.run(), name=f"{self.name}#{connection}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _tap(self, connection: int) -> Tap | None:
        if self.wire is None or not self.decode:
            return None
        return make_tap(self.protocol, self.name, connection, self.wire.record)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "proxy %s: %s failed", self.name, task.get_name(), exc_info=task.exception()
            )

    # --- LinkHost ----------------------------------------------------------------------

    def faults_on(self, connection: int, stream: Direction) -> list[ArmedFault]:
        """The faults acting now on ``stream`` of ``connection``."""
        return [armed for armed in self._armed.values() if armed.acts_on(connection, stream)]

    def established(self, link: Link) -> None:
        """Apply whole-connection faults to a link that just connected upstream."""
        self._enforce(link)

    def finished(self, link: Link) -> None:
        """Forget a closed link."""
        self._links.pop(link.id, None)


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()
