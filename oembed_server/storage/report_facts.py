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

# One statement, one round trip: the item's row, the portal's row and its hosts, told apart
# by the first column (on PostgreSQL each statement was a round trip of its own).
_PORTAL_PARAM = sa.bindparam("b_portal", type_=sa.BigInteger)
_FACTS = CompiledStatement(sa.union_all(
    sa.select(sa.literal_column("'i'").label("k"), media_items.c.visibility.label("a"),
              media_items.c.library.label("b"), sa.literal_column("0").label("c"))
    .where(media_items.c.external_id == sa.bindparam("b_external_id")),
    sa.select(sa.literal_column("'p'"), hubspot_portals.c.library, hubspot_portals.c.token_state,
              sa.case((hubspot_portals.c.ciphertext.is_not(None), 1), else_=0))
    .where(hubspot_portals.c.portal_id == _PORTAL_PARAM),
    sa.select(sa.literal_column("'h'"), portal_hosts.c.host, sa.null(), sa.literal_column("0"))
    .where(portal_hosts.c.portal_id == _PORTAL_PARAM),
))
_NO_PORTAL = -1  # no row has it: portal ids are positive


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
    # One statement needs no transaction: on PostgreSQL, autocommit spares psycopg's BEGIN and
    # the pool's ROLLBACK on return (two of the read's three round trips).
    driver = dbapi.driver_connection if engine.dialect.name == "postgresql" else None
    try:
        if driver is not None:
            driver.autocommit = True
        # An id that could not be in the catalog is looked up as "", which no item has.
        rows = _FACTS.execute_dbapi(dbapi, engine.dialect, {
            "b_external_id": "" if external_id_problem(external_id) else external_id,
            "b_portal": _NO_PORTAL if portal_id is None else portal_id})
    finally:
        if driver is not None:
            driver.autocommit = False
        dbapi.close()  # SQLite: the pool's reset-on-return ends the read transaction
    item, install, hosts = None, None, set()
    for row in rows:
        kind = row["k"]
        if kind == "i":
            item = ItemState(row["a"], row["b"] or DEFAULT_LIBRARY)
        elif kind == "p":
            install = InstallState(row["a"] or DEFAULT_LIBRARY, row["b"] == CONNECTED and bool(row["c"]))
        else:
            hosts.add(row["a"])
    return ReportFacts(item, install, frozenset(hosts))
