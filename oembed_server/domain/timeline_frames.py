"""Who may frame the session insights page: HubSpot's app, where a played event's
``iframeUrl`` opens in a modal on the contact timeline.

One list for every data centre HubSpot serves its app from; OEMBED_TIMELINE_FRAME_ANCESTORS
replaces it (``settings.parse_frame_ancestors``).
"""
from __future__ import annotations

import re

# app.hubspot.com is the US (na1) app; the others are HubSpot's further data centres.
TIMELINE_FRAME_ANCESTORS: tuple[str, ...] = (
    "https://app.hubspot.com",
    "https://app-eu1.hubspot.com",
    "https://app-na2.hubspot.com",
    "https://app-na3.hubspot.com",
    "https://app-ap1.hubspot.com",
)

# A CSP source expression of the one kind this list takes: scheme, host (a leading "*." as
# CSP allows), optional port, nothing else; no keyword, no path.
CSP_ORIGIN = re.compile(r"https?://(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::[0-9]{1,5})?")
