"""Structural checks of a function zip, made before any entry is decompressed.

The helpers of :mod:`nanogrid.archive`: opening the zip, refusing hostile names, links,
encryption, duplicates and overlapping entries, finding ``main.py``, and reading an entry
with zipfile's errors translated into :class:`~nanogrid.errors.InvalidPackage`.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from enum import StrEnum

from nanogrid.errors import InvalidPackage
from nanogrid.settings import Limits

MAIN = "main.py"
REZIP = "zip your code with `zip function.zip main.py` and check it with `unzip -l function.zip`"


class Reason(StrEnum):
    """Why a package was refused: the ``reason`` of :class:`~nanogrid.errors.InvalidPackage`."""

    EMPTY_BODY = "EMPTY_BODY"  # 0 bytes received
    ZIP_TOO_LARGE = "ZIP_TOO_LARGE"  # body over max_zip_bytes (PackageTooLarge)
    NOT_A_ZIP = "NOT_A_ZIP"  # no zip signature at all
    TRUNCATED_ARCHIVE = "TRUNCATED_ARCHIVE"  # starts like a zip, its end is missing
    CORRUPT_ARCHIVE = "CORRUPT_ARCHIVE"  # bad header, CRC or compressed data
    EMPTY_ARCHIVE = "EMPTY_ARCHIVE"  # a well-formed zip with 0 entries (22 bytes + comment)
    TOO_MANY_ENTRIES = "TOO_MANY_ENTRIES"  # over max_entries
    UNSAFE_PATH = "UNSAFE_PATH"  # '..', absolute, backslash, drive letter, odd characters
    SYMLINK = "SYMLINK"  # an entry is a symbolic link
    ENCRYPTED = "ENCRYPTED"  # an entry is password-protected
    DUPLICATE_NAME = "DUPLICATE_NAME"  # two entries for one path (or a file and a folder)
    OVERLAPPING_ENTRIES = "OVERLAPPING_ENTRIES"  # entries share bytes (CVE-2024-0450)
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"  # not stored/deflated, or a newer zip feature
    MISSING_MAIN = "MISSING_MAIN"  # no main.py at the root
    UNZIPPED_TOO_LARGE = "UNZIPPED_TOO_LARGE"  # unpacks over max_unzipped_bytes
    RATIO_TOO_HIGH = "RATIO_TOO_HIGH"  # expands over max_ratio: a zip bomb
    SYNTAX_ERROR = "SYNTAX_ERROR"  # main.py does not compile


_LOCAL_SIGNATURE = b"PK\x03\x04"
_END_SIGNATURE = b"PK\x05\x06"
_LOCAL_HEADER_SIZE = 30
_S_IFMT, _S_IFLNK = 0o170000, 0o120000
_ENCRYPTED_FLAG = 0x1
# bzip2 and lzma are refused: zipfile decompresses them without an output cap, so one
# small read can expand to gigabytes before any count sees it.
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_COMPONENT_BYTES = 255
# What zipfile raises on damaged input, besides BadZipFile.
ZIP_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error, zlib.error)
_READ_ERRORS = (*ZIP_ERRORS, RuntimeError)
_REPACK = "upload it again, or re-create it with `zip -r function.zip .` and test it with "
_REPACK += "`unzip -t function.zip`"


def open_zip(data: bytes) -> zipfile.ZipFile:
    """Open ``data`` as a zip, or raise NOT_A_ZIP, TRUNCATED_ARCHIVE or CORRUPT_ARCHIVE."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except NotImplementedError as exc:
        raise _unsupported(str(exc)) from exc
    except ZIP_ERRORS as exc:
        raise _unreadable(data, exc) from exc


def _unsupported(what: str) -> InvalidPackage:
    return InvalidPackage(
        f"The ZIP uses a feature NanoGrid cannot read ({what}): zip again with the default "
        "settings, `zip -r function.zip .`",
        reason=Reason.UNSUPPORTED_FORMAT,
    )


