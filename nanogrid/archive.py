"""Validation and safe extraction of function zips.

A function package is a zip with ``main.py`` at its root. :func:`validate` checks the
structure, then reads every entry, counting the bytes actually decompressed (the sizes the
headers declare are never trusted), and compiles ``main.py``. Every refusal is an
:class:`~nanogrid.errors.InvalidPackage` (:class:`~nanogrid.errors.PackageTooLarge` for size
limits) whose message says what is wrong and how to fix it, and whose ``reason`` is a
:class:`Reason`. :func:`extract` validates, then writes the files itself into an empty
directory, and removes what it wrote if anything fails::

    info = validate(body, settings.limits)                # at upload
    extract(body, work_dir / info.sha256, settings.limits)  # in the worker
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from nanogrid import zipcheck
from nanogrid.errors import InvalidPackage, PackageTooLarge
from nanogrid.settings import Limits
from nanogrid.zipcheck import MAIN, REZIP, Reason

__all__ = ["PackageInfo", "Reason", "describe", "extract", "validate"]

_CHUNK = 64 * 1024
#: Below this many unpacked bytes the compression ratio is not checked: a 1 MB "bomb" is
#: harmless, while a small, very regular data file legitimately compresses more than 200x.
RATIO_FLOOR_BYTES = 1024 * 1024
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class PackageInfo:
    """What a valid package holds. ``entries`` and ``names`` count files, not folders."""

    size_bytes: int
    sha256: str  # hex digest of the zip bytes
    entries: int
    unzipped_bytes: int  # bytes actually decompressed
    names: tuple[str, ...]


def validate(data: bytes, limits: Limits) -> PackageInfo:
    """Check that ``data`` is a runnable function zip; raise ``InvalidPackage`` if not."""
    _check_body(data, limits)
    with zipcheck.open_zip(data) as zf:
        files = zipcheck.check_structure(data, zf, limits)
        budget = _Budget(len(data), limits)
        source = _read_all(zf, files, budget)
    _check_compiles(source)
    names = tuple(info.filename for info in files)
    return PackageInfo(
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        entries=len(names),
        unzipped_bytes=budget.used,
        names=names,
    )


def describe(data: bytes) -> PackageInfo:
    """Describe ``data`` without validating it, and never raise: the legacy, unchecked path.

    ``unzipped_bytes`` is what the headers declare; an unreadable zip has no entries.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            files = [info for info in zf.infolist() if not info.is_dir()]
    except (*zipcheck.ZIP_ERRORS, NotImplementedError):
        files = []
    return PackageInfo(
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        entries=len(files),
        unzipped_bytes=sum(info.file_size for info in files),
        names=tuple(info.filename for info in files),
    )


def extract(data: bytes, dest: Path, limits: Limits) -> PackageInfo:
    """Validate ``data``, then unpack it into ``dest``, which must be new or empty.

    Files get mode 0o644 and folders 0o755; no link is ever created or followed. If anything
    fails, what was written is removed (``dest`` too, if this call created it) and the error
    is re-raised. ``FileExistsError`` if ``dest`` is not an empty directory.
    """
    _check_dest(dest)
    info = validate(data, limits)
    created = not dest.exists()
    dest.mkdir(mode=0o755, parents=True, exist_ok=True)
    try:
        _write_all(data, dest.resolve(), limits)
    except BaseException:  # deliberate boundary: leave nothing half-written, whatever failed
        _remove(dest, created)
        raise
    return info


