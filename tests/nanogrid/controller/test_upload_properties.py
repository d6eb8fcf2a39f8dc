"""Upload validation through the HTTP API, on arbitrary bytes and arbitrary zips.

Whatever is POSTed to ``/upload``: never a 5xx; a 4xx stores neither an object nor a
metadata item; a 201 stores exactly the bytes sent, and they are a package
:func:`nanogrid.archive.validate` accepts.
"""

from __future__ import annotations

import io
import uuid
import warnings
import zipfile

import httpx
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nanogrid import archive

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID_SOURCE = b"print('hello')\n"
NAMES = st.one_of(
    st.sampled_from(
        [
            "main.py",
            "main.py",
            "lib/util.py",
            "lib/",
            "src/main.py",
            "../main.py",
            "/main.py",
            "a\\main.py",
            "./main.py",
            "MAIN.PY",
            "data.bin",
        ]
    ),
    st.text(min_size=1, max_size=20),
)
CONTENTS = st.one_of(
    st.just(VALID_SOURCE),
    st.sampled_from([b"", b"def f(:\n", b"x = 1\x00\n", b"import sys\nsys.exit(3)\n"]),
    st.binary(max_size=512),
    st.integers(0, 200_000).map(lambda n: b"0" * n),  # compresses far beyond the ratio
)
# bzip2 and lzma are refused (UNSUPPORTED_FORMAT): drawn less often, to keep valid zips.
COMPRESSIONS = st.sampled_from(
    [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED] * 3 + [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
)
ATTRIBUTES = st.one_of(
    st.just(0o644 << 16),
    st.just(0),
    st.just(0o120777 << 16),  # a symlink
    st.just(0o040755 << 16 | 0x10),  # a directory
    st.integers(0, 2**32 - 1),
)


@st.composite
def entries(draw: st.DrawFn) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(
        draw(NAMES),
        date_time=draw(
            st.tuples(
                st.integers(1980, 2107),
                st.integers(1, 12),
                st.integers(1, 28),
                st.integers(0, 23),
                st.integers(0, 59),
                st.integers(0, 59),
            )
        ),
    )
    info.compress_type = draw(COMPRESSIONS)
    info.external_attr = draw(ATTRIBUTES)
    info.comment = draw(st.binary(max_size=16))
    info.flag_bits |= draw(st.sampled_from([0, 0, 0, 0, 0x1]))  # 0x1: claims to be encrypted
    return info


@st.composite
def zips(draw: st.DrawFn) -> bytes:
    """A zip of drawn entries, sometimes with a byte changed or its end cut off."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names: they are wanted
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.comment = draw(st.binary(max_size=32))
            if draw(st.booleans()):  # so that a fair share of the zips are valid
                main = zipfile.ZipInfo("main.py")
                main.compress_type = draw(COMPRESSIONS)
                zf.writestr(main, VALID_SOURCE)
            for info in draw(st.lists(entries(), max_size=4)):
                zf.writestr(info, draw(CONTENTS))
    data = buffer.getvalue()
    damage = draw(st.sampled_from(["none", "none", "none", "flip", "truncate"]))
    if damage == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    elif damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    return data


def post(controller, data: bytes) -> tuple[str, httpx.Response]:
    function_id = f"prop-{uuid.uuid4().hex[:12]}"
    files = {"file": ("f.zip", data, "application/zip")}
    resp = controller.client.post("/upload", files=files, data={"functionId": function_id})
    return function_id, resp


def assert_consistent(controller, data: bytes) -> int:
    """POST ``data``; check what was stored against the answer; return the status code."""
    function_id, resp = post(controller, data)
    assert resp.status_code < 500, resp.text
    objects = controller.s3.list_objects_v2(
        Bucket=controller.settings.bucket, Prefix=f"functions/{function_id}/"
    ).get("Contents", [])
    item = controller.dynamodb.get_item(
        TableName=controller.settings.table, Key={"functionId": {"S": function_id}}
    ).get("Item")
    if resp.status_code != 201:
        assert resp.status_code in (400, 413), resp.text
        assert resp.json()["error"]["code"] in ("INVALID_PACKAGE", "PACKAGE_TOO_LARGE")
        assert (objects, item) == ([], None)
        return int(resp.status_code)
    meta = resp.json()
    assert [obj["Key"] for obj in objects] == [meta["s3Key"]]
    assert item is not None
    assert item["s3Key"]["S"] == meta["s3Key"]
    stored = controller.s3.get_object(Bucket=controller.settings.bucket, Key=meta["s3Key"])
    body = stored["Body"].read()
    assert body == data
    info = archive.validate(body, controller.settings.limits)  # raises if invalid
    assert info.sha256 == meta["sha256"]
    assert "main.py" in info.names
    return int(resp.status_code)


@SETTINGS
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_never_store_an_invalid_package(controller, data: bytes) -> None:
    event(f"HTTP {assert_consistent(controller, data)}")


@SETTINGS
@given(data=zips())
def test_arbitrary_zips_never_store_an_invalid_package(controller, data: bytes) -> None:
    event(f"HTTP {assert_consistent(controller, data)}")


def test_a_valid_zip_is_stored(controller) -> None:
    # The properties above hold trivially if everything is refused: one must be accepted.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("main.py", VALID_SOURCE)
    assert assert_consistent(controller, buffer.getvalue()) == 201
