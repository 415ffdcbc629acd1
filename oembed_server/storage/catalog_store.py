"""The one way into the media catalog: SQLAlchemy Core over SQLite or PostgreSQL."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import operator
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oembed_server.domain.calls_to_action import ctas_from_json, ctas_json
from oembed_server.domain.chapters import chapters_from_json, chapters_json
from oembed_server.domain.lead_gates import gate_from_json, gate_json
from oembed_server.domain.media import (
    DEFAULT_LIBRARY,
    IMPORT_FIELDS,
    CaptionKind,
    CaptionTrack,
    MediaItem,
    MediaType,
    Visibility,
    captions_json,
    external_id_problem,
)
from oembed_server.storage.compiled_sql import CompiledStatement
from oembed_server.storage.engine import SQLITE_MMAP_BYTES, create_catalog_engine
from oembed_server.storage.pinned_connections import release_pinned
from oembed_server.storage.schema import media_items

# Bound parameters per statement stay under SQLite's historical 999-variable limit.
_IN_CHUNK = 500


@dataclasses.dataclass(frozen=True)
class UpsertReport:
    inserted: int
    updated: int
    unchanged: int
    # Libraries with an added, changed or departed item, for whoever keeps copies of a
    # library in sync (an item that moved touches both).
    libraries: tuple[str, ...] = ()


# On every oEmbed request's path: the SQLAlchemy execution machinery around it cost more
# than the indexed look-up itself (compiled_sql).
_GET_BY_EXTERNAL_ID = CompiledStatement(
    sa.select(media_items).where(media_items.c.external_id == sa.bindparam("external_id")))


class CatalogStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._intake_engine: Engine | None = None
        self._intake_lock = threading.Lock()

    @classmethod
    def from_url(cls, database_url: str) -> CatalogStore:
        return cls(create_catalog_engine(database_url))

    @property
    def intake_engine(self) -> Engine:
        """Where the events intake writes when its flush is bounded (OEMBED_EVENTS_FLUSH_MS
        > 0): on PostgreSQL a pool of its own whose commits do not wait for the disk
        (storage.pg_commit_flush flushes them); on SQLite the catalog's engine, whose
        bounded flush write_transaction arranges per transaction."""
        if self.engine.dialect.name != "postgresql":
            return self.engine
        with self._intake_lock:
            if self._intake_engine is None:
                url = self.engine.url.render_as_string(hide_password=False)
                self._intake_engine = create_catalog_engine(url, asynchronous_commit=True)
            return self._intake_engine

    def dispose(self) -> None:
        self.engine.dispose()
        if self._intake_engine is not None:
            release_pinned(self._intake_engine)
            self._intake_engine.dispose()

    # --- reads -------------------------------------------------------------------
    def get(self, external_id: str) -> MediaItem | None:
        if external_id_problem(external_id):
            # Such an id was never imported, and some (NUL in PostgreSQL) cannot even be sent.
            return None
        connection = self.engine.raw_connection()
        try:
            rows = _GET_BY_EXTERNAL_ID.execute_dbapi(connection, self.engine.dialect, {"external_id": external_id})
        finally:  # the pool's reset-on-return rolls the read transaction back
            connection.close()
        return _item_from_row(rows[0]) if rows else None

    def get_many(self, external_ids: Iterable[str]) -> dict[str, MediaItem]:
        ids = [i for i in dict.fromkeys(external_ids) if not external_id_problem(i)]
        found: dict[str, MediaItem] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(ids, _IN_CHUNK):
                rows = conn.execute(
                    sa.select(media_items).where(media_items.c.external_id.in_(chunk))
                ).mappings()
                found.update((r["external_id"], _item_from_row(r)) for r in rows)
        return found

    def list_items(self, limit: int = 100, offset: int = 0,
                   visibility: Visibility | None = None) -> list[MediaItem]:
        query = sa.select(media_items).order_by(media_items.c.id).limit(limit).offset(offset)
        if visibility is not None:
            query = query.where(media_items.c.visibility == visibility.value)
        with self.engine.connect() as conn:
            return [_item_from_row(r) for r in conn.execute(query).mappings()]

    def count(self, visibility: Visibility | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(media_items)
        if visibility is not None:
            query = query.where(media_items.c.visibility == visibility.value)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def media_types(self) -> list[str]:
        """The media types the catalog holds, each once."""
        query = sa.select(media_items.c.media_type).distinct()
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(query)]

    def libraries(self) -> list[str]:
        with self.engine.connect() as conn:
            names = conn.execute(sa.select(media_items.c.library).distinct()).scalars()
            return sorted({name or DEFAULT_LIBRARY for name in names})

    def iter_all(self, batch_size: int = 1000, library: str | None = None) -> Iterator[MediaItem]:
        """Every item (of one ``library`` when given) in id order, fetched in keyset pages
        so memory stays flat."""
        last_id = 0
        where = [] if library is None else [_in_library(library)]
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(media_items).where(media_items.c.id > last_id, *where)
                    .order_by(media_items.c.id).limit(batch_size)
                ).mappings().all()
            if not rows:
                return
            for row in rows:
                yield _item_from_row(row)
            last_id = rows[-1]["id"]

    # --- writes ------------------------------------------------------------------
    @contextlib.contextmanager
    def staged_upsert(self, now: datetime | None = None) -> Iterator[StagedUpsert]:
        """One transaction for an import of any size: rows go to a temporary staging table
        in batches, then ``apply()`` upserts them into the catalog with two set-wise
        statements. Leaving the block without ``apply()`` (or with an error) changes nothing."""
        sqlite = self.engine.dialect.name == "sqlite"
        with self.engine.connect() as conn:
            if sqlite:
                # Mapped pages of a large catalog would count as this process's memory.
                conn.exec_driver_sql("PRAGMA mmap_size=0")
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {_STAGING_NAME}"))
            conn.commit()
            staged = StagedUpsert(conn, now or datetime.now(UTC))
            try:
                yield staged
                if staged.applied:
                    conn.commit()
            finally:
                if conn.in_transaction():
                    conn.rollback()
                # SQLite keeps a temporary table for the pooled connection's life otherwise.
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {_STAGING_NAME}"))
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
                conn.commit()

    def upsert(self, items: Iterable[MediaItem], now: datetime | None = None) -> UpsertReport:
        """Insert new items and update changed ones by external_id, all in one transaction."""
        with self.staged_upsert(now) as staged:
            for number, item in enumerate(items, start=1):
                staged.add(number, item)
            repeated = [external_id for _, _, external_id in staged.repeated_ids()]
            if repeated:
                raise ValueError(f"external_id given more than once: {', '.join(map(repr, repeated[:10]))}")
            return staged.apply()

    def set_hubspot_object_ids(self, object_ids: Mapping[str, str | None]) -> None:
        """Record each item's HubSpot media object id (external_id -> object id, None to forget it)."""
        if not object_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                media_items.update()
                .where(media_items.c.external_id == sa.bindparam("b_external_id"))
                .values(hubspot_object_id=sa.bindparam("b_object_id")),
                [{"b_external_id": k, "b_object_id": v} for k, v in object_ids.items()],
            )


