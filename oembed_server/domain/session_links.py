"""Signed links to pages that show visitor data (the per-session attention page).

HubSpot shows a played event's ``iframeUrl`` on the contact timeline for as long as the
event exists, so these links do not expire; the signature (salted per purpose with the
app's secret key) is what keeps session ids from being enumerated.
"""
from __future__ import annotations

from itsdangerous import BadSignature, Signer, URLSafeSerializer

_SESSION_SALT = "insights-session-link"


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SESSION_SALT)


def session_page_url(public_url: str, secret_key: str, session_id: str) -> str:
    """The absolute URL of one play session's attention page."""
    token = _serializer(secret_key).dumps(session_id)
    return f"{public_url}/insights/session/{token}"


def session_id_from_token(secret_key: str, token: str) -> str | None:
    """The session id a link token was signed for, or None for a forged or foreign one."""
    try:
        value = _serializer(secret_key).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


_MEDIA_SALT = "insights-media-link"


def _media_signer(secret_key: str) -> Signer:
    return Signer(secret_key, salt=_MEDIA_SALT)


def media_insights_url(public_url: str, secret_key: str, external_id: str) -> str:
    """The absolute URL of one item's insights page, signed for that item only."""
    from urllib.parse import quote
    key = _media_signer(secret_key).get_signature(external_id).decode("ascii")
    return f"{public_url}/insights/{quote(external_id, safe='')}?key={key}"


def media_insights_key_valid(secret_key: str, external_id: str, key: str | None) -> bool:
    if not key:
        return False
    return _media_signer(secret_key).verify_signature(external_id, key)
