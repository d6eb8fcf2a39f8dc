"""A function's zip from a dict of files, a folder or the zip itself."""

from __future__ import annotations

import io
import zipfile

import pytest

from harness.pytest_plugin.package import function_package


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_from_a_dict_of_files():
    data = function_package({"main.py": "print('hi')\n", "lib/data.bin": b"\x00\x01"})
    assert entries(data) == {"main.py": b"print('hi')\n", "lib/data.bin": b"\x00\x01"}
    assert function_package({"main.py": "x"}) == function_package({"main.py": "x"})


def test_from_a_folder_without_its_caches(tmp_path):
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "main.py").write_text("import pkg\n")
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assert entries(function_package(tmp_path)) == {
        "main.py": b"import pkg\n",
        "pkg/__init__.py": b"",
    }


def test_a_zip_file_or_bytes_go_as_they_are(tmp_path):
    data = function_package({"main.py": "print(1)\n"})
    (tmp_path / "fn.zip").write_bytes(data)
    assert function_package(tmp_path / "fn.zip") == data
    assert function_package(b"not a zip") == b"not a zip"


def test_an_empty_or_missing_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="holds no file"):
        function_package(tmp_path)
    with pytest.raises(FileNotFoundError):
        function_package(tmp_path / "absent")


def test_source_text_is_not_taken_for_a_package():
    with pytest.raises(TypeError, match="a str is ambiguous"):
        function_package("print('hi')")  # type: ignore[arg-type]
