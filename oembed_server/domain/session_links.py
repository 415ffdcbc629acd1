"""Links to the pages that show visitor data: one play session's attention page (a played
event's ``iframeUrl`` on the contact timeline) and one item's insights page.

A link is a capability: whoever has it sees the page. So it is opaque (Fernet: encrypted
and authenticated, so it reveals neither the session id, which would let its holder aim
reports at the session, nor anything else), it can expire (``max_age_seconds``, from
OEMBED_INSIGHTS_LINK_DAYS; None: as long as HubSpot shows the event), and its key is
derived from OEMBED_SECRET_KEY with a salt the database stores (``derived_keys``), so
replacing that salt revokes every link without touching the secret or the stored tokens.
"""
from __future__ import annotations

import dataclasses
import functools
from urllib.parse import quote

from cryptography.fernet import Fernet, InvalidToken

from oembed_server.domain.derived_keys import fernet_key

_SESSION_INFO = b"insights-links/session/v1"
_MEDIA_INFO = b"insights-links/media/v1"


@dataclasses.dataclass(frozen=True)
class LinkKeys:
    session: Fernet = dataclasses.field(repr=False)
    media: Fernet = dataclasses.field(repr=False)
    max_age_seconds: int | None = None


@functools.lru_cache(maxsize=8)  # the same keys for every link of a request, a worker batch
def link_keys(secret_key: str, salt: bytes, max_age_days: float = 0) -> LinkKeys:
    """The keys of links signed with ``salt``; links older than ``max_age_days`` (0: never) fail."""
    max_age = int(max_age_days * 86400) if max_age_days else None
    return LinkKeys(Fernet(fernet_key(secret_key, salt, _SESSION_INFO)),
                    Fernet(fernet_key(secret_key, salt, _MEDIA_INFO)), max_age or None)


def session_page_url(public_url: str, keys: LinkKeys, session_id: str) -> str:
    """The absolute URL of one play session's attention page."""
    token = keys.session.encrypt(session_id.encode()).decode("ascii")
    return f"{public_url}/insights/session/{token}"


def session_id_from_token(keys: LinkKeys, token: str) -> str | None:
    """The session a link was made for, or None for a forged, foreign, expired or revoked one."""
    return _open(keys.session, token, keys.max_age_seconds)


def media_insights_url(public_url: str, keys: LinkKeys, external_id: str) -> str:
    """The absolute URL of one item's insights page, for that item only."""
    key = keys.media.encrypt(external_id.encode()).decode("ascii")
    return f"{public_url}/insights/{quote(external_id, safe='')}?key={key}"


def media_insights_key_valid(keys: LinkKeys, external_id: str, key: str | None) -> bool:
    return bool(key) and _open(keys.media, key or "", keys.max_age_seconds) == external_id


def _open(fernet: Fernet, token: str, max_age: int | None) -> str | None:
    if not token or len(token) > 1024:
        return None
    try:
        return fernet.decrypt(token.encode("ascii"), ttl=max_age).decode()
    except (InvalidToken, UnicodeError, ValueError):
        return None
