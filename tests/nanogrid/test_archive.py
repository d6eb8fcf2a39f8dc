import io
import shutil
import stat
import subprocess
import tempfile
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import artifacts
from nanogrid import archive
from nanogrid.archive import PackageInfo, Reason, describe, extract, validate
from nanogrid.errors import InvalidPackage, PackageTooLarge
from nanogrid.settings import Limits

LIMITS = Limits()
MB = 1024 * 1024

# builder, reason, a piece of the "how to fix it" part of the message
BAD_INPUTS = [
    (bytes, Reason.EMPTY_BODY, "zip function.zip main.py"),
    (artifacts.not_a_zip, Reason.NOT_A_ZIP, "zip function.zip main.py"),
    (artifacts.truncated_zip, Reason.TRUNCATED_ARCHIVE, "upload it again"),
    (artifacts.corrupt_crc_zip, Reason.CORRUPT_ARCHIVE, "unzip -t function.zip"),
    (artifacts.empty_zip_22, Reason.EMPTY_ARCHIVE, "unzip -l function.zip"),
    (artifacts.incident_empty_zip, Reason.EMPTY_ARCHIVE, "unzip -l function.zip"),
    (artifacts.nested_main_zip, Reason.MISSING_MAIN, "zip the folder's contents"),
    (artifacts.no_main_zip, Reason.MISSING_MAIN, "zip function.zip main.py"),
    (artifacts.traversal_zip, Reason.UNSAFE_PATH, "zip -r function.zip ."),
    (artifacts.absolute_path_zip, Reason.UNSAFE_PATH, "relative to the function's root"),
    (artifacts.backslash_zip, Reason.UNSAFE_PATH, "relative to the function's root"),
    (artifacts.drive_letter_zip, Reason.UNSAFE_PATH, "relative to the function's root"),
    (artifacts.symlink_zip, Reason.SYMLINK, "store the file itself"),
    (artifacts.encrypted_flag_zip, Reason.ENCRYPTED, "without a password"),
    (artifacts.duplicate_names_zip, Reason.DUPLICATE_NAME, "from a clean folder"),
    (artifacts.overlapping_entries_zip, Reason.OVERLAPPING_ENTRIES, "re-create it"),
    (artifacts.syntax_error_zip, Reason.SYNTAX_ERROR, "python -m py_compile main.py"),
]


@pytest.mark.parametrize(
    ("build", "reason", "fix"), BAD_INPUTS, ids=[build.__name__ for build, _, _ in BAD_INPUTS]
)
def test_bad_input_is_refused_with_reason_and_fix(build, reason, fix):
    with pytest.raises(InvalidPackage) as caught:
        validate(build(), LIMITS)
    assert caught.value.reason == reason
    assert fix in str(caught.value)
    assert caught.value.code == "INVALID_PACKAGE"


def test_incident_zip_message_names_its_size_and_entries():
    with pytest.raises(InvalidPackage, match=r"empty \(34 bytes, 0 entries"):
        validate(artifacts.incident_empty_zip(), LIMITS)


def test_nested_main_says_where_it_was_found():
    with pytest.raises(InvalidPackage, match=r"found at myfunc/main\.py"):
        validate(artifacts.nested_main_zip(), LIMITS)


def test_wrong_case_main_is_pointed_out():
    with pytest.raises(InvalidPackage, match="case-sensitive") as caught:
        validate(artifacts.no_main_zip("Main.py"), LIMITS)
    assert caught.value.reason == Reason.MISSING_MAIN


def test_syntax_error_reports_line_and_message():
    with pytest.raises(InvalidPackage, match="line 2: invalid syntax"):
        validate(artifacts.syntax_error_zip(), LIMITS)


def test_null_byte_in_main_is_a_syntax_error():
    with pytest.raises(InvalidPackage) as caught:
        validate(artifacts.function_zip("print(1)\x00\n"), LIMITS)
    assert caught.value.reason == Reason.SYNTAX_ERROR


def test_compile_warnings_do_not_refuse_main():
    # "\d" is an invalid escape: a warning (an error under pytest's filter), not a failure.
    validate(artifacts.function_zip('import re\nprint(re.match("\\d", "1"))\n'), LIMITS)


@pytest.mark.parametrize(
    "name", ["a/../main2.py", "./x.py", "a//b.py", "x\x01.py", "a" * 256, "C:evil.py"]
)
def test_other_unsafe_names(name):
    with pytest.raises(InvalidPackage) as caught:
        validate(artifacts.bad_name_zip(name), LIMITS)
    assert caught.value.reason == Reason.UNSAFE_PATH


def test_file_and_folder_with_one_path_are_duplicates():
    data = artifacts.function_zip("print(1)\n", {"lib": "x", "lib/util.py": "y"})
    with pytest.raises(InvalidPackage) as caught:
        validate(data, LIMITS)
    assert caught.value.reason == Reason.DUPLICATE_NAME


