"""Rules about the code package: INVALID_PACKAGE and UPLOAD_REJECTED."""

from __future__ import annotations

from harness.analysis.facts import RequestFacts, RunFacts
from harness.analysis.model import EvidenceItem, Verdict
from harness.analysis.rules.base import (
    CONFIRMED,
    RULED_OUT,
    UNKNOWN,
    at,
    call_item,
    log_item,
    phrase,
    span_item,
    verdict,
)
from nanogrid.telemetry import semconv as sc

SMALL_ZIP_BYTES = 100


class InvalidPackage:
    """An empty or unusable archive reached a worker."""

    code = "INVALID_PACKAGE"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        witnesses = [item for req in facts.requests for item in self._witnesses(facts, req)]
        if witnesses:
            first = min(i.ts_ns for i in witnesses)
            en = "the worker found the archive unusable at {ts}"
            return verdict(
                self.code, CONFIRMED, witnesses, [phrase("invalid.because", en, ts=at(first))]
            )
        if any(
            r.named(sc.SPAN_EXECUTE) or r.events(sc.PACKAGE_EXTRACTED, sc.PACKAGE_CACHED)
            for r in facts.requests
        ):
            en = "every worker extracted the archive and ran the function"
            return verdict(self.code, RULED_OUT, [], [phrase("invalid.ran", en)])
        en = "no worker evidence of downloading or extracting the package"
        return verdict(self.code, UNKNOWN, [], [phrase("invalid.no_worker", en)])

    @staticmethod
    def _witnesses(facts: RunFacts, req: RequestFacts) -> list[EvidenceItem]:
        """The unusable-archive evidence of one request; empty when there is none."""
        logs = req.events(sc.PACKAGE_INVALID)
        spans = [s for s in req.named(sc.SPAN_EXTRACT) if s.is_error]
        typed = (req.published_result or {}).get("errorType") == "INVALID_PACKAGE"
        if not (logs or spans or typed):
            return []
        items = [log_item(facts, line) for line in logs]
        items += [span_item(facts, s, f"validate and extract: {s.status_message}") for s in spans]
        for span in req.named(sc.SPAN_DOWNLOAD):
            size = int(span.attributes.get(sc.ZIP_BYTES, SMALL_ZIP_BYTES))
            if size < SMALL_ZIP_BYTES:
                items.append(span_item(facts, span, f"download: {size} bytes"))
        if typed:
            items.append(call_item(facts, req.fetch or req.call))
        return items


class UploadRejected:
    """The controller refused an upload."""

    code = "UPLOAD_REJECTED"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        uploads = facts.uploads
        refused = [c for c in uploads if c.httpStatus is not None and 400 <= c.httpStatus < 500]
        logs = facts.events(sc.UPLOAD_REFUSED)
        if refused or logs:
            items = [call_item(facts, c) for c in refused[:1]]
            items += [log_item(facts, line) for line in logs[:2]]
            reason = next((str(line.get(sc.F_REASON)) for line in logs), None)
            if refused:
                error = refused[0].body.get("error", {})
                if isinstance(error, dict):
                    reason = error.get("reason") or error.get("code") or reason
            first = min(i.ts_ns for i in items)
            because = [
                phrase(
                    "upload.refused",
                    "the controller refused an upload ({reason}) at {ts}",
                    reason=reason or "?",
                    ts=at(first),
                )
            ]
            return verdict(self.code, CONFIRMED, items, because, reason=reason)
        if uploads:
            because = [phrase("upload.accepted", "every upload was accepted ({n})", n=len(uploads))]
            return verdict(
                self.code, RULED_OUT, [call_item(facts, c) for c in uploads[:1]], because
            )
        if stored := facts.events(sc.UPLOAD_STORED):
            because = [phrase("upload.accepted", "every upload was accepted ({n})", n=len(stored))]
            return verdict(self.code, RULED_OUT, [log_item(facts, stored[0])], because)
        because = [phrase("upload.none", "no upload was seen: the code reached S3 another way")]
        return verdict(self.code, UNKNOWN if not facts.requests else RULED_OUT, [], because)
