"""What the doctor examines: the platform's settings, from the environment or an env file.

The settings are :class:`nanogrid.settings.Settings`, read exactly as the controller reads
them (``REDIS_URL``, ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_REGION``,
``NANOGRID_BUCKET``, ``NANOGRID_TABLE``, ``NANOGRID_QUEUE_URL`` / ``NANOGRID_QUEUE``, ...),
plus ``CONTROLLER_URL``. With ``--env FILE`` (the ``KEY=value`` lines ``nanogrid-harness up``
prints) the file *replaces* the process environment: its endpoints and credentials are the
only ones used, so a stray variable of the shell cannot point a check elsewhere.

Precedence: option > environment (or file) > default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.doctor.errors import ConfigError
from nanogrid.settings import Settings

CONTROLLER_VAR = "CONTROLLER_URL"
#: boto3 Session arguments, by the variable that holds each in an env file.
_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "aws_access_key_id",
    "AWS_SECRET_ACCESS_KEY": "aws_secret_access_key",
    "AWS_SESSION_TOKEN": "aws_session_token",
    "AWS_PROFILE": "profile_name",
}
_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


@dataclass(frozen=True)
class DoctorConfig:
    """Where the platform's dependencies are, what to check, and how long to wait.

    ``credentials`` are boto3 Session arguments (empty: boto3's default chain).
    ``isolated`` makes boto3 ignore endpoints configured outside ``settings``.
    """

    settings: Settings
    controller_url: str | None = None
    function_id: str | None = None
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    credentials: Mapping[str, str] = field(default_factory=dict)
    isolated: bool = False

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        isolated: bool = False,
        controller_url: str | None = None,
        function_id: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> DoctorConfig:
        """Settings from ``env``; the timeouts default to the controller's Redis timeouts."""
        try:
            settings = Settings.from_env(env)
        except ValueError as exc:
            raise ConfigError(f"a setting is not a number: {exc}") from exc
        credentials = {arg: env[var] for var, arg in _CREDENTIALS.items() if env.get(var)}
        return cls(
            settings=settings,
            controller_url=controller_url or env.get(CONTROLLER_VAR) or None,
            function_id=function_id,
            connect_timeout=_given(connect_timeout, settings.redis_connect_timeout),
            read_timeout=_given(read_timeout, settings.redis_socket_timeout),
            credentials=credentials if isolated else {},
            isolated=isolated,
        )


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (``export`` and quotes allowed; blank and ``#`` lines skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the env file {path}: {exc}") from exc
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ConfigError(f"{path}:{number} is not a KEY=value line: {line[:80]!r}")
        values[match.group(1)] = _unquote(match.group(2).strip())
    return values


def _given(value: float | None, default: float) -> float:
    return default if value is None else value


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
