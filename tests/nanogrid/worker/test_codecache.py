"""The worker's code cache: keyed by sha256, written atomically, nothing left half-done,
sealed read-only and checked against its manifest on every hit."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness import artifacts
from nanogrid.errors import InvalidPackage, PackageTampered
from nanogrid.settings import Limits
from nanogrid.worker.codecache import CodeCache
from nanogrid.worker.manifest import DIR_MODE, FILE_MODE, seal


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
    assert sorted(p.name for p in cache.root.iterdir()) == [sha, f"{sha}.manifest.json"]


def test_put_of_cached_data_keeps_the_entry(cache):
    data = artifacts.function_zip("print(1)\n", {"lib/util.py": "X = 1\n"})
    first, _ = cache.put(data)
    second, info = cache.put(data)
    assert first == second
    assert info.entries == 2
    assert (second / "lib" / "util.py").read_text() == "X = 1\n"
    assert sorted(p.name for p in cache.root.iterdir()) == [
        first.name,
        f"{first.name}.manifest.json",
    ]


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
    # no staging dir left
    assert sorted(p.name for p in cache.root.iterdir()) == [sha, f"{sha}.manifest.json"]
    assert cache.get(sha) == cache.root / sha  # whichever put's manifest is on disk
    assert (cache.root / sha / "main.py").read_text() == "print('race')\n"
    assert len(list((cache.root / sha).iterdir())) == 21


@pytest.mark.parametrize(
    "build", [artifacts.empty_zip_22, artifacts.not_a_zip, artifacts.traversal_zip]
)
def test_invalid_package_leaves_nothing(cache, build):
    with pytest.raises(InvalidPackage):
        cache.put(build())
    assert list(cache.root.iterdir()) == []


PACKAGE = artifacts.function_zip("print('mine')\n", {"lib/util.py": "X = 1\n"})


def modes(tree: Path) -> dict[str, int]:
    return {str(p.relative_to(tree)): p.stat().st_mode & 0o777 for p in [tree, *tree.rglob("*")]}


def writable(path: Path) -> None:
    """What a tamperer with the worker's user does first: make a sealed file writable."""
    path.chmod(0o644)
    path.parent.chmod(0o755)


def test_put_seals_the_tree_and_writes_its_manifest(cache):
    path, _ = cache.put(PACKAGE)
    assert modes(path) == {".": DIR_MODE, "main.py": FILE_MODE, "lib": DIR_MODE,
                           "lib/util.py": FILE_MODE}  # fmt: skip
    assert cache.manifest_path(path.name).is_file()


def tamper_rewrite_same_size(path: Path) -> None:
    # Same size, and the mtime put back: only the ctime (and the bytes) tell.
    main = path / "main.py"
    before = main.stat()
    writable(main)
    main.write_text("print('pwnd')\n")
    os.utime(main, ns=(before.st_atime_ns, before.st_mtime_ns))
    main.chmod(FILE_MODE)


def tamper_add(path: Path) -> None:
    writable(path / "main.py")
    (path / "sitecustomize.py").write_text("import os\n")


def tamper_remove(path: Path) -> None:
    writable(path / "lib" / "util.py")
    (path / "lib" / "util.py").unlink()


def tamper_chmod(path: Path) -> None:
    (path / "main.py").chmod(0o666)


def tamper_replace_by_link(path: Path) -> None:
    writable(path / "main.py")
    (path / "main.py").unlink()
    (path / "main.py").symlink_to("/etc/hostname")


def tamper_manifest(path: Path) -> None:
    path.with_name(f"{path.name}.manifest.json").unlink()


TAMPERINGS = [
    pytest.param(tamper_rewrite_same_size, "changed: main.py", id="rewritten"),
    pytest.param(tamper_add, "added: sitecustomize.py", id="file-added"),
    pytest.param(tamper_remove, "missing: lib/util.py", id="file-removed"),
    pytest.param(tamper_chmod, "writable: main.py", id="made-writable"),
    pytest.param(tamper_replace_by_link, "added: main.py", id="link"),
]


@pytest.mark.parametrize("reader", ["same-process", "new-process"])
@pytest.mark.parametrize(("tamper", "problem"), TAMPERINGS)
def test_tampered_entry_is_detected_evicted_and_extracted_again(cache, tamper, problem, reader):
    path, _ = cache.put(PACKAGE)
    # A new process (a restarted worker) has only the manifest on disk to go by.
    checker = cache if reader == "same-process" else CodeCache(cache.root, Limits())
    tamper(path)
    with pytest.raises(PackageTampered) as caught:
        checker.get(path.name)
    assert problem in caught.value.problems
    assert caught.value.sha256 == path.name
    assert list(cache.root.iterdir()) == []  # evicted, read-only or not, manifest too
    assert checker.get(path.name) is None  # a miss now: the caller extracts it again
    again, _ = checker.put(PACKAGE)
    assert (again / "main.py").read_text() == "print('mine')\n"
    assert checker.get(again.name) == again


def test_an_entry_without_its_manifest_cannot_be_checked_so_is_evicted(cache):
    path, _ = cache.put(PACKAGE)
    tamper_manifest(path)
    assert cache.get(path.name) == path  # this process checks against its copy in memory
    with pytest.raises(PackageTampered) as caught:
        CodeCache(cache.root, Limits()).get(path.name)  # a new process has nothing to go by
    assert caught.value.problems == ["missing: manifest"]
    assert list(cache.root.iterdir()) == []


def test_a_rewritten_manifest_does_not_hide_a_change_from_this_process(cache):
    path, _ = cache.put(PACKAGE)
    tamper_add(path)
    seal(path).save(cache.manifest_path(path.name))  # sealed again, with a matching manifest
    assert CodeCache(cache.root, Limits()).get(path.name) == path  # fooled: it trusts the disk
    with pytest.raises(PackageTampered, match=r"added: sitecustomize\.py"):
        cache.get(path.name)


def test_same_bytes_in_a_new_inode_is_not_tampering(cache):
    # A copy (a backup restored) keeps the bytes and the modes: the hash says it is fine.
    path, _ = cache.put(PACKAGE)
    main = path / "main.py"
    data = main.read_bytes()
    writable(main)
    main.unlink()
    main.write_bytes(data)
    main.chmod(FILE_MODE)
    path.chmod(DIR_MODE)
    assert cache.get(path.name) == path
