"""Extracted function code, cached by the zip's sha256 so warm runs skip S3 and extraction.

Each entry is sealed at extraction (read-only: files 0444, folders 0555) and recorded in a
manifest of its files' sizes and sha256 (:mod:`nanogrid.worker.manifest`); every hit checks
the tree against it first. A tree that changed (a file changed, added or missing, or made
writable) is evicted and reported as :exc:`~nanogrid.errors.PackageTampered`: the caller
extracts the package again. The manifests this process wrote or read are also kept in
memory, so rewriting a manifest on disk does not hide a change from this process.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import uuid
from pathlib import Path

from nanogrid import archive
from nanogrid.errors import PackageTampered
from nanogrid.settings import Limits
from nanogrid.worker.manifest import Manifest, remove, seal


class CodeCache:
    """``root/{sha256}/`` holds one package, ``root/{sha256}.manifest.json`` its manifest."""

    def __init__(self, root: Path, limits: Limits) -> None:
        self.root = root
        self.limits = limits
        self._manifests: dict[str, Manifest] = {}
        root.mkdir(parents=True, exist_ok=True)

    def get(self, sha256: str | None) -> Path | None:
        """The checked directory for ``sha256``, or None on a miss.

        Raises :exc:`PackageTampered` if the entry differs from its manifest; the entry is
        evicted first, so that a :meth:`put` of the package extracts it again.
        """
        if not sha256:
            return None
        path = self.root / sha256
        if not os.path.lexists(path):
            return None
        problems = self._check(sha256, path)
        if problems:
            self.evict(sha256)
            raise PackageTampered(sha256, problems)
        return path

    def put(self, data: bytes) -> tuple[Path, archive.PackageInfo]:
        """Validate, extract and seal ``data`` (raises InvalidPackage); returns its directory."""
        sha = hashlib.sha256(data).hexdigest()
        final = self.root / sha
        staging = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=self.root))
        try:
            info = archive.extract(data, staging / "code", self.limits)
            if final.is_dir():
                return final, info
            manifest = seal(staging / "code")
            manifest.save(self.manifest_path(sha))  # before the tree: a visible tree has one
            try:
                os.rename(staging / "code", final)
            except OSError:
                if not final.is_dir():  # not a concurrent put of the same package
                    raise
            else:
                self._manifests[sha] = manifest
        finally:
            _discard(staging)
        return final, info

    def evict(self, sha256: str) -> None:
        """Remove an entry and its manifest, read-only or not; a missing entry is no error."""
        self._manifests.pop(sha256, None)
        doomed = self.root / f".evicted-{sha256[:12]}-{uuid.uuid4().hex[:8]}"
        try:
            os.rename(self.root / sha256, doomed)  # gone at once for every reader
        except FileNotFoundError:
            pass
        else:
            _discard(doomed)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.manifest_path(sha256))

    def manifest_path(self, sha256: str) -> Path:
        return self.root / f"{sha256}.manifest.json"

    def _check(self, sha256: str, path: Path) -> list[str]:
        manifest = self._manifests.get(sha256) or Manifest.load(self.manifest_path(sha256))
        if manifest is None:
            return ["missing: manifest"]
        self._manifests[sha256] = manifest
        try:
            return manifest.check(path)
        except OSError as exc:  # a folder made unreadable, or removed while checked
            return [f"unreadable: {exc}"]


def _discard(path: Path) -> None:
    """Remove a staging or evicted tree, sealed or not; what cannot go stays (hidden)."""
    with contextlib.suppress(OSError):
        remove(path)