_STAGING_NAME = "import_staging"
# Rows per INSERT into the staging table: enough to amortise the round trip, small
# enough that a batch's parameters stay a few hundred kilobytes.
_STAGE_BATCH = 2000


def _import_values(item: MediaItem) -> list:
    """The import fields of ``item`` in IMPORT_FIELDS order (one C call: imports do this a million times)."""
    return list(_IMPORT_GETTER(item))


_IMPORT_GETTER = operator.attrgetter(*IMPORT_FIELDS)
_ENUMS_AT = (IMPORT_FIELDS.index("media_type"), IMPORT_FIELDS.index("visibility"))
_CAPTIONS_AT = IMPORT_FIELDS.index("captions")
_CHAPTERS_AT = IMPORT_FIELDS.index("chapters")
_CTAS_AT = IMPORT_FIELDS.index("ctas")
_GATE_AT = IMPORT_FIELDS.index("gate")


def _staging_table() -> sa.Table:
    """Where an import's rows wait, with their row numbers: the catalog's own columns for
    every import field, so a new field needs no change here."""
    return sa.Table(
        _STAGING_NAME, sa.MetaData(),
        sa.Column("row_number", sa.BigInteger, nullable=False),
        *(sa.Column(name, media_items.c[name].type) for name in IMPORT_FIELDS),
        prefixes=["TEMPORARY"],
    )