def test_too_many_entries():
    with pytest.raises(InvalidPackage, match="leave caches") as caught:
        validate(artifacts.many_entries_zip(11), Limits(max_entries=10))
    assert caught.value.reason == Reason.TOO_MANY_ENTRIES


def test_body_over_limit_is_too_large():
    data = artifacts.memo_function_zip()
    with pytest.raises(PackageTooLarge, match="leave test data") as caught:
        validate(data, Limits(max_zip_bytes=len(data) - 1))
    assert caught.value.reason == Reason.ZIP_TOO_LARGE
    assert caught.value.code == "PACKAGE_TOO_LARGE"


def test_bomb_over_unzipped_limit_is_too_large():
    limits = Limits(max_unzipped_bytes=2 * MB, max_ratio=1_000_000)
    with pytest.raises(PackageTooLarge, match="keep the unpacked function under") as caught:
        validate(artifacts.zip_bomb(8 * MB), limits)
    assert caught.value.reason == Reason.UNZIPPED_TOO_LARGE


def test_bomb_over_ratio_is_refused():
    with pytest.raises(InvalidPackage, match="fetch it at run time") as caught:
        validate(artifacts.zip_bomb(20 * MB), LIMITS)
    assert caught.value.reason == Reason.RATIO_TOO_HIGH


def test_compressible_data_under_ratio_floor_passes():
    info = validate(artifacts.zip_bomb(archive.RATIO_FLOOR_BYTES // 2), LIMITS)
    assert info.unzipped_bytes > 200 * info.size_bytes


def test_lying_header_sizes_do_not_help():
    # zeros.bin's central header claims 1 byte unpacked: reading stops at the claim and the
    # CRC check fails, so the lie cannot smuggle 4 MB past a count of declared sizes.
    data = bytearray(artifacts.zip_bomb(4 * MB))
    at = data.rindex(b"zeros.bin") - 46 + 24  # central header: uncompressed size
    data[at : at + 4] = (1).to_bytes(4, "little")
    with pytest.raises(InvalidPackage) as caught:
        validate(bytes(data), LIMITS)
    assert caught.value.reason == Reason.CORRUPT_ARCHIVE


def test_bzip2_entries_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("main.py", "print(1)\n")
    with pytest.raises(InvalidPackage, match="zip again with the default") as caught:
        validate(buffer.getvalue(), LIMITS)
    assert caught.value.reason == Reason.UNSUPPORTED_FORMAT


def test_memo_zip_passes():
    data = artifacts.memo_function_zip()
    info = validate(data, LIMITS)
    assert info.names == ("main.py",)
    assert info.entries == 1
    assert info.size_bytes == len(data)
    assert info.unzipped_bytes == len(artifacts.MEMO_SOURCE)
    assert len(info.sha256) == 64


def test_folders_and_extra_files_pass():
    data = artifacts.function_zip("import lib.util\n", {"lib/": b"", "lib/util.py": "X = 1\n"})
    info = validate(data, LIMITS)
    assert info.names == ("main.py", "lib/util.py")


def test_zip_made_by_the_zip_tool_passes(tmp_path):
    if shutil.which("zip") is None:
        pytest.skip("no zip command")
    (tmp_path / "lib").mkdir()
    (tmp_path / "main.py").write_text(artifacts.MEMO_SOURCE)
    (tmp_path / "lib" / "util.py").write_text("X = 1\n")
    subprocess.run(["zip", "-qr", "function.zip", "main.py", "lib"], cwd=tmp_path, check=True)
    info = validate((tmp_path / "function.zip").read_bytes(), LIMITS)
    assert set(info.names) == {"main.py", "lib/util.py"}


def test_describe_never_raises():
    assert describe(artifacts.incident_empty_zip()).entries == 0
    assert describe(b"").names == ()
    assert describe(artifacts.truncated_zip()).entries == 0
    assert describe(artifacts.memo_function_zip()).names == ("main.py",)


def _tree(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.lstat().st_mode)
        for path in sorted(root.rglob("*"))
    }


def test_extract_writes_files_with_modes(tmp_path):
    data = artifacts.function_zip("print(1)\n", {"lib/": b"", "lib/pkg/util.py": "X = 1\n"})
    info = extract(data, tmp_path / "code", LIMITS)
    assert isinstance(info, PackageInfo)
    assert _tree(tmp_path / "code") == {
        "main.py": 0o644,
        "lib": 0o755,
        "lib/pkg": 0o755,
        "lib/pkg/util.py": 0o644,
    }
    assert (tmp_path / "code" / "lib/pkg/util.py").read_text() == "X = 1\n"
    assert stat.S_IMODE((tmp_path / "code").stat().st_mode) == 0o755


def test_extract_into_existing_empty_dir(tmp_path):
    extract(artifacts.memo_function_zip(), tmp_path, LIMITS)
    assert (tmp_path / "main.py").read_text() == artifacts.MEMO_SOURCE


def test_extract_refuses_non_empty_dest(tmp_path):
    (tmp_path / "old.py").write_text("")
    with pytest.raises(FileExistsError):
        extract(artifacts.memo_function_zip(), tmp_path, LIMITS)
    assert [p.name for p in tmp_path.iterdir()] == ["old.py"]


@pytest.mark.parametrize(
    "build", [artifacts.traversal_zip, artifacts.absolute_path_zip, artifacts.symlink_zip]
)
def test_extract_never_writes_outside_dest(tmp_path, build):
    with pytest.raises(InvalidPackage):
        extract(build(), tmp_path / "a" / "b" / "code", LIMITS)
    assert [p.name for p in tmp_path.rglob("*")] == []


def test_extract_removes_partial_files_on_failure(tmp_path, monkeypatch):
    data = artifacts.function_zip("print(1)\n", {"lib/util.py": "X = 1\n"})
    real_write_file = archive._write_file
    calls = []

    def fail_second(*args):
        calls.append(args)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_write_file(*args)

    monkeypatch.setattr(archive, "_write_file", fail_second)
    with pytest.raises(OSError, match="No space left"):
        extract(data, tmp_path / "code", LIMITS)
    assert len(calls) == 2
    assert not (tmp_path / "code").exists()


def test_extract_failure_empties_an_existing_dest(tmp_path, monkeypatch):
    def budget_blows(self, count):
        raise PackageTooLarge("too large", reason=Reason.UNZIPPED_TOO_LARGE)

    validate_only = validate(artifacts.memo_function_zip(), LIMITS)
    monkeypatch.setattr(archive, "validate", lambda data, limits: validate_only)
    monkeypatch.setattr(archive._Budget, "add", budget_blows)
    with pytest.raises(PackageTooLarge):
        extract(artifacts.memo_function_zip(), tmp_path, LIMITS)
    assert list(tmp_path.iterdir()) == []


# --- properties -------------------------------------------------------------------------

_names = st.one_of(
    st.sampled_from(["main.py", "lib/", "lib/x.py", "../x", "/abs", "a\\b", "C:/x", "a/./b"]),
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20),
)
_entries = st.lists(
    st.tuples(
        _names,
        st.binary(max_size=200) | st.just(b"print(1)\n"),
        st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2]),
        st.integers(0, 0xFFFFFFFF),
    ),
    max_size=6,
)


