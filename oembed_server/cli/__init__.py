"""The ``oembed-server`` command line, and what the scripts in ``scripts/`` share."""
from oembed_server.cli.commands import cli, main

__all__ = ["cli", "main"]
