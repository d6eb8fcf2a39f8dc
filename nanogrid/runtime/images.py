"""Finding a usable image: the one asked for, else a local stand-in built from Debian packages.

The defaults are the images users pull (``python:3.11-slim``, ``redis:7``, LocalStack).
Where no registry is reachable, ``scripts/build-images.sh`` builds stand-ins under the
``nanogrid/*:local`` names; an image that is neither present nor pullable falls back to its
stand-in when that one is present, with a warning that says so.
"""

from __future__ import annotations

import logging
from typing import Any

from docker.errors import DockerException, ImageNotFound

logger = logging.getLogger(__name__)

#: The local stand-in of each default image (built by scripts/build-images.sh).
STAND_INS = {
    "python:3.11-slim": "nanogrid/python:local",
    "redis:7": "nanogrid/redis:local",
    "localstack/localstack": "nanogrid/moto:local",
}


class ImageUnavailable(DockerException):  # type: ignore[misc]  # the SDK is untyped
    """Neither the image nor its stand-in is present, and the image cannot be pulled."""


def stand_in(image: str) -> str | None:
    repository = image.split(":", 1)[0]
    return STAND_INS.get(image) or STAND_INS.get(repository)


def present(client: Any, image: str) -> bool:
    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    return True


def available_image(client: Any, image: str) -> str:
    """``image`` if present or pullable, else its present stand-in; raises ImageUnavailable."""
    if present(client, image):
        return image
    try:
        client.images.pull(image)
        return image
    except DockerException as exc:
        reason = str(exc).splitlines()[0][:200]
    local = stand_in(image)
    if local is not None and present(client, local):
        logger.warning("cannot pull %s (%s); using the local stand-in %s", image, reason, local)
        return local
    hint = f" or build {local} with scripts/build-images.sh" if local else ""
    raise ImageUnavailable(f"image {image} is absent and cannot be pulled ({reason}){hint}")