def _make_zip(entries: list[tuple[str, bytes, int, int]], with_main: bool) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(buffer, "w") as zf:
            if with_main:
                zf.writestr("main.py", "print('hi')\n")
            for name, content, method, attr in entries:
                info = zipfile.ZipInfo(name)
                info.compress_type = method
                info.external_attr = attr
                zf.writestr(info, content)
    return buffer.getvalue()


def _check_passing(data: bytes, info: PackageInfo) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / "out"
        assert extract(data, dest, LIMITS) == info
        assert [p.name for p in Path(tmp).iterdir()] == ["out"]
        for path in dest.rglob("*"):
            assert not path.is_symlink()
            assert path.resolve().is_relative_to(dest.resolve())
        files = {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()}
        assert files == set(info.names)
        assert (dest / "main.py").is_file()


def _validate_or_refuse(data: bytes) -> PackageInfo | None:
    try:
        return validate(data, Limits(max_entries=8))
    except InvalidPackage:
        return None


_PREFIXES = [b"", b"PK\x03\x04", b"PK\x05\x06", artifacts.memo_function_zip()[:60]]
_SUFFIXES = [b"", artifacts.incident_empty_zip(), artifacts.memo_function_zip()[-60:]]


@given(st.sampled_from(_PREFIXES), st.binary(max_size=400), st.sampled_from(_SUFFIXES))
def test_arbitrary_bytes_only_raise_invalid_package(prefix, middle, suffix):
    _validate_or_refuse(prefix + middle + suffix)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_entries, st.booleans(), st.data())
def test_generated_zips_validate_or_refuse_and_extract_safely(entries, with_main, draw):
    data = _make_zip(entries, with_main)
    if draw.draw(st.booleans()):  # damage a few bytes
        flips = draw.draw(st.lists(st.integers(0, len(data) - 1), max_size=4))
        mutable = bytearray(data)
        for at in flips:
            mutable[at] ^= 0xFF
        data = bytes(mutable)
    info = _validate_or_refuse(data)
    if info is not None:
        _check_passing(data, info)


def test_overlap_check_sees_a_real_overlap_in_zipfile():
    # The artifact must be readable by this Python's zipfile, or the test above proves little.
    with zipfile.ZipFile(io.BytesIO(artifacts.overlapping_entries_zip())) as zf:
        assert zf.testzip() is None
        assert zf.read("main.py") == artifacts.MEMO_SOURCE.encode()