def _unreadable(data: bytes, exc: Exception) -> InvalidPackage:
    size = len(data)
    if not data.startswith(b"PK") and _END_SIGNATURE not in data:
        return InvalidPackage(
            f"The upload is not a ZIP ({size} bytes, starting {data[:8]!r}): {REZIP}",
            reason=Reason.NOT_A_ZIP,
        )
    if data.startswith(_LOCAL_SIGNATURE) and _END_SIGNATURE not in data[-65557:]:
        return InvalidPackage(
            f"The ZIP is truncated ({size} bytes, its central directory is missing): "
            f"the upload was cut short; {_REPACK}",
            reason=Reason.TRUNCATED_ARCHIVE,
        )
    return InvalidPackage(
        f"The ZIP is damaged ({size} bytes: {exc}): {_REPACK}", reason=Reason.CORRUPT_ARCHIVE
    )


def check_structure(data: bytes, zf: zipfile.ZipFile, limits: Limits) -> list[zipfile.ZipInfo]:
    """Check entries without decompressing them; return the file (non-folder) entries."""
    infos = zf.infolist()
    if not infos:
        raise InvalidPackage(
            f"The ZIP is empty ({len(data)} bytes, 0 entries, {len(zf.comment)}-byte comment): "
            f"{REZIP}",
            reason=Reason.EMPTY_ARCHIVE,
        )
    if len(infos) > limits.max_entries:
        raise InvalidPackage(
            f"The ZIP has {len(infos)} entries, over the limit of {limits.max_entries}: "
            "leave caches and unused dependencies out, or bundle data files into one",
            reason=Reason.TOO_MANY_ENTRIES,
        )
    for info in infos:
        _check_entry(info)
    _check_unique(infos)
    _check_no_overlap(data, zf, infos)
    files = [info for info in infos if not info.is_dir()]
    _check_main(files)
    return files


def _check_entry(info: zipfile.ZipInfo) -> None:
    name = info.orig_filename
    why = _unsafe(name)
    if why:
        raise InvalidPackage(
            f"Entry {name!r} {why}: every path must be relative to the function's root, like "
            "`main.py` or `lib/util.py`; zip from inside the function folder with "
            "`zip -r function.zip .`",
            reason=Reason.UNSAFE_PATH,
        )
    if (info.external_attr >> 16) & _S_IFMT == _S_IFLNK:
        raise InvalidPackage(
            f"Entry {name!r} is a symbolic link, which NanoGrid never follows: store the file "
            "itself (`zip -r` without `-y` does)",
            reason=Reason.SYMLINK,
        )
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise InvalidPackage(
            f"Entry {name!r} is encrypted: zip again without a password (no `-e`/`-P`)",
            reason=Reason.ENCRYPTED,
        )
    if info.compress_type not in _METHODS:
        raise _unsupported(f"entry {name!r}: compression method {info.compress_type}")


def _unsafe(name: str) -> str | None:
    """Why ``name`` cannot be written under the function's root, or None if it can."""
    if "\\" in name:
        return "contains a backslash (a Windows path; use '/')"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a drive letter"
    if any(ord(char) < 0x20 or char == "\x7f" for char in name):
        return "contains a control character"
    parts = (name[:-1] if name.endswith("/") else name).split("/")
    if ".." in parts:
        return "climbs out of the function folder with '..'"
    if any(part in ("", ".") for part in parts):
        return "has an empty or '.' path component"
    if any(len(part.encode()) > _MAX_COMPONENT_BYTES for part in parts):
        return f"has a path component longer than {_MAX_COMPONENT_BYTES} bytes"
    return None


def _check_unique(infos: list[zipfile.ZipInfo]) -> None:
    paths = [info.filename.rstrip("/") for info in infos]
    seen: set[str] = set()
    for path in paths:
        if path in seen:
            raise _duplicate(f"The ZIP holds {path!r} twice")
        seen.add(path)
    files = {info.filename for info in infos if not info.is_dir()}
    clash = sorted(files & _all_parents(paths))
    if clash:
        raise _duplicate(f"{clash[0]!r} is both a file and a folder in the ZIP")


