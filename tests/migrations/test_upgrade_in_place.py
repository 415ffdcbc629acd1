"""A provider running the release before migrations upgrades in place.

Its database is built from the DDL that release ran (legacy_schema/, never edited) and
filled, through today's storage code, with what such a provider holds: catalog rows with
captions and libraries, an installed portal and a disconnected one with their encrypted
tokens, the configured portal's refreshed tokens, play sessions with their queued event
jobs, dead and held jobs, used install states, provisioning marks, pushed-module records
and rate budget rows. Then `oembed-server db upgrade`, on each engine: every row is kept
as it was, every token still decrypts, the worker delivers the queued jobs with the stored
tokens, the dead and held jobs stay so, and a second upgrade changes nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from oembed_server.cli import cli
from oembed_server.domain.attention_spans import percent_played
from oembed_server.domain.event_record import ATTENTION, PLAYED, QUARTILE, EventRecord
from oembed_server.domain.media import CaptionTrack, MediaType, Visibility
from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.domain.player_report import PlayerReport
from oembed_server.settings import load_settings
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.storage.engine import create_catalog_engine
from oembed_server.storage.job_queue import enqueue
from oembed_server.storage.portal_store import PortalStore, state_nonce_used, use_state_nonce
from oembed_server.storage.provisioning_marks import StoredPushRecord, set_mark
from oembed_server.storage.schema import DEAD, HELD, QUEUED, jobs, metadata, play_sessions, rate_blocks, rate_slots
from oembed_server.storage.token_store import EncryptedTokenStore
from oembed_server.usecases.module_push import PushRecord
from oembed_server.usecases.provisioning import KIND_PUSH_MODULES, app_fingerprint, modules_fingerprint
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.events_log import duplicates, identity, received
from tests.hubspot_emulator.state import MediaObject
from tests.hubspot_emulator.testing import client_env, media_item
from tests.support.apps import command_runner, make_app
from tests.support.databases import create_legacy_schema
from tests.support.environment import PUBLIC_URL, SECRET_KEY
from tests.support.schema_check import schema_differences

REPO = Path(__file__).resolve().parents[2]
CONFIGURED, INSTALLED, DISCONNECTED = 777, 888, 999  # HUBSPOT_PORTAL_ID, and two OAuth installs
EN = CaptionTrack(f"{PUBLIC_URL}/captions/clip-a.en.vtt", "en", "English", default=True)
PT = CaptionTrack(f"{PUBLIC_URL}/captions/clip-a.pt.vtt", "pt-BR", "Português")


@pytest.fixture
def emulator():
    with LiveEmulator(rate_interval_ms=200) as live:
        live.state.define_media_types("VIDEO", "AUDIO")
        yield live


def worker_env(emulator: LiveEmulator, database_url: str) -> dict[str, str]:
    return client_env(emulator) | {"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": PUBLIC_URL,
                                   "OEMBED_SECRET_KEY": SECRET_KEY}


def session_reports(session_id: str, portal_id: int | None, external_id: str, media_type: str, t0_ms: int,
                    *, final: bool) -> list[PlayerReport]:
    """What a player posts for one session: played, quartiles, then its attention."""
    common = dict(external_id=external_id, media_type=media_type, session_id=session_id, portal_id=portal_id,
                  contact_utk=f"utk-{session_id}", page_name="Spring launch", page_url="https://site.test/spring")
    return ([PlayerReport(EventRecord(kind=PLAYED, occurred_at_ms=t0_ms, state="STARTED", **common))]
            + [PlayerReport(EventRecord(kind=QUARTILE, occurred_at_ms=t0_ms + 10 + q, played_percent=q, **common))
               for q in (0, 25, 50)]
            + [PlayerReport(EventRecord(kind=ATTENTION, occurred_at_ms=t0_ms + 900, spans=(1, 2, 1, 0),
                                        span_seconds=0.25, duration_seconds=1.0, **common), final=final)])


def stored_payload(record: EventRecord) -> str:
    return json.dumps(record.to_payload(), separators=(",", ":"), sort_keys=True)  # as enqueue writes it


def add_media_object(emulator: LiveEmulator, hub_id: int | None, external_id: str, media_type: str) -> str:
    """The object a sync made in the portal, put straight into the emulator (no budget spent)."""
    state = emulator.state
    with state.lock:
        data = state.data(hub_id)
        name = state.object_type_name(media_type)
        obj = MediaObject(state.next_id(), name, {"hs_title": external_id, "hs_external_id": external_id,
                                                  "hs_oembed_url": f"{PUBLIC_URL}/media/{external_id}"},
                          "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z")
        data.objects.setdefault(name, {})[obj.id] = obj
        data.unique_index.setdefault(name, {})[("hs_external_id", external_id)] = obj.id
    return obj.id


# Columns that migrations after the baseline add. The fill below writes through today's
# stores, which write today's columns, so the old database gets them first; those
# migrations add a column only where it is missing, and their adding is covered by
# tests/migrations/test_schema_matches_declaration.py (a database made from no schema).
LATER_COLUMNS = (("media_items", "description", "TEXT"), ("play_sessions", "contact_id", "BIGINT"),
                 ("media_items", "chapters", "TEXT"), ("media_items", "ctas", "TEXT"),
                 ("media_items", "gate", "TEXT"), ("hubspot_portals", "granted_scopes", "TEXT"),
                 ("hubspot_portals", "visitor_data_delete_after", "FLOAT"))


def add_later_columns(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table, column, sql_type in LATER_COLUMNS:
            conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))


def fill_every_table(engine: sa.Engine, emulator: LiveEmulator, env: dict[str, str]) -> dict:
    """What a provider of the old release holds; returns the tokens and nonce to look for."""
    now = time.time()
    catalog = CatalogStore(engine)
    catalog.upsert([
        media_item("clip-a", captions=(EN, PT), stream_url=f"{PUBLIC_URL}/streams/clip-a/master.m3u8",
                   width=1280, height=720, author_name="Studio"),
        media_item("clip-b", MediaType.AUDIO),
        media_item("acme-talk", library="acme", details_page_link="https://acme.test/talk"),
        media_item("acme-draft", library="acme", visibility=Visibility.PRIVATE),
    ])
    catalog.set_hubspot_object_ids({"clip-a": add_media_object(emulator, None, "clip-a", "VIDEO")})
    add_media_object(emulator, None, "clip-b", "AUDIO")
    add_media_object(emulator, INSTALLED, "acme-talk", "VIDEO")

    portals = PortalStore(engine, SECRET_KEY)
    installed = OAuthTokens(emulator.state.issue_access_token(hub_id=INSTALLED), "refresh-of-888", now + 3600)
    with engine.begin() as conn:
        portals.install(conn, INSTALLED, "acme", installed, now=now - 86400)
        portals.install(conn, DISCONNECTED, "default", OAuthTokens("at-999", "rt-999", now - 600), now=now - 7200)
    portals.mark_synced(INSTALLED, now=now - 3600)
    portals.disconnect(DISCONNECTED, "HubSpot 400 BAD_REFRESH_TOKEN: the app was uninstalled", now=now - 1800)
    nonce = "nonce-3f1c9a7e5b2d4c6a"
    assert use_state_nonce(engine, nonce, max_age_s=86400 * 365)

    # The configured portal's tokens as a refresh left them. The environment's access token
    # is then revoked, so events for that portal can only go out with the stored one.
    configured = OAuthTokens(emulator.state.issue_access_token(), env["HUBSPOT_REFRESH_TOKEN"], now + 3600)
    EncryptedTokenStore(engine, SECRET_KEY, env["HUBSPOT_REFRESH_TOKEN"]).save(configured)
    del emulator.state.access_tokens[env["HUBSPOT_ACCESS_TOKEN"]]

    t0_ms = int(now * 1000) - 600_000
    sessions = [("sess-outside-hubspot-01", None, "clip-a", "VIDEO", True),
                ("sess-configured-000002", CONFIGURED, "clip-b", "AUDIO", True),
                ("sess-installed-0000003", INSTALLED, "acme-talk", "VIDEO", True),
                ("sess-still-playing-004", CONFIGURED, "clip-a", "VIDEO", False)]
    with engine.begin() as conn:
        for i, (session_id, portal_id, external_id, media_type, final) in enumerate(sessions):
            old_release_records(conn, session_reports(session_id, portal_id, external_id, media_type,
                                                      t0_ms + i * 1000, final=final), now=now - 300 + i)
        dead_event = EventRecord(kind=QUARTILE, external_id="clip-a", media_type="VIDEO",
                                 session_id="sess-dead-0000005", occurred_at_ms=t0_ms - 60_000, played_percent=75,
                                 portal_id=CONFIGURED, contact_utk="utk-dead", page_name="Spring launch",
                                 page_url="https://site.test/spring")
        conn.execute(jobs.insert(), [
            dict(kind=dead_event.job_kind, portal_id=CONFIGURED, priority=dead_event.job_priority,
                 payload=stored_payload(dead_event), state=DEAD, attempts=1, next_attempt_at=now - 3000,
                 created_at=now - 3000, updated_at=now - 2990, dedupe_key="sess-dead-0000005:q75",
                 last_error="HubSpot 400 VALIDATION_ERROR on POST /media-bridge/v2/events/media-played-percent"),
            dict(kind=KIND_PUSH_MODULES, portal_id=INSTALLED, priority=20, payload="{}", state=DEAD, attempts=6,
                 next_attempt_at=now - 5000, created_at=now - 9000, updated_at=now - 5000, dedupe_key=None,
                 last_error="HubSpot 403 MISSING_SCOPES: content"),
            dict(kind="event.played", portal_id=DISCONNECTED, priority=10, payload=stored_payload(EventRecord(
                kind=PLAYED, external_id="clip-a", media_type="VIDEO", session_id="sess-disconnected-0006",
                occurred_at_ms=t0_ms, state="STARTED", portal_id=DISCONNECTED)), state=HELD,
                 attempts=0, next_attempt_at=now - 1700, created_at=now - 1700, updated_at=now - 1700,
                 dedupe_key="sess-disconnected-0006:played", last_error="portal 999 is disconnected"),
        ])
        settings = load_settings(env, "/nonexistent")
        set_mark(conn, "modules", modules_fingerprint())
        set_mark(conn, "app_setup", app_fingerprint(catalog.media_types(), settings.public_url,
                                                    settings.effective_url_schemes))
        if engine.dialect.name == "postgresql":  # the old release's function took these slots
            for _ in range(2):
                conn.execute(sa.text("SELECT * FROM hubspot_take_rate_slot(1, 2, 'app:4242', 100, 10.0, "
                                     "CAST('{}' AS bigint[]))"))
        else:  # SQLite had the tables (an id with no sequence) but never used them
            conn.execute(rate_slots.insert(), [dict(id=1, budget_key="app:4242", taken_at=now - 120),
                                               dict(id=2, budget_key="app:4242", taken_at=now - 119)])
        conn.execute(rate_blocks.insert().values(budget_key="app:4242", blocked_until=now - 100))
    pushed = StoredPushRecord(engine)
    for path in ("media-bridge/media_embed.module/module.html", "media-bridge/media_embed.module/meta.json"):
        pushed.put(PushRecord.key(INSTALLED, "draft", path), "ab" * 32, 1764000000000)
    return {"installed": installed, "configured": configured, "nonce": nonce,
            "sessions": {s[0]: s[1] for s in sessions}}


def snapshot(engine: sa.Engine, columns: dict[str, list[str]]) -> dict[str, list[dict]]:
    """Every row of the tables and columns named (those the old release had)."""
    with engine.connect() as conn:
        return {table.name: [dict(row) for row in conn.execute(
                    sa.select(*[table.c[name] for name in columns[table.name]])
                    .order_by(*table.primary_key.columns)).mappings()]
                for table in metadata.sorted_tables if table.name in columns}


def old_release_columns(engine: sa.Engine) -> dict[str, list[str]]:
    inspector = sa.inspect(engine)
    return {name: [c["name"] for c in inspector.get_columns(name)] for name in inspector.get_table_names()
            if name in metadata.tables}


def old_release_records(conn: sa.Connection, reports: list[PlayerReport], now: float) -> None:
    """A session as the old release's intake stored it: its row (no writer digest, which that
    release did not have) and its jobs, with the same dedupe keys today's intake uses."""
    first = reports[0].record
    last = reports[-1]
    assert last.record.spans is not None
    conn.execute(play_sessions.insert().values(
        session_id=first.session_id, external_id=first.external_id, media_type=first.media_type,
        portal_id=first.portal_id, contact_utk=first.contact_utk, page_name=first.page_name,
        page_url=first.page_url, state=first.state, started_at_ms=first.occurred_at_ms,
        started_day=time.strftime("%Y-%m-%d", time.gmtime(first.occurred_at_ms / 1000)), reports=len(reports),
        spans=json.dumps(list(last.record.spans), separators=(",", ":")), span_seconds=last.record.span_seconds,
        duration_seconds=last.record.duration_seconds, percent_played=percent_played(last.record.spans),
        attention_at_ms=last.record.occurred_at_ms, first_seen_at=now, last_seen_at=now,
        closed_at=now if last.final else None))
    for report in reports:
        record = report.record
        suffix = {PLAYED: "played", QUARTILE: f"q{record.played_percent}", ATTENTION: "attention"}[record.kind]
        if record.kind != ATTENTION or report.final:
            enqueue(conn, record.job_kind, record.to_payload(), portal_id=record.portal_id,
                    priority=record.job_priority, dedupe_key=f"{record.session_id}:{suffix}", now=now)


