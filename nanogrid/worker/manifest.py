"""What an extracted package holds, to tell later whether anyone changed it.

:func:`seal` makes a freshly extracted tree read-only (files 0444, folders 0555) and returns
its :class:`Manifest`: every folder, and every file's size and sha256. :meth:`Manifest.check`
compares a tree with it and lists each difference: a file changed, added, missing, or made
writable again. A file is hashed again only when its ``lstat`` differs from the one recorded
at sealing (inode, size, mtime, ctime, mode): writing a file, or restoring its mtime after,
changes its ctime, which only the kernel sets. So a check costs one ``lstat`` per file and
folder while nothing changed.

Usage::

    manifest = seal(tree)
    manifest.save(path)
    ...
    problems = Manifest.load(path).check(tree)  # [] while untouched
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FILE_MODE = 0o444
DIR_MODE = 0o555
_VERSION = 1


def _digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _screen(st: os.stat_result) -> tuple[int, ...]:
    """The ``lstat`` fields that any write, chmod, rename over or utime changes."""
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)


@dataclass
class Manifest:
    """``files``: relative path -> (size, sha256); ``dirs``: relative folder paths."""

    files: dict[str, tuple[int, str]]
    dirs: set[str]
    screens: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def check(self, tree: Path) -> list[str]:
        """Every difference between ``tree`` and this manifest, as ``"<kind>: <path>"``."""
        top = os.lstat(tree)
        if not stat.S_ISDIR(top.st_mode):
            return ["replaced: ."]
        problems = [] if stat.S_IMODE(top.st_mode) == DIR_MODE else ["writable: ./"]
        seen: set[str] = set()
        for rel, st in _walk(tree):
            seen.add(rel)
            if stat.S_ISDIR(st.st_mode) and rel in self.dirs:
                if stat.S_IMODE(st.st_mode) != DIR_MODE:
                    problems.append(f"writable: {rel}/")
            elif stat.S_ISREG(st.st_mode) and rel in self.files:
                problem = self._check_file(tree, rel, st)
                if problem:
                    problems.append(f"{problem}: {rel}")
            else:
                problems.append(f"added: {rel}")
        problems += [f"missing: {rel}" for rel in sorted((set(self.files) | self.dirs) - seen)]
        return problems

    def _check_file(self, tree: Path, rel: str, st: os.stat_result) -> str | None:
        if self.screens.get(rel) == _screen(st):
            return None
        size, digest = self.files[rel]
        if st.st_size != size or _digest(tree / rel) != digest:
            return "changed"
        if stat.S_IMODE(st.st_mode) != FILE_MODE:
            return "writable"
        self.screens[rel] = _screen(st)  # the same bytes in a new inode (a copy): fine
        return None

    def save(self, path: Path) -> None:
        """Write the manifest atomically: ``path`` is replaced at once, never half-written."""
        data = {
            "version": _VERSION,
            "files": {rel: [size, digest] for rel, (size, digest) in sorted(self.files.items())},
            "dirs": sorted(self.dirs),
            "screens": {rel: list(screen) for rel, screen in sorted(self.screens.items())},
        }
        staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}")
        staging.write_text(json.dumps(data))
        os.chmod(staging, FILE_MODE)
        os.replace(staging, path)

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        """The manifest at ``path``; None if it is missing or unreadable."""
        try:
            data: dict[str, Any] = json.loads(path.read_text())
            if data.get("version") != _VERSION:
                return None
            return cls(
                files={rel: (int(s), str(d)) for rel, (s, d) in data["files"].items()},
                dirs=set(data["dirs"]),
                screens={rel: tuple(screen) for rel, screen in data["screens"].items()},
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


def seal(tree: Path) -> Manifest:
    """Make ``tree`` read-only and return its manifest (each file is hashed once)."""
    files: dict[str, tuple[int, str]] = {}
    dirs: list[str] = []
    for rel, st in _walk(tree):
        if stat.S_ISDIR(st.st_mode):
            dirs.append(rel)
        else:  # archive.extract writes regular files and folders only
            os.chmod(tree / rel, FILE_MODE)
            files[rel] = (st.st_size, _digest(tree / rel))
    for rel in sorted(dirs, key=len, reverse=True):  # children first
        os.chmod(tree / rel, DIR_MODE)
    os.chmod(tree, DIR_MODE)
    screens = {rel: _screen(os.lstat(tree / rel)) for rel in files}
    return Manifest(files, set(dirs), screens)


def remove(tree: Path) -> None:
    """Remove a sealed (or tampered-with) tree: its folders are made writable first.

    Links are never followed: a tree replaced by a link only loses the link.
    """
    if not stat.S_ISDIR(os.lstat(tree).st_mode):
        os.unlink(tree)
        return
    stack = [tree]
    while stack:
        folder = stack.pop()
        os.chmod(folder, 0o700)  # a folder, by lstat: chmod does not follow a link here
        with os.scandir(folder) as entries:
            stack += [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    shutil.rmtree(tree)


def _walk(tree: Path) -> Iterator[tuple[str, os.stat_result]]:
    """``(relative path, lstat)`` of everything under ``tree``; links are not followed."""
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        with os.scandir(tree / rel_dir) as entries:
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                st = entry.stat(follow_symlinks=False)
                yield rel, st
                if stat.S_ISDIR(st.st_mode):
                    stack.append(rel)
