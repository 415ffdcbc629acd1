"""Which sites may frame the player for a portal: pure rules on host names.

A report carries a contact (``contactUtk``) and page fields only when the page that framed
the player belongs to the report's portal: one of the portal's own domains (HubSpot's CMS
domains API, read at provisioning), a host its operator listed, or one of HubSpot's own
hosts, where editors and previews show pages of every portal. The framing origin comes from
the browser (the iframe request's ``Referer``, the player's ``location.ancestorOrigins`` or
``document.referrer``); a page that hides it cannot be checked, so its reports go out
without a contact.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

# HubSpot's own hosts (preview, page editor, default site domains), in one place, with their
# EU data-centre forms. Every portal's previews are served from them, so any portal's page
# there is accepted for any portal: see the README's Security section for what that leaves.
HUBSPOT_HOST_SUFFIXES = (
    "hubspot.com",
    "hs-sites.com",
    "hubspotpagebuilder.com",
    "hs-sites-eu1.com",
    "hubspotpagebuilder-eu1.com",
)

# A DNS name: labels of letters, digits and hyphens, not starting or ending with a hyphen.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST_RE = re.compile(rf"{_LABEL}(\.{_LABEL})*")
MAX_HOST = 253


def host_problem(text: str) -> str | None:
    """Why ``text`` is not a host name an operator may list, or None."""
    if not text or len(text) > MAX_HOST:
        return f"must be 1 to {MAX_HOST} characters"
    if "://" in text or "/" in text or ":" in text:
        return "must be a host name only (no scheme, port or path), e.g. www.example.com"
    if not _HOST_RE.fullmatch(text.lower()):
        return "must be a DNS host name: letters, digits, hyphens and dots"
    if "." not in text:
        return "must be a full host name with a dot, e.g. www.example.com"
    return None


def normalise_host(text: str) -> str:
    """The stored form of a host name: lower case, without a trailing dot."""
    return text.strip().rstrip(".").lower()


def origin_host(origin: str | None) -> str | None:
    """The host of an http(s) origin or URL (``https://www.example.com:443/x``), lower
    case; None for anything else (``null``, ``about:blank``, garbage)."""
    if not origin or len(origin) > 2048:
        return None
    try:
        parts = urlsplit(origin)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return host.rstrip(".").lower()


def is_hubspot_host(host: str) -> bool:
    return any(host == suffix or host.endswith("." + suffix) for suffix in HUBSPOT_HOST_SUFFIXES)


def host_belongs(host: str, portal_hosts: Iterable[str]) -> bool:
    """The framing host is HubSpot's own, or exactly one of the portal's hosts."""
    return is_hubspot_host(host) or host in set(portal_hosts)


def framing_verdict(observed: Iterable[str | None], portal_hosts: Iterable[str]) -> str | None:
    """None when the framing page is the portal's: every origin the browser revealed
    (several sources may tell) is one of the portal's hosts, and at least one was revealed.
    Otherwise the reason, ``"unknown"`` (nothing revealed) or ``"foreign"``."""
    given = [o for o in observed if o]
    if not given:
        return "unknown"
    hosts = [origin_host(o) for o in given]
    known = set(portal_hosts)
    if any(h is None or not host_belongs(h, known) for h in hosts):
        return "foreign"
    return None
