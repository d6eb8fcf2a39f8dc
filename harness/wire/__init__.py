"""Wire evidence: each fault proxy decodes the protocol on its path and records what passed.

A tap per proxied connection (:mod:`harness.wire.tap`) sees every chunk as it was sent,
before any fault acts on it, and records :class:`WireEvent` values (Redis commands and
replies, pub/sub confirmations and messages, HTTP requests named by AWS operation and their
responses) to a :class:`WireRecorder`. It never changes a forwarded byte, and nothing it
does can raise into the proxy. Example::

    wire = WireRecorder()
    with FaultProxy("worker->redis", "127.0.0.1", 6379, protocol="redis", wire=wire):
        ...
    wire.write_jsonl(run_dir / "wire.jsonl")

::

    model.py  the events, their kinds and detail keys (constants), the recorder
    tap.py    the Tap protocol, the byte-counting tap, the guard, make_tap()
    resp.py   RESP2/RESP3 decoder and RedisTap
    http.py   HTTP/1.1 decoder, AWS operation naming and HttpTap

Only the model is imported here: reading evidence loads no decoder.
"""

from harness.wire.model import Emitter, Sink, WireEvent, WireRecorder

__all__ = ["Emitter", "Sink", "WireEvent", "WireRecorder"]
