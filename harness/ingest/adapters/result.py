"""Results and responses: what a client saw, read as :class:`~harness.evidence.CallRecord`.

==================  =================================================================
published result    the worker's result (the memo's field names): ``requestId``,
                    ``functionId``, ``status`` SUCCESS or FAILED, ``exitCode``,
                    ``stdout``, ``stderr``, ``durationMillis``... It is read as a
                    ``fetch`` (what ``GET /runs/{id}`` returns: the result as stored),
                    unless its file is attributed to the controller: then it is the
                    controller's answer to ``/run``, a ``run``.
/run answer         ``{"status": "TIMEOUT", "message": "Execution timed out"}`` (and
                    perhaps ``requestId``, ``stage``, ``deadlineSeconds``,
                    ``resultUrl``), or the error shape ``{"error": {"code", "message"}}``:
                    a ``run``.
run in flight       ``{"requestId", "stage"}`` without a status (``GET /runs/{id}``): a
                    ``fetch``.
call record         a run directory's ``results.jsonl`` line (``kind``, ``body``,
                    ``startNs``, ``endNs``...): as it is.
==================  =================================================================

A file holds one such object (possibly pretty-printed), a JSON array of them, or one per
line. A body says nothing of the HTTP status or of when it was answered: ``httpStatus``
is None and ``startNs`` / ``endNs`` are 0, which the analysis reads as *unknown*
(:attr:`harness.analysis.facts.RequestFacts.start_ns` falls back to the spans' times).
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Iterator, Mapping
from typing import Any

from harness.evidence import CallRecord
from harness.ingest import jsontext
from harness.ingest.adapters.base import Context, json_line
from harness.ingest.records import CallEntry, Record, Unparsed
from harness.ingest.source import Source

TERMINAL = ("SUCCESS", "FAILED")
WORKER_KEYS = ("exitCode", "stdout", "stderr", "durationMillis", "peakMemoryBytes", "errorType")
ANSWER_KEYS = ("deadlineSeconds", "resultUrl")
CONTROLLER = "controller"
_CALL_FIELDS = {f.name for f in dataclasses.fields(CallRecord)}


class ResultAdapter:
    name = "result-json"
    formats = "a published result or a /run response (JSON, one object, array or lines)"

    def sniff(self, source: Source) -> int:
        document = source.document()
        if document is not None:
            bodies = document if isinstance(document, list) else [document]
            known = bool(bodies) and all(classify(b, "") is not None for b in bodies)
            return len(source.head) if known else 0
        return sum(1 for text in source.head if _line_call(text, source) is not None)

    def read(self, source: Source, ctx: Context) -> Iterator[Record]:
        document = source.document()
        if document is not None:
            source.take_document()
            for body in document if isinstance(document, list) else [document]:
                yield _entry(0, body, ctx, reprlib.repr(body))
            return
        for line in source.lines():
            body = json_line(source, line)
            if isinstance(body, Unparsed):
                yield body
                continue
            yield _entry(line.number, body, ctx, line.text)


def _line_call(text: str, source: Source) -> CallEntry | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        body = jsontext.loads(text, source.limits.json_depth)
    except jsontext.NotJson:
        return None
    return classify(body, "")


def _entry(number: int, body: Any, ctx: Context, text: str) -> Record:
    found = classify(body, ctx.component)
    if found is None:
        return Unparsed(number, text, "JSON, but neither a result nor a response")
    return CallEntry(number, found.call, found.note)


def classify(body: Any, component: str) -> CallEntry | None:
    """The call a JSON value records (line 0), or None when it is not one."""
    if not isinstance(body, dict):
        return None
    if _is_call_record(body):
        return CallEntry(0, CallRecord(**{k: v for k, v in body.items() if k in _CALL_FIELDS}))
    status = body.get("status")
    if status == "TIMEOUT" or isinstance(body.get("error"), dict) or _has(body, ANSWER_KEYS):
        return CallEntry(0, _call("run", body), "the controller's answer to /run")
    if status in TERMINAL and _has(body, WORKER_KEYS):
        if component == CONTROLLER:
            return CallEntry(0, _call("run", body), "a result, as the controller answered /run")
        note = (
            "a published result, read as GET /runs/{id} would return it (name the file "
            "controller-*.json or pass it as the controller's if it was the /run answer)"
        )
        return CallEntry(0, _call("fetch", body), note)
    if status is None and isinstance(body.get("requestId"), str) and "stage" in body:
        return CallEntry(0, _call("fetch", body), "a run in flight (GET /runs/{id})")
    return None


def _is_call_record(body: Mapping[str, Any]) -> bool:
    return (
        isinstance(body.get("kind"), str)
        and isinstance(body.get("body"), dict)
        and all(isinstance(body.get(k), int) for k in ("startNs", "endNs"))
        and all(isinstance(body.get(k), str | None) for k in ("functionId", "requestId"))
        and isinstance(body.get("httpStatus"), int | None)
        and isinstance(body.get("error"), str | None)
    )


def _call(kind: str, body: dict[str, Any]) -> CallRecord:
    rid, fid = body.get("requestId"), body.get("functionId")
    return CallRecord(
        kind=kind,
        functionId=fid if isinstance(fid, str) else None,
        requestId=rid if isinstance(rid, str) and rid else None,
        httpStatus=None,
        body=body,
        startNs=0,
        endNs=0,
    )


def _has(body: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    return any(key in body for key in keys)
