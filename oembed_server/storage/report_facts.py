"""What the intake must know about a report's item and portal, read in one pooled
connection with statements compiled once (the intake's hot path, scripts/bench_events.py):
the item's visibility, library and duration now, the portal's install record, and its hosts.

On PostgreSQL the read also returns the facts' fingerprint, PostgreSQL's own digest of
the rows it read. A write given it (``FactsGuard``) recomputes the digest in its own
statement and writes nothing when the facts changed since (``storage.play_sessions``):
so a process may keep the facts it admitted reports on and skip this read, a round trip,
without ever writing a report its item's or portal's facts no longer admit.
"""
from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from oembed_server.domain.media import DEFAULT_LIBRARY, external_id_problem
from oembed_server.storage.compiled_sql import CompiledStatement
from oembed_server.storage.portal_store import CONNECTED
from oembed_server.storage.schema import hubspot_portals, media_items, portal_hosts

_NO_PORTAL = -1  # no row has it: portal ids are positive


def _facts_rows(external_id: BindParameter, portal: BindParameter) -> sa.CompoundSelect:
    """One statement, one round trip: the item's row, the portal's row and its hosts, told
    apart by the first column (on PostgreSQL each statement was a round trip of its own)."""
    return sa.union_all(
        sa.select(sa.literal_column("'i'").label("k"), media_items.c.visibility.label("a"),
                  media_items.c.library.label("b"), media_items.c.duration_ms.label("c"))
        .where(media_items.c.external_id == external_id),
        sa.select(sa.literal_column("'p'"), hubspot_portals.c.library, hubspot_portals.c.token_state,
                  sa.case((hubspot_portals.c.ciphertext.is_not(None), 1), else_=0))
        .where(hubspot_portals.c.portal_id == portal),
        sa.select(sa.literal_column("'h'"), portal_hosts.c.host, sa.null(), sa.literal_column("0"))
        .where(portal_hosts.c.portal_id == portal),
    )


def _fingerprint_of(rows: sa.FromClause) -> ColumnElement[str]:
    # A row's text form tells NULL from '' and quotes separators, so equal digests mean
    # equal rows; ordered, so the hosts' order on disk does not matter.
    row_text = sa.cast(sa.func.row(rows.c.k, rows.c.a, rows.c.b, rows.c.c), sa.Text)
    return sa.func.md5(sa.func.coalesce(
        sa.func.string_agg(row_text, aggregate_order_by(sa.literal_column("E'\\n'"), row_text)),
        sa.literal_column("''")))


def _build_facts(dialect_name: str):
    rows = _facts_rows(sa.bindparam("b_external_id"), sa.bindparam("b_portal", type_=sa.BigInteger))
    if dialect_name != "postgresql":
        return rows
    facts = rows.cte("facts")
    # An aggregate without GROUP BY yields its row even when there are no facts at all.
    return sa.union_all(sa.select(facts.c.k, facts.c.a, facts.c.b, facts.c.c),
                        sa.select(sa.literal_column("'f'"), _fingerprint_of(facts), sa.null(),
                                  sa.literal_column("0")).select_from(facts))


_FACTS = CompiledStatement(_build_facts)


def facts_unchanged(external_id: BindParameter, portal: BindParameter,
                    fingerprint: BindParameter) -> ColumnElement[bool]:
    """PostgreSQL: true when the facts of ``external_id`` and ``portal`` are still those
    whose fingerprint is ``fingerprint``; a write's condition (``FactsGuard.parameters``
    names the parameters)."""
    return _fingerprint_now(external_id, portal).scalar_subquery() == fingerprint


def _fingerprint_now(external_id: BindParameter, portal: BindParameter) -> sa.Select:
    return sa.select(_fingerprint_of(_facts_rows(external_id, portal).subquery("facts_now")).label("fingerprint"))


class FactsChanged(Exception):
    """A guarded write found the facts its report was admitted on changed: it wrote nothing,
    and the report is to be admitted again on the facts as they are now."""


@dataclasses.dataclass(frozen=True)
class FactsGuard:
    """The facts a report was admitted on, as a write checks them (``facts_unchanged``)."""
    external_id: str   # as looked up: "" for an id no item could have
    portal_id: int
    fingerprint: str
    # The item's duration in the catalog (None: unknown, or no such item): an attention
    # update checks the player's against it, and the guard holds it unchanged.
    item_duration_ms: int | None = None

    def parameters(self) -> dict[str, object]:
        return {"f_external_id": self.external_id, "f_portal": self.portal_id, "f_fingerprint": self.fingerprint}


_FINGERPRINT_NOW = CompiledStatement(_fingerprint_now(sa.bindparam("b_external_id"),
                                                      sa.bindparam("b_portal", type_=sa.BigInteger)))


def still_holds(dbapi_connection, dialect, guard: FactsGuard) -> bool:
    """Whether ``guard``'s facts are still the database's (read on the caller's connection,
    in its transaction): after a guarded write wrote nothing, this tells a change of the
    facts from a refusal of the play session."""
    rows = _FINGERPRINT_NOW.execute_dbapi(dbapi_connection, dialect, {
        "b_external_id": guard.external_id, "b_portal": guard.portal_id})
    return rows[0]["fingerprint"] == guard.fingerprint


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
    # PostgreSQL: what a write checks these facts by; None on SQLite, whose reads and
    # writes are in process (nothing to save by keeping facts).
    guard: FactsGuard | None = None


def read_report_facts(engine: Engine, external_id: str, portal_id: int | None) -> ReportFacts:
    dbapi = engine.raw_connection()
    # One statement needs no transaction: on PostgreSQL, autocommit spares psycopg's BEGIN and
    # the pool's ROLLBACK on return (two of the read's three round trips).
    driver = dbapi.driver_connection if engine.dialect.name == "postgresql" else None
    # An id that could not be in the catalog is looked up as "", which no item has.
    looked_up = "" if external_id_problem(external_id) else external_id
    portal = _NO_PORTAL if portal_id is None else portal_id
    try:
        if driver is not None:
            driver.autocommit = True
        rows = _FACTS.execute_dbapi(dbapi, engine.dialect, {"b_external_id": looked_up, "b_portal": portal})
    finally:
        if driver is not None:
            driver.autocommit = False
        dbapi.close()  # SQLite: the pool's reset-on-return ends the read transaction
    item, install, hosts, fingerprint, duration_ms = None, None, set(), None, None
    for row in rows:
        kind = row["k"]
        if kind == "i":
            item, duration_ms = ItemState(row["a"], row["b"] or DEFAULT_LIBRARY), row["c"]
        elif kind == "p":
            install = InstallState(row["a"] or DEFAULT_LIBRARY, row["b"] == CONNECTED and bool(row["c"]))
        elif kind == "h":
            hosts.add(row["a"])
        else:
            fingerprint = row["a"]
    guard = None if fingerprint is None else FactsGuard(looked_up, portal, fingerprint, duration_ms)
    return ReportFacts(item, install, frozenset(hosts), guard)
