"""The one way into the media catalog: SQLAlchemy Core over SQLite or PostgreSQL."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .media import IMPORT_FIELDS, MediaItem, MediaType, Visibility, external_id_problem

metadata = sa.MetaData()

media_items = sa.Table(
    "media_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # unique=True gives the index every look-up by URL goes through.
    sa.Column("external_id", sa.String(255), nullable=False, unique=True),
    sa.Column("media_type", sa.String(16), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("file_url", sa.Text),
    sa.Column("thumbnail_url", sa.Text),
    sa.Column("thumbnail_width", sa.Integer),
    sa.Column("thumbnail_height", sa.Integer),
    sa.Column("poster_url", sa.Text),
    sa.Column("duration_ms", sa.BigInteger),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("folder_path", sa.Text),
    sa.Column("details_page_link", sa.Text),
    sa.Column("author_name", sa.Text),
    sa.Column("author_url", sa.Text),
    sa.Column("visibility", sa.String(16), nullable=False, server_default=Visibility.PUBLIC.value),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("hubspot_object_id", sa.String(64)),
)

# Bound parameters per statement stay under SQLite's historical 999-variable limit.
_IN_CHUNK = 500


@dataclasses.dataclass(frozen=True)
class UpsertReport:
    inserted: int
    updated: int
    unchanged: int


def create_catalog_engine(database_url: str) -> Engine:
    is_sqlite = database_url.startswith("sqlite")
    # A server connection can die between requests; a local SQLite file cannot, so the
    # extra round trip of pre-ping is paid only where it buys something.
    engine = sa.create_engine(database_url, pool_pre_ping=not is_sqlite, future=True)
    if is_sqlite:
        # WAL lets gunicorn workers read while an import writes.
        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            # Memory-mapped reads spare a system call per page on the look-up path.
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.close()
    return engine


_COLUMN_NAMES = tuple(c.name for c in media_items.c)
_GET_BY_EXTERNAL_ID = sa.select(media_items).where(media_items.c.external_id == sa.bindparam("external_id"))


class CatalogStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        # The single-item look-up is on every oEmbed request's path. SQLAlchemy still writes
        # the SQL (for this engine's dialect and parameter style), once; running it on the
        # pooled DBAPI cursor skips the per-call result machinery, which costs more than
        # the indexed look-up itself.
        compiled = _GET_BY_EXTERNAL_ID.compile(dialect=engine.dialect)
        self._get_sql = str(compiled)
        self._get_positional = bool(compiled.positional)

    @classmethod
    def from_url(cls, database_url: str) -> "CatalogStore":
        return cls(create_catalog_engine(database_url))

    def create_schema(self) -> None:
        # The job queue shares this database (one transaction can hold an event and its
        # job); its tables join the metadata when their module is imported.
        from .jobs import queue  # noqa: F401
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # --- reads -------------------------------------------------------------------
    def get(self, external_id: str) -> MediaItem | None:
        if external_id_problem(external_id):
            # Such an id was never imported, and some (NUL in PostgreSQL) cannot even be sent.
            return None
        params = (external_id,) if self._get_positional else {"external_id": external_id}
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._get_sql, params)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:  # the pool's reset-on-return rolls the read transaction back
            connection.close()
        return _item_from_row(dict(zip(_COLUMN_NAMES, row))) if row else None

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

    def iter_all(self, batch_size: int = 1000) -> Iterator[MediaItem]:
        """Every item in id order, fetched in keyset pages so memory stays flat."""
        last_id = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(media_items).where(media_items.c.id > last_id)
                    .order_by(media_items.c.id).limit(batch_size)
                ).mappings().all()
            if not rows:
                return
            for row in rows:
                yield _item_from_row(row)
            last_id = rows[-1]["id"]

    # --- writes ------------------------------------------------------------------
    def upsert(self, items: list[MediaItem], now: datetime | None = None) -> UpsertReport:
        """Insert new items and update changed ones by external_id, all in one transaction."""
        now = now or datetime.now(timezone.utc)
        inserts, updates, unchanged = [], [], 0
        with self.engine.begin() as conn:
            existing: dict[str, dict] = {}
            for chunk in _chunks([i.external_id for i in items], _IN_CHUNK):
                for row in conn.execute(
                    sa.select(*[media_items.c[f] for f in IMPORT_FIELDS])
                    .where(media_items.c.external_id.in_(chunk))
                ).mappings():
                    existing[row["external_id"]] = dict(row)
            for item in items:
                content = item.content()
                old = existing.get(item.external_id)
                if old is None:
                    inserts.append(content | {"created_at": now, "updated_at": now})
                elif old != content:
                    updates.append({f"b_{k}": v for k, v in content.items()} | {"b_updated_at": now})
                else:
                    unchanged += 1
            if inserts:
                conn.execute(media_items.insert(), inserts)
            if updates:
                conn.execute(
                    media_items.update()
                    .where(media_items.c.external_id == sa.bindparam("b_external_id"))
                    .values({f: sa.bindparam(f"b_{f}") for f in IMPORT_FIELDS if f != "external_id"}
                            | {"updated_at": sa.bindparam("b_updated_at")}),
                    updates,
                )
        return UpsertReport(inserted=len(inserts), updated=len(updates), unchanged=unchanged)

    def set_hubspot_object_ids(self, object_ids: dict[str, str | None]) -> None:
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


_ITEM_FIELDS = tuple(f.name for f in dataclasses.fields(MediaItem))


def _item_from_row(row) -> MediaItem:
    values = {name: row[name] for name in _ITEM_FIELDS}
    values["media_type"] = MediaType(values["media_type"])
    values["visibility"] = Visibility(values["visibility"])
    for stamp in ("created_at", "updated_at"):
        value = values[stamp]
        if isinstance(value, str):  # SQLite's storage format, when read past SQLAlchemy's types
            value = datetime.fromisoformat(value)
        # SQLite hands back naive datetimes; everything stored is UTC.
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        values[stamp] = value
    return MediaItem(**values)


def _chunks(seq: list, size: int):
    for start in range(0, len(seq), size):
        yield seq[start:start + size]
