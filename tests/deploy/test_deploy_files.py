"""The systemd units name commands and flags the CLI has, and upgrade the schema first."""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from oembed_server.cli.commands import worker_command

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def directives(unit: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    text = unit.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


@pytest.mark.parametrize("unit", ["media-bridge-web.service", "media-bridge-worker@.service"])
def test_units_upgrade_the_schema_before_starting_and_read_the_environment_file(unit):
    values = directives(DEPLOY / "systemd" / unit)
    assert values["ExecStartPre"] == ["/opt/media-bridge/venv/bin/oembed-server db upgrade"]
    assert values["EnvironmentFile"] == ["/etc/media-bridge/environment"]
    assert values["KillSignal"] == ["SIGTERM"]
    assert values["Restart"][0] in ("on-failure", "always")


def test_the_worker_unit_s_command_line_is_one_the_cli_accepts():
    command = shlex.split(directives(DEPLOY / "systemd" / "media-bridge-worker@.service")["ExecStart"][0])
    assert command[0].endswith("/oembed-server") and command[1] == "worker"
    # --help after the unit's own flags: click parses them, then prints help instead of running.
    result = CliRunner().invoke(worker_command, [*command[2:], "--help"])
    assert result.exit_code == 0, result.output


def test_the_web_unit_runs_the_app_factory_under_gunicorn():
    command = shlex.split(directives(DEPLOY / "systemd" / "media-bridge-web.service")["ExecStart"][0])
    assert command[0].endswith("/gunicorn") and command[-1] == "oembed_server:create_app()"
    assert "--bind" in command and command[command.index("--bind") + 1].startswith("127.0.0.1:")
