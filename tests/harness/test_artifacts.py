import io
import json
import subprocess
import sys
import zipfile

import pytest

from harness import artifacts


def _names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.namelist()


def _run(source: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-c", source],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_incident_zip_is_34_bytes_with_no_entries():
    data = artifacts.incident_empty_zip()
    assert len(data) == 34
    assert zipfile.is_zipfile(io.BytesIO(data))
    assert _names(data) == []


def test_empty_zip_is_22_bytes():
    assert len(artifacts.empty_zip_22()) == 22
    assert _names(artifacts.empty_zip_22()) == []


def test_memo_zip_holds_main_and_is_deterministic():
    assert _names(artifacts.memo_function_zip()) == ["main.py"]
    assert artifacts.memo_function_zip() == artifacts.memo_function_zip()


def test_memo_source_prints_the_memo_output():
    done = _run(artifacts.MEMO_SOURCE)
    assert (done.returncode, done.stdout) == (0, artifacts.MEMO_STDOUT)
    assert (
        artifacts.MEMO_STDOUT
        == "Hello from NanoGrid Plus!\nTest function is working!\nResult: 42\n"
    )


def test_function_zip_adds_extra_files():
    data = artifacts.function_zip("print(1)\n", {"lib/util.py": "X = 1\n", "data.bin": b"\x00"})
    assert _names(data) == ["main.py", "lib/util.py", "data.bin"]


def test_not_a_zip_and_truncated_are_not_zips():
    assert not zipfile.is_zipfile(io.BytesIO(artifacts.not_a_zip()))
    assert not zipfile.is_zipfile(io.BytesIO(artifacts.truncated_zip()))


def test_corrupt_crc_zip_fails_its_crc():
    with zipfile.ZipFile(io.BytesIO(artifacts.corrupt_crc_zip())) as zf:
        assert zf.testzip() == "main.py"


def test_encrypted_flag_is_set_in_the_directory():
    with zipfile.ZipFile(io.BytesIO(artifacts.encrypted_flag_zip())) as zf:
        assert zf.getinfo("main.py").flag_bits & 0x1


def test_symlink_entry_has_link_mode():
    with zipfile.ZipFile(io.BytesIO(artifacts.symlink_zip())) as zf:
        assert (zf.getinfo("link").external_attr >> 16) & 0o170000 == 0o120000


def test_duplicate_names_zip_holds_main_twice():
    assert _names(artifacts.duplicate_names_zip()) == ["main.py", "main.py"]


def test_many_entries_zip_counts_all_entries():
    assert len(_names(artifacts.many_entries_zip(25))) == 25


def test_zip_bomb_is_small_and_expands():
    data = artifacts.zip_bomb(10 * 1024 * 1024)
    assert len(data) < 20_000
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.getinfo("zeros.bin").file_size == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (artifacts.traversal_zip, "../../evil.py"),
        (artifacts.absolute_path_zip, "/tmp/evil.py"),
        (artifacts.backslash_zip, "..\\..\\evil.py"),
        (artifacts.drive_letter_zip, "C:/evil.py"),
        (artifacts.nested_main_zip, "myfunc/main.py"),
    ],
)
def test_hostile_names_are_stored_verbatim(build, name):
    assert name in _names(build())


def test_failing_source_exits_2_with_stderr():
    done = _run(artifacts.FAILING_SOURCE)
    assert (done.returncode, done.stderr) == (2, "about to fail\n")


def test_echo_input_source_echoes_json():
    done = _run(artifacts.echo_input_source(), json.dumps({"b": [1, 2], "a": "x"}))
    assert json.loads(done.stdout) == {"a": "x", "b": [1, 2]}
    assert _run(artifacts.echo_input_source()).stdout == "null\n"


def test_hang_and_memory_sources_run():
    assert _run(artifacts.hang_source(0.01)).stdout == "started\n"
    assert _run(artifacts.memory_hog_source(4)).stdout == "touched 4 MB\n"


def test_spawn_children_source_reports_its_child(tmp_path):
    pid_file = tmp_path / "child.pid"
    source = artifacts.spawn_children_source(0.01, 0.01, str(pid_file))
    done = _run(source)
    assert done.stdout == f"child {pid_file.read_text()}\n"


@pytest.mark.parametrize(
    "source",
    [
        artifacts.FAILING_SOURCE,
        artifacts.hang_source(1.5),
        artifacts.memory_hog_source(8),
        artifacts.spawn_children_source(),
        artifacts.echo_input_source(),
    ],
)
def test_sources_compile(source):
    compile(source, "main.py", "exec")
