"""The token a gated player carries: it lets the player post its gate's events and its
viewer's submission to this server, for one item, portal and form only (so no one can
use the server to submit arbitrary forms of a portal), signed and valid for a while."""
from __future__ import annotations

import dataclasses
import functools

from itsdangerous import BadData, URLSafeTimedSerializer

from oembed_server.domain.player_tokens import MAX_AGE_SECONDS

_SALT = "player-gate-token"


@dataclasses.dataclass(frozen=True)
class GateClaims:
    external_id: str
    portal_id: int | None
    form_id: str
    dnt: bool


@functools.lru_cache(maxsize=4)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def issue_gate_token(secret_key: str, claims: GateClaims) -> str:
    return _serializer(secret_key).dumps([claims.external_id, claims.portal_id, claims.form_id,
                                          1 if claims.dnt else 0])


def read_gate_token(secret_key: str, token: object, max_age: int = MAX_AGE_SECONDS) -> GateClaims | None:
    if not isinstance(token, str) or len(token) > 2000:
        return None
    try:
        external_id, portal_id, form_id, dnt = _serializer(secret_key).loads(token, max_age=max_age)
    except (BadData, ValueError, TypeError):
        return None
    return GateClaims(str(external_id), portal_id if isinstance(portal_id, int) else None, str(form_id), bool(dnt))
