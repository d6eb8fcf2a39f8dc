"""Which component wrote a file: its content, else the caller's option, else its name.

A record naming its writer (``component``, ``service.name``, ``service``, bunyan's and
pino's ``name``) is believed first. A file whose records do not is attributed by the
``components`` option (NAME -> PATH, a file or a folder of them), else by its name: a
name holding the word ``worker`` or ``controller`` (``worker.log``,
``controller-response.json``, ``nanogrid-controller.jsonl``) is that component, a
``worker-<id>`` name that worker instance (``worker-2.log``: ``worker-2``); any other
name stands for itself (its stem without a ``nanogrid-`` prefix).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

#: The platform's components, recognised in a file's name.
ROLES = ("controller", "worker")
_TOKEN = re.compile(r"[^a-z0-9]+")
_INSTANCE = re.compile(r"(?:^|[^a-z0-9])worker[-_]([a-z]*[0-9][a-z0-9]*)$")  # an id has a digit


class Rule(StrEnum):
    """How a file's component was decided."""

    CONTENT = "content"  # the records name their writer
    OPTION = "option"  # the caller's ``components`` mapping named the file
    FILE_NAME = "file name"  # guessed from the file's name


@dataclass(frozen=True)
class Decided:
    name: str
    rule: Rule


def service_component(name: str) -> str:
    """``nanogrid-controller`` -> ``controller``; other names are kept."""
    return name.removeprefix("nanogrid-") or name


def fallback(path: Path, options: Mapping[str, Path]) -> Decided:
    """A file's component when its records do not say: the option, else its name."""
    resolved = path.resolve()
    for name, given in options.items():
        target = Path(given).resolve()
        if resolved == target or target in resolved.parents:
            return Decided(name, Rule.OPTION)
    return Decided(from_file_name(path), Rule.FILE_NAME)


def from_file_name(path: Path) -> str:
    stem = path.name.split(".", 1)[0].lower() or path.name.lower()
    instance = _INSTANCE.search(stem)
    if instance is not None:  # worker-2.log: one worker among several, kept apart
        return f"worker-{instance.group(1)}"
    tokens = _TOKEN.split(stem)
    for role in ROLES:
        if role in tokens:
            return role
    return service_component(stem)