def job_states(engine: sa.Engine) -> dict[int, tuple[str, str | None]]:
    with engine.connect() as conn:
        return {row.id: (row.state, row.last_error) for row in conn.execute(sa.select(jobs.c.id, jobs.c.state,
                                                                                     jobs.c.last_error))}


def test_a_database_of_the_release_before_migrations_is_upgraded_in_place(empty_database_url, emulator,
                                                                          monkeypatch):
    env = worker_env(emulator, empty_database_url)
    create_legacy_schema(empty_database_url)
    engine = create_catalog_engine(empty_database_url)
    add_later_columns(engine)
    expected = fill_every_table(engine, emulator, env)
    old_columns = old_release_columns(engine)
    before = snapshot(engine, old_columns)
    assert [name for name, rows in before.items() if not rows] == []  # data in every table
    assert schema_version.current_revision(engine) is None

    process_env = {k: v for k, v in os.environ.items() if not k.startswith(("OEMBED_", "HUBSPOT_"))}
    upgraded = subprocess.run([sys.executable, "-m", "oembed_server.cli", "db", "upgrade"], cwd=REPO,
                              env=process_env | {"OEMBED_DATABASE_URL": empty_database_url},
                              capture_output=True, text=True, timeout=60)
    head = schema_version.head_revision()
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout == f"Database upgraded from {schema_version.PRE_MIGRATION_SCHEMA} to {head}.\n"

    monkeypatch.setenv("OEMBED_DATABASE_URL", empty_database_url)
    assert CliRunner().invoke(cli, ["db", "current"]).output == f"{head} (newest)\n"
    assert snapshot(engine, old_columns) == before
    assert schema_differences(engine) == []

    # Every token still decrypts with the same OEMBED_SECRET_KEY.
    portals = PortalStore(engine, SECRET_KEY)
    assert portals.load_tokens(INSTALLED) == expected["installed"] and portals.get(INSTALLED).connected
    assert portals.get(DISCONNECTED).token_state == "disconnected" and portals.load_tokens(DISCONNECTED) is None
    assert EncryptedTokenStore(engine, SECRET_KEY, env["HUBSPOT_REFRESH_TOKEN"]).load() == expected["configured"]
    assert state_nonce_used(engine, expected["nonce"])

    # A second upgrade finds nothing to do.
    again = CliRunner().invoke(cli, ["db", "upgrade"])
    assert again.exit_code == 0 and again.output == f"Database already at the newest revision ({head}).\n"
    assert snapshot(engine, old_columns) == before

    # The worker of the new release delivers what the old one queued, with the stored tokens.
    states = job_states(engine)
    queued = {job_id for job_id, (state, _) in states.items() if state == QUEUED}
    kept = {job_id: value for job_id, value in states.items() if value[0] in (DEAD, HELD)}
    assert len(queued) == 4 * (1 + 3) + 3 and len(kept) == 3  # a played and 3 quartiles each, 3 attentions
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = make_app(empty_database_url)
    result = command_runner(app).invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    # One job queued at start: the app setup again, since this release adds the journal of
    # uninstalls to it (the marks say the modules are current).
    assert f"Sent {len(queued) + 1}, retried 0, held 0, dead 0;" in result.output, result.output
    after = job_states(engine)
    [setup] = [job_id for job_id in after if job_id not in states]
    assert {job_id for job_id, (state, _) in after.items() if state == "done"} == queued | {setup}
    assert {job_id: value for job_id, value in after.items() if job_id not in queued | {setup}} == kept
    assert len(emulator.state.journal.subscriptions) == 1

    events = received(emulator.state, version=None)
    assert len(events) == len(queued) and not duplicates(events)
    assert all(not entry.get("rejected") for entry in emulator.state.events)
    by_session = {}
    for event in events:
        by_session.setdefault(event["sessionId"], set()).add(event["portalId"])
    assert by_session == {"sess-outside-hubspot-01": {CONFIGURED}, "sess-configured-000002": {CONFIGURED},
                          "sess-installed-0000003": {INSTALLED}, "sess-still-playing-004": {CONFIGURED}}
    assert sorted(identity(e)[0] for e in events if e["sessionId"] == "sess-installed-0000003") == [
        "attention-span", "media-played", "media-played-percent", "media-played-percent", "media-played-percent"]
    # No refresh was needed: the stored access tokens were read back and used (the one token
    # request is the app's client-credentials token for the journal subscription).
    assert emulator.state.count(path="/oauth/v1/token") == len(emulator.state.app_tokens) == 1
    app.extensions["catalog"].dispose()
    engine.dispose()
