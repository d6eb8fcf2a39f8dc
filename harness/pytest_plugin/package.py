"""A function's zip from what a test has at hand: a dict of files, a folder, or the zip itself.

::

    function_package({"main.py": "print('hi')", "data/x.json": b"{}"})
    function_package(Path("examples/hello"))   # every file below it, paths relative to it
    function_package(Path("build/fn.zip"))     # an existing zip, as it is

Entries carry a fixed timestamp, so the same files give the same bytes (and sha256).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

#: Files as a dict (archive name -> content), a folder or zip file, or a zip's bytes.
PackageSource = Mapping[str, str | bytes] | Path | bytes

_DATE = (2025, 12, 2, 7, 40, 19)
_FILE_MODE = 0o100644 << 16
#: Folders left out when a folder is packed.
SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".pytest_cache"})


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` by its POSIX path relative to it, sorted; caches skipped."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not SKIPPED_DIRS & set(path.relative_to(folder).parts)
    }


def zip_files(files: Mapping[str, str | bytes]) -> bytes:
    """A deflated zip of ``files`` in the given order (text is written as UTF-8)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def function_package(source: PackageSource) -> bytes:
    """The zip to upload for ``source``; see the module docstring."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, str):
        raise TypeError("a str is ambiguous: pass {'main.py': source} or Path(folder)")
    if isinstance(source, Path):
        if source.is_file():
            return source.read_bytes()
        if not source.is_dir():
            raise FileNotFoundError(f"{source}: no such folder or zip file")
        files = folder_files(source)
        if not files:
            raise ValueError(f"{source} holds no file to pack")
        return zip_files(files)
    return zip_files(source)
