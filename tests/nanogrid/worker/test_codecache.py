"""The worker's code cache: keyed by sha256, written atomically, nothing left half-done."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness import artifacts
from nanogrid.errors import InvalidPackage
from nanogrid.settings import Limits
from nanogrid.worker.codecache import CodeCache


@pytest.fixture
def cache(tmp_path: Path) -> CodeCache:
    return CodeCache(tmp_path / "cache", Limits())


def test_init_creates_the_root(tmp_path):
    CodeCache(tmp_path / "a" / "b", Limits())
    assert (tmp_path / "a" / "b").is_dir()


def test_miss_put_hit(cache):
    data = artifacts.memo_function_zip()
    sha = hashlib.sha256(data).hexdigest()
    assert cache.get(sha) is None
    assert cache.get(None) is None
    assert cache.get("") is None
    path, info = cache.put(data)
    assert path == cache.root / sha
    assert (path / "main.py").read_text() == artifacts.MEMO_SOURCE
    assert info.sha256 == sha
    assert info.entries == 1
    assert cache.get(sha) == path
    assert sorted(p.name for p in cache.root.iterdir()) == [sha]


def test_put_of_cached_data_keeps_the_entry(cache):
    data = artifacts.function_zip("print(1)\n", {"lib/util.py": "X = 1\n"})
    first, _ = cache.put(data)
    second, info = cache.put(data)
    assert first == second
    assert info.entries == 2
    assert (second / "lib" / "util.py").read_text() == "X = 1\n"
    assert [p.name for p in cache.root.iterdir()] == [first.name]


def test_different_code_gets_different_entries(cache):
    a, _ = cache.put(artifacts.function_zip("print('a')\n"))
    b, _ = cache.put(artifacts.function_zip("print('b')\n"))
    assert a != b
    assert (a / "main.py").read_text() == "print('a')\n"
    assert (b / "main.py").read_text() == "print('b')\n"


def test_concurrent_put_of_the_same_data_ends_with_one_entry(cache: CodeCache, monkeypatch):
    data = artifacts.function_zip("print('race')\n", {f"f{i}.txt": "x" for i in range(20)})
    threads = 4
    start = threading.Barrier(threads)
    renaming = threading.Barrier(threads)
    real_rename = os.rename

    def rename_together(src, dst):
        # hold every put at its rename until all have extracted: the race window, every time
        if Path(dst).parent == cache.root:
            with contextlib.suppress(threading.BrokenBarrierError):
                renaming.wait(timeout=2)
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename_together)

    def put(_: int) -> Path:
        start.wait(timeout=10)
        return cache.put(data)[0]

    with ThreadPoolExecutor(threads) as pool:
        paths = set(pool.map(put, range(threads)))
    sha = hashlib.sha256(data).hexdigest()
    assert paths == {cache.root / sha}
    assert [p.name for p in cache.root.iterdir()] == [sha]  # no staging dir left
    assert (cache.root / sha / "main.py").read_text() == "print('race')\n"
    assert len(list((cache.root / sha).iterdir())) == 21


@pytest.mark.parametrize(
    "build", [artifacts.empty_zip_22, artifacts.not_a_zip, artifacts.traversal_zip]
)
def test_invalid_package_leaves_nothing(cache, build):
    with pytest.raises(InvalidPackage):
        cache.put(build())
    assert list(cache.root.iterdir()) == []
