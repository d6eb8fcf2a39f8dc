"""Settings for the doctor: the controller's variables, from the environment or an env file."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.doctor import ConfigError, DoctorConfig, read_env_file


def test_the_env_file_reads_what_up_prints(tmp_path):
    path = tmp_path / "up.env"
    path.write_text(
        "# written by nanogrid-harness up\n"
        "CONTROLLER_URL=http://127.0.0.1:8080\n"
        "\n"
        "export REDIS_URL='redis://10.0.0.5:6379/0'\n"
        'NANOGRID_BUCKET="code"\n'
        "AWS_ENDPOINT_URL=\n"
    )
    assert read_env_file(path) == {
        "CONTROLLER_URL": "http://127.0.0.1:8080",
        "REDIS_URL": "redis://10.0.0.5:6379/0",
        "NANOGRID_BUCKET": "code",
        "AWS_ENDPOINT_URL": "",
    }


def test_a_line_that_is_not_key_value_is_named_with_its_number(tmp_path):
    path = tmp_path / "mixed.env"
    path.write_text("REDIS_URL=redis://h:1/0\nNanoGrid is up at http://127.0.0.1:1\n")
    with pytest.raises(ConfigError, match=r"mixed\.env:2 is not a KEY=value line"):
        read_env_file(path)


def test_settings_are_the_controllers_and_options_win():
    env = {
        "REDIS_URL": "redis://10.0.0.5:6379/0",
        "AWS_ENDPOINT_URL": "http://aws:4566",
        "AWS_ENDPOINT_URL_SQS": "http://sqs:9324",
        "NANOGRID_REDIS_CONNECT_TIMEOUT": "3",
        "CONTROLLER_URL": "http://from-env:8080",
    }
    config = DoctorConfig.from_env(env, controller_url="http://option:1", read_timeout=1.5)
    assert config.settings.redis_url == "redis://10.0.0.5:6379/0"
    assert config.settings.endpoint_for("sqs") == "http://sqs:9324"
    assert config.settings.endpoint_for("s3") == "http://aws:4566"
    assert config.controller_url == "http://option:1"
    assert (config.connect_timeout, config.read_timeout) == (3.0, 1.5)
    assert DoctorConfig.from_env(env).controller_url == "http://from-env:8080"
    assert DoctorConfig.from_env({}).connect_timeout == 2.0


def test_only_an_env_file_brings_its_own_credentials():
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "secret"}
    isolated = DoctorConfig.from_env(env, isolated=True)
    assert isolated.credentials == {
        "aws_access_key_id": "test",
        "aws_secret_access_key": "secret",
    }
    assert DoctorConfig.from_env(env).credentials == {}  # boto3's own chain reads them


def test_a_malformed_setting_is_a_config_error():
    with pytest.raises(ConfigError, match="not a number"):
        DoctorConfig.from_env({"NANOGRID_REDIS_CONNECT_TIMEOUT": "soon"})


def test_the_cli_refuses_an_unreadable_env_file_with_status_2(tmp_path):
    result = CliRunner().invoke(app, ["doctor", "--env", str(tmp_path / "missing.env")])
    assert result.exit_code == 2
    assert "cannot read the env file" in " ".join(result.output.split())