def _all_parents(paths: list[str]) -> set[str]:
    parents: set[str] = set()
    for path in paths:
        parts = path.split("/")
        parents.update("/".join(parts[:end]) for end in range(1, len(parts)))
    return parents


def _duplicate(what: str) -> InvalidPackage:
    return InvalidPackage(
        f"{what}: which one would run is ambiguous; re-create the zip from a clean folder "
        "with `zip -r function.zip .` (not `zip` onto an existing archive)",
        reason=Reason.DUPLICATE_NAME,
    )


def _check_no_overlap(data: bytes, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse entries whose bytes overlap another entry or the central directory."""
    # ZipFile sets start_dir when reading; it is not in the typed API.
    directory: int = getattr(zf, "start_dir", len(data))
    spans = sorted(_span(data, info) for info in infos)
    bounds = [start for start, _, _ in spans[1:]] + [directory]
    for (_, end, name), bound in zip(spans, bounds, strict=True):
        if end > bound:
            raise InvalidPackage(
                f"Entry {name!r} overlaps the next entry or the central directory, a zip-bomb "
                f"trick (CVE-2024-0450): {_REPACK}",
                reason=Reason.OVERLAPPING_ENTRIES,
            )


def _span(data: bytes, info: zipfile.ZipInfo) -> tuple[int, int, str]:
    """(start of the local header, end of the compressed data, name) of an entry."""
    start = info.header_offset
    header = data[start : start + _LOCAL_HEADER_SIZE]
    if len(header) < _LOCAL_HEADER_SIZE or not header.startswith(_LOCAL_SIGNATURE):
        raise InvalidPackage(
            f"The ZIP is damaged (entry {info.orig_filename!r} has no local header): {_REPACK}",
            reason=Reason.CORRUPT_ARCHIVE,
        )
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    end = start + _LOCAL_HEADER_SIZE + name_len + extra_len + info.compress_size
    return start, end, info.orig_filename


def _check_main(files: list[zipfile.ZipInfo]) -> None:
    names = [info.filename for info in files]
    if MAIN in names:
        return
    candidates = sorted((n for n in names if n.rsplit("/", 1)[-1].lower() == MAIN), key=len)
    if not candidates:
        listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise _no_main(f"The ZIP has no main.py ({len(names)} files: {listed or 'none'})", REZIP)
    found = candidates[0]
    if "/" not in found:
        raise _no_main(f"The ZIP has {found} but no main.py", "names are case-sensitive: rename it")
    folder = found.rsplit("/", 1)[0]
    raise _no_main(
        f"main.py is not at the root of the ZIP (found at {found})",
        f"zip the folder's contents, not the folder (`cd {folder} && zip -r ../function.zip .`)",
    )


def _no_main(what: str, fix: str) -> InvalidPackage:
    return InvalidPackage(
        f"{what}: NanoGrid runs `python main.py` at the archive's root; {fix}",
        reason=Reason.MISSING_MAIN,
    )


def chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> Iterator[bytes]:
    """Yield an entry's decompressed bytes, at most ``size`` at a time.

    zipfile checks the CRC when the entry ends; any read error is CORRUPT_ARCHIVE. Errors
    raised by the consumer of the chunks are not translated.
    """
    try:
        with zf.open(info) as src:
            while chunk := src.read(size):
                yield chunk
    except NotImplementedError as exc:
        raise _unsupported(f"entry {info.orig_filename!r}: {exc}") from exc
    except _READ_ERRORS as exc:
        raise InvalidPackage(
            f"The ZIP is damaged (entry {info.orig_filename!r}: {exc}): {_REPACK}",
            reason=Reason.CORRUPT_ARCHIVE,
        ) from exc
