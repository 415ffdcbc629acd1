"""The hosts each portal's pages are served from: HubSpot's CMS domains of the portal (read
at provisioning and on each resync, replacing the previous read) and the operator's own
list (``oembed-server portals domains``), kept apart so a resync never drops what the
operator added."""
from __future__ import annotations

import time
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oembed_server.storage.schema import portal_hosts

FROM_HUBSPOT = "hubspot"
FROM_OPERATOR = "operator"
SOURCES = (FROM_HUBSPOT, FROM_OPERATOR)


def replace_hubspot_hosts(conn: Connection, portal_id: int, hosts: Iterable[str], now: float | None = None) -> None:
    now = time.time() if now is None else now
    c = portal_hosts.c
    conn.execute(portal_hosts.delete().where(c.portal_id == portal_id, c.source == FROM_HUBSPOT))
    rows = [{"portal_id": portal_id, "host": h, "source": FROM_HUBSPOT, "updated_at": now} for h in sorted(set(hosts))]
    if rows:
        conn.execute(portal_hosts.insert(), rows)


def add_operator_host(conn: Connection, portal_id: int, host: str, now: float | None = None) -> bool:
    """False when the operator had already listed it."""
    c = portal_hosts.c
    found = conn.execute(sa.select(c.host).where(c.portal_id == portal_id, c.host == host,
                                                 c.source == FROM_OPERATOR)).first()
    if found:
        return False
    conn.execute(portal_hosts.insert().values(portal_id=portal_id, host=host, source=FROM_OPERATOR,
                                              updated_at=time.time() if now is None else now))
    return True


def remove_operator_host(conn: Connection, portal_id: int, host: str) -> bool:
    c = portal_hosts.c
    return conn.execute(portal_hosts.delete().where(c.portal_id == portal_id, c.host == host,
                                                    c.source == FROM_OPERATOR)).rowcount == 1


def listed_hosts(conn: Connection, portal_id: int) -> list[tuple[str, str]]:
    """(host, source) pairs of the portal, sorted."""
    c = portal_hosts.c
    rows = conn.execute(sa.select(c.host, c.source).where(c.portal_id == portal_id).order_by(c.host, c.source))
    return [(r.host, r.source) for r in rows]


_HOSTS_OF = sa.select(portal_hosts.c.host).where(
    portal_hosts.c.portal_id == sa.bindparam("b_portal", type_=sa.BigInteger))


def hosts_of(conn: Connection, portal_id: int) -> set[str]:
    return set(conn.execute(_HOSTS_OF, {"b_portal": portal_id}).scalars())
