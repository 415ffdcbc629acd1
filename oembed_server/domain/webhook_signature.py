"""HubSpot's webhook request signatures, checked exactly as HubSpot computes them.

v3 (``X-HubSpot-Signature-v3``): base64 of HMAC-SHA256, keyed with the app's client
secret, over ``method + URI + raw body + timestamp``, where the URI is the full URL HubSpot
called with a listed set of percent-escapes decoded, and the timestamp
(``X-HubSpot-Request-Timestamp``, epoch ms) is refused when more than five minutes off.
v1 (``X-HubSpot-Signature``): hex SHA-256 of ``client secret + raw body``, no timestamp;
only for apps made the older way. Every comparison is constant-time. Pure: no I/O.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re

MAX_AGE_MS = 5 * 60 * 1000
# The escapes HubSpot decodes before signing (from its request-validation page).
_DECODED = {"3A": ":", "2F": "/", "3F": "?", "40": "@", "21": "!", "24": "$", "27": "'", "28": "(", "29": ")",
            "2A": "*", "2C": ",", "3B": ";"}
_ESCAPE = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)


class SignatureRefused(Exception):
    """Why a request is not accepted as HubSpot's; the message names what was wrong, never a secret."""


def decode_uri(uri: str) -> str:
    return _ESCAPE.sub(lambda m: _DECODED[m.group(1).upper()], uri)


def v3_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.upper().encode() + decode_uri(uri).encode("utf-8") + body + timestamp.encode("utf-8")
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()).decode()


def v1_signature(secret: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode("utf-8") + body).hexdigest()


def v2_signature(secret: str, method: str, uri: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode("utf-8") + method.upper().encode() + uri.encode("utf-8") + body).hexdigest()


def check_v3(secret: str, method: str, uri: str, body: bytes, signature: str | None, timestamp: str | None,
             now_ms: int) -> None:
    """Raise SignatureRefused unless ``signature`` is HubSpot's v3 signature of this request,
    made within five minutes of ``now_ms``."""
    if not signature:
        raise SignatureRefused("X-HubSpot-Signature-v3 is missing")
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 16:
        raise SignatureRefused("X-HubSpot-Request-Timestamp is missing or not epoch milliseconds")
    # A clock ahead of ours by more than the window is refused too: the window bounds replays.
    if abs(now_ms - int(timestamp)) > MAX_AGE_MS:
        raise SignatureRefused("X-HubSpot-Request-Timestamp is more than 5 minutes old")
    expected = v3_signature(secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
        raise SignatureRefused("X-HubSpot-Signature-v3 does not match this request")


def check_v1(secret: str, body: bytes, signature: str | None, version: str | None) -> None:
    if not signature:
        raise SignatureRefused("X-HubSpot-Signature is missing")
    if version is not None and version.strip().lower() != "v1":
        raise SignatureRefused(f"X-HubSpot-Signature-Version is {version!r}; this server takes v1 here")
    expected = v1_signature(secret, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode("utf-8", "replace")):
        raise SignatureRefused("X-HubSpot-Signature does not match this request")
