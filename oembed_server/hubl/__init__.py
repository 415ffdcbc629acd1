"""A HubL renderer on Jinja2 for previewing the CMS modules locally (see renderer.py)."""
from oembed_server.hubl.crm_functions import (
    CrmFunctions,
    InMemoryMediaObjects,
    MediaObjectSource,
    media_object_type,
    parse_media_object_type,
)
from oembed_server.hubl.hubl_errors import HublError, HublLimitError, NotAvailableError, UnknownNameError
from oembed_server.hubl.renderer import EMAIL, HublRenderer, RenderedModule, page_context

__all__ = [
    "CrmFunctions", "EMAIL", "HublError", "HublLimitError", "HublRenderer", "InMemoryMediaObjects",
    "MediaObjectSource", "NotAvailableError", "RenderedModule", "UnknownNameError",
    "media_object_type", "page_context", "parse_media_object_type",
]