@dataclass
class _Budget:
    """Counts unpacked bytes and stops at the size and compression-ratio limits."""

    zip_bytes: int
    limits: Limits
    used: int = 0

    def add(self, count: int) -> None:
        self.used += count
        limit = self.limits.max_unzipped_bytes
        if self.used > limit:
            raise PackageTooLarge(
                f"The ZIP unpacks to more than {limit} bytes (stopped after {self.used}): "
                f"keep the unpacked function under {limit // (1024 * 1024)} MB by removing "
                "test data, caches and unused dependencies",
                reason=Reason.UNZIPPED_TOO_LARGE,
            )
        ratio = self.limits.max_ratio
        if self.used > RATIO_FLOOR_BYTES and self.used > ratio * self.zip_bytes:
            raise InvalidPackage(
                f"The ZIP expands more than {ratio}x ({self.zip_bytes} bytes unpack to over "
                f"{self.used}), which is how a zip bomb looks: if the data is genuine, ship "
                "it pre-compressed inside the package or fetch it at run time",
                reason=Reason.RATIO_TOO_HIGH,
            )


def _check_body(data: bytes, limits: Limits) -> None:
    if not data:
        raise InvalidPackage(
            f"The upload is empty (0 bytes): send the zip as the `file` field, {REZIP}",
            reason=Reason.EMPTY_BODY,
        )
    if len(data) > limits.max_zip_bytes:
        raise PackageTooLarge(
            f"The ZIP is {len(data)} bytes, over the {limits.max_zip_bytes}-byte limit: "
            "leave test data and unused dependencies out of the package",
            reason=Reason.ZIP_TOO_LARGE,
        )


def _read_all(zf: zipfile.ZipFile, files: list[zipfile.ZipInfo], budget: _Budget) -> bytes:
    """Decompress every file, counting bytes; return the content of ``main.py``."""
    source: list[bytes] = []
    for info in files:
        keep = info.filename == MAIN
        for chunk in zipcheck.chunks(zf, info, _CHUNK):
            budget.add(len(chunk))
            if keep:
                source.append(chunk)
    return b"".join(source)


def _check_compiles(source: bytes) -> None:
    try:
        # Warnings (invalid escapes, ...) do not stop a function from running; under an
        # "error" warning filter compile() would turn them into SyntaxErrors.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, MAIN, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise InvalidPackage(
            f"main.py does not compile: line {exc.lineno}: {exc.msg}: fix it and check it "
            "with `python -m py_compile main.py` before zipping",
            reason=Reason.SYNTAX_ERROR,
        ) from exc
    except (ValueError, RecursionError) as exc:  # null bytes; absurdly deep nesting
        raise InvalidPackage(
            f"main.py does not compile ({exc}): fix it and check it with "
            "`python -m py_compile main.py` before zipping",
            reason=Reason.SYNTAX_ERROR,
        ) from exc


def _check_dest(dest: Path) -> None:
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise FileExistsError(f"{dest} exists and is not a directory")
    if dest.is_dir() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty")


def _write_all(data: bytes, root: Path, limits: Limits) -> None:
    budget = _Budget(len(data), limits)
    with zipcheck.open_zip(data) as zf:
        for info in zf.infolist():
            target = _target(root, info.filename)
            if info.is_dir():
                _make_dirs(root, target)
                continue
            _make_dirs(root, target.parent)
            _write_file(zf, info, target, budget)


def _target(root: Path, name: str) -> Path:
    target = root.joinpath(*name.rstrip("/").split("/"))
    # Names were validated; this guards the write itself against any future gap.
    if target == root or not target.is_relative_to(root):
        raise InvalidPackage(f"Entry {name!r} would be written outside the function folder")
    return target


def _make_dirs(root: Path, path: Path) -> None:
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        try:
            os.mkdir(current, 0o755)
        except FileExistsError:
            if current.is_symlink() or not current.is_dir():
                raise
            continue
        os.chmod(current, 0o755)  # mkdir's mode is filtered by the umask


def _write_file(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: _Budget) -> None:
    # O_EXCL | O_NOFOLLOW: never overwrite, never write through a link.
    fd = os.open(target, _OPEN_FLAGS, 0o644)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(fd, 0o644)
        for chunk in zipcheck.chunks(zf, info, _CHUNK):
            budget.add(out.write(chunk))


def _remove(dest: Path, created: bool) -> None:
    if created:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
