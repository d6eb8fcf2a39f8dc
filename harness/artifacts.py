"""Builders of test artifacts: function zips, good and bad, and function sources.

Every builder returns fresh bytes (or source text) and is deterministic: entries carry a fixed
timestamp, so the same call gives the same sha256. The bad zips are those
:func:`nanogrid.archive.validate` must refuse, one per refusal reason.
"""

from __future__ import annotations

import hashlib
import io
import struct
import textwrap
import warnings
import zipfile
import zlib

_DATE = (2025, 12, 2, 7, 40, 19)  # the incident's minute
_FILE_MODE = 0o100644 << 16
_DIR_MODE = (0o040755 << 16) | 0x10  # unix mode + MS-DOS directory bit
_LINK_MODE = 0o120777 << 16

MEMO_SOURCE = textwrap.dedent(
    """\
    #!/usr/bin/env python3
    print("Hello from NanoGrid Plus!")
    print("Test function is working!")
    print("Result: 42")
    """
)
#: What :data:`MEMO_SOURCE` prints: the memo's expected ``stdout``.
MEMO_STDOUT = "Hello from NanoGrid Plus!\nTest function is working!\nResult: 42\n"
SIMPLE_SOURCE = 'print("ok")\n'

FAILING_SOURCE = textwrap.dedent(
    """\
    import sys
    print("about to fail", file=sys.stderr)
    sys.exit(2)
    """
)


def _info(name: str, mode: int = _FILE_MODE, method: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_DATE)
    info.external_attr = mode
    info.compress_type = method
    return info


def _build(
    entries: list[tuple[str, bytes | str]],
    *,
    method: int = zipfile.ZIP_DEFLATED,
    comment: bytes = b"",
) -> bytes:
    """A zip of ``entries`` (names ending in '/' are folders), in the given order."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name", on purpose
        with zipfile.ZipFile(buffer, "w") as zf:
            for name, content in entries:
                mode = _DIR_MODE if name.endswith("/") else _FILE_MODE
                zf.writestr(_info(name, mode, method), content)
            zf.comment = comment
    return buffer.getvalue()


def function_zip(source: str, extra: dict[str, bytes | str] | None = None) -> bytes:
    """A valid function zip: ``main.py`` holding ``source``, plus ``extra`` files by name."""
    return _build([("main.py", source), *(extra or {}).items()])


def payload(size: int, seed: bytes = b"nanogrid") -> bytes:
    """``size`` deterministic, incompressible bytes (a hash chain)."""
    out = bytearray()
    block = seed
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def memo_with_payload_zip(size: int = 64_000) -> bytes:
    """The memo's function with an incompressible ``data.bin`` of ``size`` bytes beside it:
    a package whose download takes measurable time under a bandwidth cap."""
    return _build(
        [("main.py", MEMO_SOURCE), ("data.bin", payload(size))], method=zipfile.ZIP_STORED
    )


def memo_function_zip() -> bytes:
    """The incident memo's test function, which prints :data:`MEMO_STDOUT`."""
    return function_zip(MEMO_SOURCE)


def empty_zip_22() -> bytes:
    """An empty zip as Python's zipfile writes it: 22 bytes, end-of-central-directory only."""
    data = _build([])
    assert len(data) == 22, len(data)
    return data


def incident_empty_zip() -> bytes:
    """The incident's 34-byte upload: an empty zip with a 12-byte comment."""
    data = _build([], comment=b"nanogrid-v1\n")
    assert len(data) == 34, len(data)
    return data


def not_a_zip() -> bytes:
    """An HTML error page uploaded instead of a zip."""
    return b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"


