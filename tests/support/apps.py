"""Building the app (and its command line) the way the tests need it."""
from __future__ import annotations

from typing import Any

from click.testing import Result
from flask import Flask

from oembed_server import create_app
from oembed_server.cli import cli
from tests.support.environment import PUBLIC_URL, SECRET_KEY


def make_app(database_url: str, **overrides: Any) -> Flask:
    config = {
        "OEMBED_DATABASE_URL": database_url,
        "OEMBED_PUBLIC_URL": PUBLIC_URL,
        "OEMBED_SECRET_KEY": SECRET_KEY,
        "TESTING": True,
    } | overrides
    return create_app(config)


class CommandRunner:
    """``oembed-server ARGS`` run in ``app``'s context, as the command line would run them."""

    def __init__(self, app: Flask):
        self._runner = app.test_cli_runner()

    def invoke(self, args: list[str] | None = None, **kwargs: Any) -> Result:
        return self._runner.invoke(cli, args=args, **kwargs)


def command_runner(app: Flask) -> CommandRunner:
    return CommandRunner(app)
