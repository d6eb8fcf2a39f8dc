"""Image resolution: the image asked for, else its local stand-in, else a clear error."""

from __future__ import annotations

import pytest

from nanogrid.runtime import images
from tests.docker_support import LOCAL_PYTHON_IMAGE, require_docker

pytestmark = pytest.mark.docker

ABSENT = "nanogrid-test/never-published:0"


@pytest.fixture
def client():
    require_docker(LOCAL_PYTHON_IMAGE)
    import docker

    engine = docker.from_env()
    yield engine
    engine.close()


def test_a_present_image_is_used_as_asked(client):
    assert images.available_image(client, LOCAL_PYTHON_IMAGE) == LOCAL_PYTHON_IMAGE


def test_an_unpullable_image_falls_back_to_its_stand_in(client, monkeypatch, caplog):
    monkeypatch.setitem(images.STAND_INS, ABSENT, LOCAL_PYTHON_IMAGE)
    assert images.available_image(client, ABSENT) == LOCAL_PYTHON_IMAGE
    assert "using the local stand-in" in caplog.text


def test_no_image_and_no_stand_in_says_how_to_fix(client, monkeypatch):
    monkeypatch.setitem(images.STAND_INS, ABSENT, "nanogrid-test/no-stand-in:0")
    with pytest.raises(images.ImageUnavailable, match=r"scripts/build-images\.sh"):
        images.available_image(client, ABSENT)
