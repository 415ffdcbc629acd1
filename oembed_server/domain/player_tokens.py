"""The token the player page carries so that only our own player can report plays.

It binds one media item, its media type, the HubSpot portal the page named
(``hs_portal_id``), whether the viewer asked not to be tracked and, for a page opened
from an email link, that it was and the contact the link named (``email_plays``), signed with the app's
secret key and valid for a limited time: a report without it, with another item's token
or with an old one is refused (so no one can put plays of arbitrary media on a portal's
timeline). Refuses tampered, foreign and expired tokens alike, without saying which.
"""
from __future__ import annotations

import dataclasses
import functools
import time

from itsdangerous import BadData, URLSafeTimedSerializer

from oembed_server.domain.bounded_cache import FifoCache
from oembed_server.domain.email_plays import is_contact_id
from oembed_server.domain.whole_numbers import parse_whole_number

_SALT = "player-events-token"
# A page left open overnight may still report; a leaked token stops working after this.
MAX_AGE_SECONDS = 48 * 3600


@dataclasses.dataclass(frozen=True)
class PlayerClaims:
    external_id: str
    media_type: str
    portal_id: int | None
    dnt: bool
    from_email: bool = False
    contact_id: int | None = None  # only with from_email


@functools.lru_cache(maxsize=4)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    # Built once per key: it derives its signing key on creation, on every report's path.
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def issue_token(secret_key: str, claims: PlayerClaims) -> str:
    value: list[object] = [claims.external_id, claims.media_type, claims.portal_id, 1 if claims.dnt else 0]
    if claims.from_email:
        # A fifth element only for email visits: every other player's token stays as long as before.
        value.append(claims.contact_id)
    return _serializer(secret_key).dumps(value)


def read_token(secret_key: str, token: str, max_age: float = MAX_AGE_SECONDS) -> PlayerClaims | None:
    """The claims of a valid token, or None for a missing, forged or expired one."""
    key = (secret_key, token)
    verified = _verified.get(key)
    if verified is None:
        verified = _verify(secret_key, token)
        if verified is None:
            return None
        _verified.put(key, verified)
    claims, issued_at = verified
    # itsdangerous's own rule, kept for a remembered token: too old, or from the future.
    age = int(time.time()) - issued_at
    return claims if 0 <= age <= max_age else None


def _verify(secret_key: str, token: str) -> tuple[PlayerClaims, int] | None:
    try:
        value, issued = _serializer(secret_key).loads(token, max_age=None, return_timestamp=True)
    except BadData:
        return None
    if not (isinstance(value, list) and len(value) in (4, 5)):
        return None
    external_id, media_type, portal_id, dnt = value[:4]
    if not isinstance(external_id, str) or not isinstance(media_type, str):
        return None
    if portal_id is not None and not isinstance(portal_id, int):
        return None
    contact_id = value[4] if len(value) == 5 else None
    if contact_id is not None and not is_contact_id(contact_id):
        return None
    claims = PlayerClaims(external_id, media_type, portal_id, bool(dnt), len(value) == 5, contact_id)
    return claims, int(issued.timestamp())


# Tokens whose signature checked out, with their claims: a play session sends its one
# token with every report, and checking the signature each time was a sixth of a
# report's cost. A forged token is never remembered, so it pays for its check every time.
_verified: FifoCache[tuple[str, str], tuple[PlayerClaims, int]] = FifoCache(10_000)


def parse_portal_id(raw: str | None) -> int | None:
    """``hs_portal_id`` as HubSpot writes it (a positive number), else None: a page outside
    HubSpot, whose plays go to the configured portal."""
    if not raw or len(raw) > 15:
        return None
    return parse_whole_number(raw, 10**15 - 1) or None  # 0 is no portal either
