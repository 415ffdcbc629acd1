"""Issuing, listing and revoking install invites, and moving a portal to another library:
what ``oembed-server portals invite|invites|invite-revoke|move`` and the console both do."""
from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from oembed_server.domain.invite_rules import invite_days_problem, invite_uses_problem
from oembed_server.domain.media import library_problem
from oembed_server.storage import invite_store
from oembed_server.storage.portal_store import PortalStore
from oembed_server.usecases.provisioning import queue_sync


class InviteRefused(ValueError):
    """The request names what was wrong (library, days or uses)."""


def _stamp(value: float | None) -> str | None:
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds") if value else None


def describe(invite: invite_store.Invite, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    return {"id": invite.invite_id, "library": invite.library, "state": invite.state(now),
            "uses": invite.uses, "maxUses": invite.max_uses, "createdAt": _stamp(invite.created_at),
            "expiresAt": _stamp(invite.expires_at), "revokedAt": _stamp(invite.revoked_at),
            "createdBy": invite.created_by}


def issue_invite(engine: Engine, public_url: str, library: str, days: float, uses: int, created_by: str) -> dict:
    """A new invite, described, with its link (the only time the link can be shown)."""
    for problem in (f"library {p}" if (p := library_problem(library)) else None,
                    invite_days_problem(days), invite_uses_problem(uses)):
        if problem:
            raise InviteRefused(problem)
    invite, token = invite_store.create_invite(engine, library, days, uses, created_by)
    return describe(invite) | {"link": f"{public_url}/hubspot/connect?invite={token}"}


def list_invites(engine: Engine) -> list[dict]:
    now = time.time()
    return [describe(i, now) for i in invite_store.list_invites(engine)]


def revoke_invite(engine: Engine, invite_id: str) -> bool:
    """True when revoked now; False when it already was. Raises InviteRefused for an unknown id."""
    if not invite_store.exists(engine, invite_id):
        raise InviteRefused(f"no invite {invite_id!r} (see `oembed-server portals invites`)")
    return invite_store.revoke(engine, invite_id)


def move_portal(store: PortalStore, portal_id: int, library: str) -> bool:
    """Put an installed portal on another library and queue the sync that brings its media
    objects in line. False when it already was on that library."""
    problem = library_problem(library)
    if problem:
        raise InviteRefused(f"library {problem}")
    with store.engine.begin() as conn:
        moved = store.set_library(conn, portal_id, library)
        if moved and portal_id in store.connected_in(conn):
            queue_sync(conn, [portal_id])
    return moved