def truncated_zip() -> bytes:
    """The memo's zip cut in half, as an interrupted upload leaves it."""
    data = memo_function_zip()
    return data[: len(data) // 2]


def corrupt_crc_zip() -> bytes:
    """A stored zip whose main.py has one byte changed after the CRC was computed."""
    data = _build([("main.py", MEMO_SOURCE)], method=zipfile.ZIP_STORED)
    at = data.index(b"Result: 42")
    return data[:at] + b"X" + data[at + 1 :]


def nested_main_zip() -> bytes:
    """A zip of the folder instead of its contents: main.py is at myfunc/main.py."""
    return _build([("myfunc/", b""), ("myfunc/main.py", MEMO_SOURCE)])


def no_main_zip(entry: str = "app.py") -> bytes:
    """A zip whose code is in ``entry`` (default ``app.py``), with no main.py anywhere."""
    return _build([(entry, MEMO_SOURCE), ("README.md", "# my function\n")])


def bad_name_zip(name: str) -> bytes:
    """A valid function zip plus one entry called ``name`` (meant to be hostile)."""
    return _build([("main.py", MEMO_SOURCE), (name, b"print('escaped')\n")])


def traversal_zip() -> bytes:
    """A zip with an entry climbing out of the extraction folder: ``../../evil.py``."""
    return bad_name_zip("../../evil.py")


def absolute_path_zip() -> bytes:
    """A zip with an absolute entry name: ``/tmp/evil.py``."""
    return bad_name_zip("/tmp/evil.py")


def backslash_zip() -> bytes:
    """A zip with a Windows-style entry name: ``..\\..\\evil.py``."""
    return bad_name_zip("..\\..\\evil.py")


def drive_letter_zip() -> bytes:
    """A zip with a drive-letter entry name: ``C:/evil.py``."""
    return bad_name_zip("C:/evil.py")


def symlink_zip(target: str = "/etc/passwd") -> bytes:
    """A valid function zip plus a symbolic-link entry ``link`` pointing at ``target``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(_info("main.py"), MEMO_SOURCE)
        zf.writestr(_info("link", _LINK_MODE, zipfile.ZIP_STORED), target)
    return buffer.getvalue()


def encrypted_flag_zip() -> bytes:
    """The memo's zip with the 'encrypted' flag bit set on main.py (local and central headers)."""
    data = bytearray(memo_function_zip())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + flags_at
        (flags,) = struct.unpack_from("<H", data, at)
        struct.pack_into("<H", data, at, flags | 0x1)
    return bytes(data)


def duplicate_names_zip() -> bytes:
    """A zip holding main.py twice, with different contents."""
    return _build([("main.py", MEMO_SOURCE), ("main.py", FAILING_SOURCE)])


def many_entries_zip(n: int) -> bytes:
    """A valid function zip with ``n`` entries in all: main.py and ``n - 1`` tiny files."""
    extra = [(f"data/{index:06d}.txt", b"x") for index in range(n - 1)]
    return _build([("main.py", MEMO_SOURCE), *extra], method=zipfile.ZIP_STORED)


def zip_bomb(unzipped_bytes: int) -> bytes:
    """A function zip with ``zeros.bin``: ``unzipped_bytes`` zeros, deflated ~1000 to 1."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(_info("main.py"), MEMO_SOURCE)
        with zf.open(_info("zeros.bin"), "w", force_zip64=unzipped_bytes >= 2**31) as out:
            block = bytes(1024 * 1024)
            for start in range(0, unzipped_bytes, len(block)):
                out.write(block[: unzipped_bytes - start])
    return buffer.getvalue()


def overlapping_entries_zip() -> bytes:
    """Two entries sharing bytes (CVE-2024-0450): ``wrapper.bin``'s data is main.py's record.

    Both entries read back with a correct CRC under zipfile, which does not check overlaps
    before Python 3.11.8 / 3.12.2.
    """
    source = MEMO_SOURCE.encode()
    inner = _local_header("main.py", source) + source
    outer = _local_header("wrapper.bin", inner)
    directory = _central_header("wrapper.bin", inner, 0)
    directory += _central_header("main.py", source, len(outer))
    body = outer + inner
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 2, 2, len(directory), len(body), 0)
    return body + directory + end


def _local_header(name: str, content: bytes) -> bytes:
    """A stored entry's local file header, name included."""
    raw = name.encode()
    crc, size = zlib.crc32(content), len(content)
    fixed = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0x21, crc, size, size, len(raw), 0)
    return fixed + raw


def _central_header(name: str, content: bytes, offset: int) -> bytes:
    """A stored entry's central-directory header, its local header at ``offset``."""
    raw = name.encode()
    crc, size = zlib.crc32(content), len(content)
    fixed = struct.pack(
        "<4s6H3L5H2L",
        b"PK\x01\x02",
        0x031E,  # made by: unix, version 3.0
        20,
        0,
        0,
        0,
        0x21,
        crc,
        size,
        size,
        len(raw),
        0,
        0,
        0,
        0,
        _FILE_MODE,
        offset,
    )
    return fixed + raw


def syntax_error_zip() -> bytes:
    """A function zip whose main.py has a syntax error on line 2."""
    return function_zip('print("start")\ndef broken(:\n    pass\n')


def hang_source(seconds: float) -> str:
    """A function that prints 'started', then sleeps ``seconds``."""
    return f"import time\nprint('started', flush=True)\ntime.sleep({seconds!r})\n"


def memory_hog_source(mb: int) -> str:
    """A function that allocates ``mb`` MiB and writes to every page of it."""
    return textwrap.dedent(
        f"""\
        block = bytearray({mb} * 1024 * 1024)
        for at in range(0, len(block), 4096):
            block[at] = 1
        print("touched", {mb}, "MB")
        """
    )


def spawn_children_source(
    child_seconds: float = 300, parent_seconds: float = 300, pid_file: str | None = None
) -> str:
    """A function that starts a child sleeping ``child_seconds``, then sleeps itself.

    The child stays in the function's process group and keeps its stdout: a runtime that
    kills only the parent leaves it behind. The child's pid is printed and, if ``pid_file``
    is given, written there.
    """
    return textwrap.dedent(
        f"""\
        import subprocess, sys, time
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep({child_seconds!r})"]
        )
        if {pid_file!r} is not None:
            with open({pid_file!r}, "w") as out:
                out.write(str(child.pid))
        print("child", child.pid, flush=True)
        time.sleep({parent_seconds!r})
        """
    )


def echo_input_source() -> str:
    """A function that reads the inputData JSON on stdin (none: null) and prints it back."""
    return textwrap.dedent(
        """\
        import json, sys
        raw = sys.stdin.read()
        data = json.loads(raw) if raw.strip() else None
        print(json.dumps(data, sort_keys=True))
        """
    )
