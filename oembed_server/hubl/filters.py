"""HubL's own filters (the ones Jinja2 lacks), as plain functions over values.

Escaping is chosen by output context, as HubSpot documents it:
``escape_html`` for text, ``escape_attr`` for attribute values, ``escape_url`` for URLs
in ``href``/``src``, ``escape_js`` inside JavaScript strings, ``sanitize_html`` for rich text.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlsplit

from jinja2 import Undefined

from oembed_server.hubl.sanitize import sanitize_html as _sanitize

_ENTITY_OR_AMP = re.compile(r"&(?!(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")
_URL_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ESCAPE_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Reserved characters stay as they are; everything else unsafe in HTML or URLs is encoded.
# "'" is encoded too so the result is safe in single-quoted attributes.
_URL_SAFE = ":/?#[]@!$&()*+,;=%~-._"


def _text(value) -> str:
    if value is None or isinstance(value, Undefined):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def escape_html(value) -> str:
    """Escapes markup but keeps existing entities (``&amp;`` stays ``&amp;``), like HubL."""
    text = _ENTITY_OR_AMP.sub("&amp;", _text(value))
    return (text.replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def escape_attr(value) -> str:
    text = _text(value)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;").replace("`", "&#96;"))


def escape_url(value) -> str:
    """A URL safe for an attribute, or "" when it is invalid or uses a dangerous scheme."""
    text = _text(value).strip()
    if not text or _URL_CONTROL.search(text):
        return ""
    match = _URL_SCHEME.match(text)
    if match and match.group(1).lower() not in ESCAPE_URL_SCHEMES:
        return ""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return ""
    if match and match.group(1).lower() in ("http", "https") and not parts.hostname:
        return ""
    return quote(text, safe=_URL_SAFE).replace("&", "&amp;")


def escape_js(value) -> str:
    """Escapes for a JavaScript string literal inside an HTML ``<script>`` or attribute."""
    out = []
    for char in _text(value):
        if char in "\\'\"`":
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char in "<>&=/" or ord(char) < 0x20 or char in "\u2028\u2029":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


# commons-lang3's escapeJson, which Jinjava's escapejson uses: quote, backslash and slash,
# the short control escapes, and \uXXXX for everything else outside printable ASCII.
_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\n": "\\n",
                 "\t": "\\t", "\f": "\\f", "\r": "\\r"}


def escape_json(value) -> str:
    """HubL's ``escapejson``: the value as the inside of a JSON (or JavaScript) string."""
    out = []
    for char in _text(value) if value is not None else "null":
        if char in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[char])
        elif " " <= char <= "\x7f":
            out.append(char)
        else:
            encoded = char.encode("utf-16-be")
            out.extend(f"\\u{int.from_bytes(encoded[i:i + 2], 'big'):04X}" for i in range(0, len(encoded), 2))
    return "".join(out)


def default(value, default_value="", boolean=False):
    """HubL's ``default``: Jinjava has no undefined apart from null, so null takes the
    default too (Jinja's own keeps None); with ``boolean`` any falsy value does."""
    if boolean:
        return value if value else default_value
    return default_value if value is None or isinstance(value, Undefined) else value


def sanitize_html(value) -> str:
    return _sanitize(_text(value))


def pprint(value) -> str:
    """HubL's debugging print: the value with its (Java-side) type name, e.g. ``(String: hi)``."""
    if value is None or isinstance(value, Undefined):
        return "null"
    return f"({_type_name(value)}: {_plain(value)})"


def _type_name(value) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Long"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "String"
    if isinstance(value, Mapping):
        return "SizeLimitingPyMap"
    if isinstance(value, Sequence):
        return "SizeLimitingPyList"
    return type(value).__name__


def _plain(value) -> str:
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return _text(value)


HUBL_FILTERS = {
    "escape_html": escape_html,
    "escape_attr": escape_attr,
    "escape_url": escape_url,
    "escape_js": escape_js,
    "escapejs": escape_js,
    "escapejson": escape_json,
    "default": default,
    "d": default,
    "sanitize_html": sanitize_html,
    "pprint": pprint,
}