class StagedUpsert:
    """The rows of one import on their way into the catalog (see CatalogStore.staged_upsert)."""

    def __init__(self, conn: sa.Connection, now: datetime):
        self._conn = conn
        self._now = now
        self._table = _staging_table()
        self._table.create(conn)
        # Rows go to the driver's executemany as plain tuples: SQLAlchemy's per-row parameter
        # handling would cost more than the insert itself (no column here needs conversion).
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        columns = ("row_number", *IMPORT_FIELDS)
        self._insert_sql = (f"INSERT INTO {_STAGING_NAME} ({', '.join(columns)}) "
                            f"VALUES ({', '.join([mark] * len(columns))})")
        self._pending: list[tuple] = []
        self._indexed = False
        self.staged = 0
        self.applied = False

    def add(self, row_number: int, item: MediaItem) -> None:
        values = _import_values(item)
        for at in _ENUMS_AT:  # stored as their plain values, as content() gives them
            values[at] = getattr(values[at], "value", values[at])
        values[_CAPTIONS_AT] = captions_json(values[_CAPTIONS_AT])
        values[_CHAPTERS_AT] = chapters_json(values[_CHAPTERS_AT])
        values[_CTAS_AT] = ctas_json(values[_CTAS_AT])
        values[_GATE_AT] = gate_json(values[_GATE_AT])
        self._pending.append((row_number, *values))
        if len(self._pending) >= _STAGE_BATCH:
            self._flush()

    def repeated_ids(self) -> Iterator[tuple[int, int, str]]:
        """(row, first row, external_id) for every row whose id an earlier row already had."""
        self._finish_staging()
        s = self._table
        first = (sa.select(s.c.external_id, sa.func.min(s.c.row_number).label("first"))
                 .group_by(s.c.external_id).having(sa.func.count() > 1).subquery())
        query = (sa.select(s.c.row_number, first.c.first, s.c.external_id)
                 .join_from(s, first, s.c.external_id == first.c.external_id)
                 .where(s.c.row_number != first.c.first).order_by(s.c.row_number))
        for row in self._conn.execute(query):
            yield tuple(row)

    def apply(self) -> UpsertReport:
        """Upsert every staged row; the caller must have refused repeated ids first."""
        self._finish_staging()
        s, m = self._table, media_items
        fields = [f for f in IMPORT_FIELDS if f != "external_id"]
        # Without preserve_rowcount SQLAlchemy may not keep an INSERT ... SELECT's row count.
        conn = self._conn.execution_options(preserve_rowcount=True)
        touched = self._touched_libraries(fields)
        updated = conn.execute(
            m.update()
            .where(m.c.external_id == s.c.external_id)
            .where(sa.or_(*(m.c[f].is_distinct_from(s.c[f]) for f in fields)))
            .values({f: s.c[f] for f in fields} | {"updated_at": self._now})
        ).rowcount
        stamp = sa.literal(self._now, m.c.created_at.type)
        inserted = conn.execute(
            m.insert().from_select(
                [*IMPORT_FIELDS, "created_at", "updated_at"],
                # In file order, so the index page lists new items as the file does.
                sa.select(*(s.c[f] for f in IMPORT_FIELDS), stamp, stamp)
                .where(~sa.exists().where(m.c.external_id == s.c.external_id))
                .order_by(s.c.row_number),
            )
        ).rowcount
        self.applied = True
        return UpsertReport(inserted=inserted, updated=updated, unchanged=self.staged - inserted - updated,
                            libraries=touched)

    def _touched_libraries(self, fields: list[str]) -> tuple[str, ...]:
        s, m = self._table, media_items
        matched = m.c.external_id == s.c.external_id
        changed = sa.and_(matched, sa.or_(*(m.c[f].is_distinct_from(s.c[f]) for f in fields)))
        names = set(self._conn.execute(sa.select(s.c.library).where(~sa.exists().where(matched))
                                       .distinct()).scalars())
        for column in (s.c.library, m.c.library):  # where changed items go, and where they were
            names.update(self._conn.execute(sa.select(column).select_from(s).join(m, changed).distinct()).scalars())
        return tuple(sorted({name or DEFAULT_LIBRARY for name in names}))

    def _flush(self) -> None:
        if self._pending:
            self._conn.exec_driver_sql(self._insert_sql, self._pending)
            self.staged += len(self._pending)
            self._pending = []

    def _finish_staging(self) -> None:
        self._flush()
        if not self._indexed:
            # Built once at the end: cheaper than keeping it up to date row by row.
            sa.Index(f"{_STAGING_NAME}_external_id", self._table.c.external_id).create(self._conn)
            self._indexed = True


def _in_library(library: str):
    if library == DEFAULT_LIBRARY:
        return sa.or_(media_items.c.library == library, media_items.c.library.is_(None))
    return media_items.c.library == library


_ITEM_FIELDS = tuple(f.name for f in dataclasses.fields(MediaItem))


def _item_from_row(row) -> MediaItem:
    values = {name: row[name] for name in _ITEM_FIELDS}
    values["media_type"] = MediaType(values["media_type"])
    values["visibility"] = Visibility(values["visibility"])
    values["library"] = values["library"] or DEFAULT_LIBRARY
    values["captions"] = _captions_from_column(values["captions"])
    values["chapters"] = chapters_from_json(values["chapters"])
    values["ctas"] = ctas_from_json(values["ctas"])
    values["gate"] = gate_from_json(values["gate"])
    for stamp in ("created_at", "updated_at"):
        value = values[stamp]
        if isinstance(value, str):  # SQLite's storage format, when read past SQLAlchemy's types
            value = datetime.fromisoformat(value)
        # SQLite hands back naive datetimes; everything stored is UTC.
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        values[stamp] = value
    return MediaItem(**values)


def _captions_from_column(value) -> tuple[CaptionTrack, ...]:
    if isinstance(value, str):  # SQLite's JSON is text when read past SQLAlchemy's types
        value = json.loads(value)
    return tuple(CaptionTrack(t["src"], t["srclang"], t["label"], CaptionKind(t["kind"]), bool(t["default"]))
                 for t in value or ())


def _chunks(seq: list, size: int):
    for start in range(0, len(seq), size):
        yield seq[start:start + size]
