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
        if any(r.named("execute") or r.logs_with("Successfully extracted") for r in facts.requests):
            en = "every worker extracted the archive and ran the function"
            return verdict(self.code, RULED_OUT, [], [phrase("invalid.ran", en)])
        en = "no worker evidence of downloading or extracting the package"
        return verdict(self.code, UNKNOWN, [], [phrase("invalid.no_worker", en)])

    @staticmethod
    def _witnesses(facts: RunFacts, req: RequestFacts) -> list[EvidenceItem]:
        """The unusable-archive evidence of one request; empty when there is none."""
        logs = req.logs_with("[S3][FAIL]") + req.logs_with("No files extracted")
        spans = [s for s in req.named("validate and extract") if s.is_error]
        typed = (req.published_result or {}).get("errorType") == "INVALID_PACKAGE"
        if not (logs or spans or typed):
            return []
        items = [log_item(facts, line) for line in logs]
        items += [span_item(facts, s, f"validate and extract: {s.status_message}") for s in spans]
        for span in req.named("download"):
            size = int(span.attributes.get("nanogrid.zip.bytes", SMALL_ZIP_BYTES))
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
        if refused:
            call = refused[0]
            error = call.body.get("error", {})
            reason = error.get("reason") or error.get("code") if isinstance(error, dict) else None
            logs = [
                line
                for line in facts.evidence.logs
                if "refused" in str(line.get("message", ""))
                and "Upload" in str(line.get("message", ""))
            ]
            items = [call_item(facts, call), *(log_item(facts, line) for line in logs[:2])]
            because = [
                phrase(
                    "upload.refused",
                    "/upload answered HTTP {code} ({reason}) at {ts}",
                    code=call.httpStatus,
                    reason=reason or "?",
                    ts=at(call.endNs),
                )
            ]
            return verdict(self.code, CONFIRMED, items, because, reason=reason)
        if uploads:
            because = [phrase("upload.accepted", "every upload was accepted ({n})", n=len(uploads))]
            return verdict(
                self.code, RULED_OUT, [call_item(facts, c) for c in uploads[:1]], because
            )
        because = [phrase("upload.none", "no upload was made: the code reached S3 another way")]
        return verdict(self.code, RULED_OUT, [], because)
