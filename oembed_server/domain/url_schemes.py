"""Which URLs this provider answers for, and which media item each one names.

Schemes use HubSpot's (and oEmbed's) registration syntax: ``*`` is a wildcard in the path,
the query or for subdomains, never in the URL scheme or the top-level domain. They are
compiled once into a single regular expression, so matching costs the same whatever the
size of the catalog and never touches the database.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from oembed_server.domain.media import external_id_problem

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME_RE = re.compile(r"(?P<scheme>[^:/?#]*)://(?P<authority>[^/?#]*)(?P<rest>.*)", re.DOTALL)
_HOST_LABEL_RE = re.compile(r"[a-z0-9_*-]+|\[[0-9a-f:.*]+\]")
# A host wildcard stands for one or more whole labels; it must not swallow a port or userinfo.
_HOST_WILDCARD = r"[^/?#@:\[\]]*"
_PATH_WILDCARD = r".*"
_MEDIA_PATHS = ("/media/", "/embed/")


class UrlMatcher:
    """Answers "is this one of our media URLs, and for which external_id?"."""

    def __init__(self, schemes: Iterable[str], public_url: str):
        self.schemes = tuple(schemes)
        if not self.schemes:
            raise ValueError("at least one URL scheme is required")
        path_only: list[str] = []
        with_query: list[str] = []
        for scheme in self.schemes:
            pattern, has_query = _scheme_pattern(scheme)
            (with_query if has_query else path_only).append(pattern)
        self._path_re = _alternation(path_only)
        self._query_re = _alternation(with_query)
        public = urlsplit(public_url)
        self._public_path = public.path.rstrip("/")

    def external_id(self, url: str) -> str | None:
        """The external_id a media URL names, or None when it is not one of ours.

        Accepts ``{public}/media/<id>`` and the player form ``{public}/embed/<id>`` (matched
        as its ``/media/`` twin), with a trailing slash, any query string or fragment, and
        percent-encoding in the id. Never raises on odd input.
        """
        parts = _split(url)
        if parts is None:
            return None
        scheme, authority, path, query = parts
        raw_id = self._id_segment(path)
        if raw_id is None:
            return None
        if raw_id.endswith("/"):
            raw_id = raw_id[:-1]
        if not raw_id or "/" in raw_id:
            return None
        canonical_path = f"{self._public_path}/media/{raw_id}"
        if not self.matches_parts(scheme, authority, canonical_path, query):
            return None
        try:
            external_id = unquote(raw_id, errors="strict")
        except UnicodeDecodeError:
            return None
        # Encoded slashes, control characters and the like cannot belong to a catalog id.
        return None if external_id_problem(external_id) else external_id

    def _id_segment(self, path: str) -> str | None:
        for form in _MEDIA_PATHS:
            prefix = self._public_path + form
            if path.startswith(prefix):
                return path[len(prefix):]
        return None

    def matches(self, url: str) -> bool:
        """True when the URL fits one of the configured schemes as written."""
        parts = _split(url)
        return parts is not None and self.matches_parts(*parts)

    def matches_parts(self, scheme: str, authority: str, path: str, query: str) -> bool:
        base = f"{scheme}://{authority}{path}"
        if self._path_re is not None and self._path_re.fullmatch(base):
            return True
        if self._query_re is not None:
            return self._query_re.fullmatch(f"{base}?{query}" if query else base) is not None
        return False


def compile_url_schemes(schemes: Iterable[str], public_url: str) -> UrlMatcher:
    """Build the matcher; raises ValueError naming the first malformed scheme."""
    return UrlMatcher(schemes, public_url)


def _scheme_pattern(scheme: str) -> tuple[str, bool]:
    found = _SCHEME_RE.fullmatch(scheme)
    if not found or any(c.isspace() for c in scheme):
        raise ValueError(f"{scheme!r} is not a URL scheme such as https://media.example.com/media/*")
    url_scheme = found["scheme"].lower()
    if "*" in url_scheme:
        raise ValueError(f"{scheme!r}: '*' may not stand in the URL scheme (http or https)")
    if url_scheme not in _DEFAULT_PORTS:
        raise ValueError(f"{scheme!r}: only http:// and https:// schemes are supported")
    host_pattern = _authority_pattern(scheme, url_scheme, found["authority"].lower())
    rest = found["rest"]
    if "#" in rest:
        raise ValueError(f"{scheme!r}: a scheme may not contain a fragment")
    path, has_query, query = rest.partition("?")
    pattern = re.escape(url_scheme) + "://" + host_pattern + _wildcards(path or "/", _PATH_WILDCARD)
    if has_query:
        pattern += r"\?" + _wildcards(query, _PATH_WILDCARD)
    return pattern, bool(has_query)


def _authority_pattern(scheme: str, url_scheme: str, authority: str) -> str:
    if "@" in authority:
        raise ValueError(f"{scheme!r}: a scheme may not contain user information")
    host, port = authority, None
    if not authority.endswith("]") and ":" in authority:
        host, _, port = authority.rpartition(":")
    elif "]:" in authority:
        host, _, port = authority.rpartition(":")
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{scheme!r}: the port must be a number")
        if int(port) == _DEFAULT_PORTS[url_scheme]:
            port = None
    labels = host.split(".") if not host.startswith("[") else [host]
    if not host or not all(_HOST_LABEL_RE.fullmatch(label) for label in labels):
        raise ValueError(f"{scheme!r}: {host!r} is not a host name")
    if "*" in labels[-1]:
        raise ValueError(f"{scheme!r}: '*' may not stand for the top-level domain or an IP address")
    pattern = _wildcards(host, _HOST_WILDCARD)
    return pattern + (re.escape(f":{port}") if port else "")


def _wildcards(text: str, wildcard: str) -> str:
    return wildcard.join(re.escape(piece) for piece in text.split("*"))


def _alternation(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.DOTALL)


def _split(url: str) -> tuple[str, str, str, str] | None:
    """(scheme, host[:port], path, query) in the form schemes are compiled against, or None.

    Scheme and host are case-insensitive and a default port is the same as none, so they
    are normalised; the path and query stay exactly as written.
    """
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    authority = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return scheme, authority, parts.path or "/", parts.query
