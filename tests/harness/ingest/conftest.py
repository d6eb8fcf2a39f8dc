"""Fixtures of the ingest tests: evidence files written on demand, the memo's own files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MEMO_REQUEST_ID = "afc4198d-df18-46e3-85db-505b99b3a73e"

Write = Callable[[str, "str | bytes"], Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """``write(name, content)``: a file under the test's folder (text as UTF-8)."""

    def make(name: str, content: str | bytes) -> Path:
        path = tmp_path / "evidence" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    return make


@pytest.fixture
def memo_dir(tmp_path: Path) -> Path:
    """A copy of the memo's three evidence files (as the acceptance check writes them)."""
    target = tmp_path / "memo"
    shutil.copytree(FIXTURES / "memo", target)
    return target
