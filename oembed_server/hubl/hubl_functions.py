"""HubL functions HubSpot's Media Bridge examples call that have no portal data behind them."""
from __future__ import annotations

import re
from collections.abc import Mapping

from oembed_server.hubl.hubl_errors import HublError

_COLOR = re.compile(r"^#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def video_thumbnail(options=None):
    """``video_thumbnail({url, color, width})``: in HubSpot, the image at ``url`` redrawn
    by HubSpot's image service with a play button of ``color``, ``width`` pixels wide, for
    emails. HubSpot's reference does not document the URL it returns, and the preview has
    no image service, so the preview checks the arguments as HubSpot takes them and
    answers the image itself (the email shows the poster without the drawn button)."""
    if not isinstance(options, Mapping) or not isinstance(options.get("url"), str) or not options["url"].strip():
        raise HublError("video_thumbnail() expects a dict with an image url, e.g. video_thumbnail({url: ...})")
    color = options.get("color")
    if color not in (None, "") and not (isinstance(color, str) and _COLOR.match(color)):
        raise HublError(f"video_thumbnail(): color must be a hex colour like #ff7a59, got {color!r}")
    width = options.get("width")
    if width not in (None, ""):
        try:
            number = int(width)
        except (TypeError, ValueError):
            raise HublError(f"video_thumbnail(): width must be a whole number, got {width!r}") from None
        if number <= 0:
            raise HublError(f"video_thumbnail(): width must be positive, got {number}")
    return options["url"].strip()
