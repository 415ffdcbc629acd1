"""The provider's public URL: one rule for the server and every script, and whether
HubSpot can reach it.

The rule: ``OEMBED_PUBLIC_URL`` when set; otherwise the address a local development server
listens on (``http://127.0.0.1:5000`` unless ``serve`` is given another host or port), with
a warning each time the fallback is taken, because a server on one port and a script
assuming another would hand HubSpot objects that mix two hosts.

HubSpot fetches the oEmbed endpoint and the media URLs from its own servers, so a URL sent
to HubSpot's real API must be public https: loopback, private, link-local and plain-http
addresses are refused (against the emulator, or with an explicit flag, they are allowed).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

ENV_VAR = "OEMBED_PUBLIC_URL"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_PUBLIC_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
# HubSpot's own API hosts; any other base (the emulator, a test double) may take local URLs.
HUBSPOT_API_DOMAIN = "hubapi.com"
_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def is_explicit(environ: Mapping[str, str]) -> bool:
    return bool((environ.get(ENV_VAR) or "").strip())


def local_server_url(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> str:
    """Where a development server on ``host:port`` is reached from this machine."""
    shown = DEFAULT_HOST if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:  # an IPv6 literal
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def fallback_warning(used: str) -> str:
    """What a command prints when it takes the fallback instead of OEMBED_PUBLIC_URL."""
    text = f"warning: {ENV_VAR} is not set; using {used}."
    if used != DEFAULT_PUBLIC_URL:
        text += f" Scripts run without it assume {DEFAULT_PUBLIC_URL}."
    return text + f" Export {ENV_VAR} so the server, the scripts and HubSpot use one address."


def talks_to_hubspot(api_base: str) -> bool:
    host = (urlsplit(api_base).hostname or "").lower()
    return host == HUBSPOT_API_DOMAIN or host.endswith("." + HUBSPOT_API_DOMAIN)


def unreachable_reason(url: str, require_https: bool = True) -> str | None:
    """Why HubSpot's servers could not fetch ``url``, or None when it looks public (https,
    unless ``require_https`` is off: a URL scheme may list the http form of media URLs)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return f"{host} is a local name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if address.is_loopback:
            return f"{host} is a loopback address"
        if address.is_private or address.is_link_local or address.is_unspecified or address.is_reserved:
            return f"{host} is a private address"
    if require_https and parts.scheme != "https":
        return "it is plain http (HubSpot pages are https and block mixed content)"
    return None


def scheme_problem(scheme: str, api_base: str) -> str | None:
    """A refusal for an OEMBED_URL_SCHEMES entry on a host HubSpot cannot reach, or None."""
    if not talks_to_hubspot(api_base):
        return None
    reason = unreachable_reason(scheme, require_https=False)
    return (f"OEMBED_URL_SCHEMES entry {scheme} cannot be sent to HubSpot: {reason}. List public media URLs, "
            "or pass --allow-local-url to send it anyway") if reason else None


def hubspot_reachability_problem(public_url: str, api_base: str, *, from_default: bool) -> str | None:
    """A one-line refusal naming the variable to set, or None when the URL may be sent."""
    if not talks_to_hubspot(api_base):
        return None
    reason = unreachable_reason(public_url)
    if reason is None:
        return None
    source = f"{ENV_VAR} is not set, so the default {public_url}" if from_default else f"{ENV_VAR}={public_url}"
    return (f"{source} cannot be sent to HubSpot: {reason}. Set {ENV_VAR} to this provider's public https "
            f"address (e.g. https://media.example.com), or pass --allow-local-url to send it anyway")
