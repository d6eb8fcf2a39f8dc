"""The files and run directories named by the caller's paths.

A path is a file, a run directory of the platform (:func:`harness.evidence.is_run_dir`),
or a folder: a folder is walked in name order, hidden entries (``.name``) and symbolic
links to folders skipped, and a run directory found inside it is taken whole, not
walked. The same file named twice is read once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.evidence import is_run_dir


@dataclass
class Inputs:
    files: list[Path] = field(default_factory=list)
    runs: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)  # walked, for error messages
    _seen: set[Path] = field(default_factory=set, repr=False)

    def add_file(self, path: Path) -> None:
        key = path.resolve()
        if key not in self._seen:
            self._seen.add(key)
            self.files.append(path)


def collect(paths: Sequence[Path]) -> Inputs:
    """Sort ``paths`` into files and run directories; raises FileNotFoundError for a path
    that does not exist, ValueError for one that is neither a file nor a folder."""
    found = Inputs()
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        if is_run_dir(path):
            found.runs.append(path)
        elif path.is_dir():
            found.folders.append(path)
            _walk(path, found)
        elif path.is_file():
            found.add_file(path)
        else:
            raise ValueError(f"{path} is neither a file nor a folder (a pipe, a device?)")
    return found


def _walk(folder: Path, found: Inputs) -> None:
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir():
            if child.is_symlink():
                continue  # a link may loop back up the tree
            if is_run_dir(child):
                found.runs.append(child)
            else:
                _walk(child, found)
        elif child.is_file():
            found.add_file(child)


def common_parent(paths: Sequence[Path]) -> Path:
    """The deepest folder holding every path (a folder stands for itself)."""
    folders = [str((p if p.is_dir() else p.parent).resolve()) for p in paths]
    return Path(os.path.commonpath(folders)) if folders else Path.cwd()
