"""What the intake must know about a report's item and portal, read in one pooled
connection with statements compiled once (the intake's hot path, scripts/bench_events.py):
the item's visibility and library now, the portal's install record, and its hosts."""
from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oembed_server.domain.media import DEFAULT_LIBRARY, external_id_problem
from oembed_server.storage.compiled_sql import CompiledStatement
from oembed_server.storage.portal_store import CONNECTED
from oembed_server.storage.schema import hubspot_portals, media_items, portal_hosts

_ITEM = CompiledStatement(sa.select(media_items.c.visibility, media_items.c.library)
                          .where(media_items.c.external_id == sa.bindparam("b_external_id")))
_PORTAL = CompiledStatement(sa.select(hubspot_portals.c.library, hubspot_portals.c.token_state,
                                      hubspot_portals.c.ciphertext.is_not(None).label("has_tokens"))
                            .where(hubspot_portals.c.portal_id == sa.bindparam("b_portal", type_=sa.BigInteger)))
_HOSTS = CompiledStatement(sa.select(portal_hosts.c.host)
                           .where(portal_hosts.c.portal_id == sa.bindparam("b_portal", type_=sa.BigInteger)))


@dataclasses.dataclass(frozen=True)
class ItemState:
    visibility: str
    library: str


@dataclasses.dataclass(frozen=True)
class InstallState:
    library: str
    connected: bool  # connected, with its tokens kept


@dataclasses.dataclass(frozen=True)
class ReportFacts:
    item: ItemState | None            # None: not in the catalog
    install: InstallState | None      # None: the portal never installed by OAuth
    hosts: frozenset[str]


def read_report_facts(engine: Engine, external_id: str, portal_id: int | None) -> ReportFacts:
    dbapi = engine.raw_connection()
    try:
        dialect = engine.dialect
        rows = [] if external_id_problem(external_id) else _ITEM.execute_dbapi(
            dbapi, dialect, {"b_external_id": external_id})
        item = ItemState(rows[0]["visibility"], rows[0]["library"] or DEFAULT_LIBRARY) if rows else None
        install, hosts = None, frozenset[str]()
        if portal_id is not None:
            found = _PORTAL.execute_dbapi(dbapi, dialect, {"b_portal": portal_id})
            if found:
                row = found[0]
                install = InstallState(row["library"] or DEFAULT_LIBRARY,
                                       row["token_state"] == CONNECTED and bool(row["has_tokens"]))
            hosts = frozenset(r["host"] for r in _HOSTS.execute_dbapi(dbapi, dialect, {"b_portal": portal_id}))
    finally:  # the pool's reset-on-return rolls the read transaction back
        dbapi.close()
    return ReportFacts(item, install, hosts)
