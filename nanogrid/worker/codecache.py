"""Extracted function code, cached by the zip's sha256 so warm runs skip S3 and extraction."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from nanogrid import archive
from nanogrid.settings import Limits


class CodeCache:
    """``root/{sha256}/`` holds one extracted package; entries are written atomically."""

    def __init__(self, root: Path, limits: Limits) -> None:
        self.root = root
        self.limits = limits
        root.mkdir(parents=True, exist_ok=True)

    def get(self, sha256: str | None) -> Path | None:
        """The cached directory for ``sha256``, or None on a miss."""
        if not sha256:
            return None
        path = self.root / sha256
        return path if path.is_dir() else None

    def put(self, data: bytes) -> tuple[Path, archive.PackageInfo]:
        """Validate and extract ``data`` (raises InvalidPackage); returns its directory."""
        sha = hashlib.sha256(data).hexdigest()
        final = self.root / sha
        staging = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=self.root))
        try:
            info = archive.extract(data, staging / "code", self.limits)
            if final.is_dir():
                return final, info
            try:
                os.rename(staging / "code", final)
            except OSError:
                if not final.is_dir():  # not a concurrent put of the same package
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return final, info
