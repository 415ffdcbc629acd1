"""oEmbed provider for a media library connected to HubSpot through Media Bridge.

The layers, each a sub-package, import only downwards (the import-linter contract in
pyproject.toml enforces it): ``cli`` > ``app`` > ``web`` > ``hubl`` > ``jobs`` >
``usecases`` > ``settings`` > ``hubspot`` | ``storage`` > ``domain``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["create_app", "__version__"]

if TYPE_CHECKING:
    from oembed_server.app import create_app


def __getattr__(name: str) -> Any:
    # ``gunicorn "oembed_server:create_app()"`` finds the factory here; importing it lazily
    # keeps ``import oembed_server.domain`` (or the HubSpot client) free of Flask.
    if name == "create_app":
        from oembed_server.app import create_app
        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
