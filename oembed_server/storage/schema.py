"""The database schema: every table, index and function the project keeps, in one
``MetaData``. The migrations (``storage/migrations``) are what make a database look like
this; a test compares a migrated database with it, so a change here without its migration
fails CI. Imports nothing of the project but the domain's values.
"""
from __future__ import annotations

import sqlalchemy as sa

from oembed_server.domain.media import Visibility

metadata = sa.MetaData()

# --- the media catalog ---------------------------------------------------------------------
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
    # JSON text, written canonically by media.captions_json: plain text compares with IS
    # DISTINCT FROM on both engines (PostgreSQL's json type has no equality operator).
    sa.Column("captions", sa.Text),
    sa.Column("stream_url", sa.Text),
    # NULL is the default library.
    sa.Column("library", sa.String(64)),
    # A lead capture gate: canonical JSON text (domain.lead_gates.gate_json), like captions.
    sa.Column("gate", sa.Text),
    sa.Column("description", sa.Text),
    # JSON text like captions: chapters.chapters_json and calls_to_action.ctas_json.
    sa.Column("chapters", sa.Text),
    sa.Column("ctas", sa.Text),
)


# --- the job queue (storage.job_queue) -----------------------------------------------------
QUEUED = "queued"  # waiting for its next attempt time
DONE = "done"      # delivered; pruned after the retention period
DEAD = "dead"      # a failure retrying cannot fix; kept with the reason until requeued
HELD = "held"      # cannot run yet (for example no token for its portal); kept, counted
SHED = "shed"      # dropped from a backlog HubSpot's budget could not clear in time; counted, pruned like done
JOB_STATES = (QUEUED, DONE, DEAD, HELD, SHED)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits at a
# million-row backlog with retention.
_ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", _ID_TYPE, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("portal_id", sa.BigInteger),
    # Lower runs first: within a portal's budget, played events go before attention spans
    # and quartiles so a backlog still puts every session on the timeline.
    sa.Column("priority", sa.SmallInteger, nullable=False, server_default="100"),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default=QUEUED),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # Epoch seconds as floats: comparable on both engines without time zone surprises.
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # The same piece of work offered twice (a replayed request) is stored once.
    sa.Column("dedupe_key", sa.String(128), unique=True),
    sa.Column("last_error", sa.Text),
    # Who holds the job and until when (epoch seconds); NULL when nobody does.
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_until", sa.Float),
)

# The worker's claim query walks this index: due work in priority order, never a scan.
sa.Index("ix_jobs_due", jobs.c.state, jobs.c.priority, jobs.c.next_attempt_at)
sa.Index("ix_jobs_portal_state", jobs.c.portal_id, jobs.c.state, jobs.c.kind)
# Pruning finds old delivered rows without reading the backlog: a partial index, so the
# queued rows the intake inserts do not pay for it.
JOB_IS_DONE = jobs.c.state == sa.literal_column(f"'{DONE}'")
sa.Index("ix_jobs_done_at", jobs.c.updated_at, postgresql_where=JOB_IS_DONE, sqlite_where=JOB_IS_DONE)


# --- play sessions (storage.play_sessions) -------------------------------------------------
play_sessions = sa.Table(
    "play_sessions",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.String(64), nullable=False, unique=True),
    sa.Column("external_id", sa.String(255), nullable=False),
    sa.Column("media_type", sa.String(16), nullable=False),
    sa.Column("portal_id", sa.BigInteger),
    # Visitor fields: None when the visitor asked not to be tracked (dnt, Global Privacy Control).
    sa.Column("contact_utk", sa.String(128)),
    sa.Column("page_id", sa.String(64)),
    sa.Column("page_name", sa.Text),
    sa.Column("page_url", sa.Text),
    sa.Column("hsenc", sa.Text),
    sa.Column("external_play_context", sa.String(16)),
    # The HubSpot contact record id an email link named (see "Plays from email" in the README).
    sa.Column("contact_id", sa.BigInteger),
    sa.Column("state", sa.String(16)),             # STARTED or VIEWED once the played report came
    sa.Column("started_at_ms", sa.BigInteger),
    # UTC day of the played report, stored so per-day counts group alike on both engines.
    sa.Column("started_day", sa.String(10)),
    sa.Column("reports", sa.Integer, nullable=False, server_default="1"),
    sa.Column("spans", sa.Text),                    # JSON list: play count per span
    sa.Column("span_seconds", sa.Float),
    sa.Column("duration_seconds", sa.Float),
    sa.Column("percent_played", sa.Float),
    sa.Column("attention_at_ms", sa.BigInteger),    # the player's time of the latest update
    sa.Column("first_seen_at", sa.Float, nullable=False),  # server time, epoch seconds
    sa.Column("last_seen_at", sa.Float, nullable=False),
    sa.Column("closed_at", sa.Float),
    # sha256 of the player token and the session secret of the player that opened the
    # session (domain.session_binding): only that player may write to it. NULL on sessions
    # from before the binding, which no report can write to any more.
    sa.Column("writer_digest", sa.String(64)),
)

# Insights read one item's sessions; close_due_sessions walks open sessions by idleness.
sa.Index("ix_play_sessions_media", play_sessions.c.external_id, play_sessions.c.started_day)
sa.Index("ix_play_sessions_open", play_sessions.c.closed_at, play_sessions.c.last_seen_at)


# --- installed portals (storage.portal_store) ----------------------------------------------
hubspot_portals = sa.Table(
    "hubspot_portals",
    metadata,
    sa.Column("portal_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("library", sa.String(64), nullable=False),
    # The token pair as Fernet ciphertext; NULL once disconnected (the tokens are forgotten).
    sa.Column("ciphertext", sa.Text),
    sa.Column("token_state", sa.String(16), nullable=False),
    sa.Column("state_reason", sa.Text),
    # Epoch seconds, like the job queue.
    sa.Column("connected_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("last_sync_at", sa.Float),
    # Grows with every install, so a cached client built from older tokens is rebuilt.
    sa.Column("generation", sa.Integer, nullable=False, server_default="1"),
    # The scopes HubSpot granted at the last install, space-separated (NULL: installed
    # before they were recorded); an optional scope such as forms may be missing.
    sa.Column("granted_scopes", sa.Text),
    # Set when HubSpot says the app was uninstalled: the portal's visitor data (play
    # sessions, engagement events, utk -> contact pairs) is deleted once this time passes,
    # unless the portal installs again first.
    sa.Column("visitor_data_delete_after", sa.Float),
)


# --- the sites a portal's pages are served from (storage.portal_hosts) -----------------------
portal_hosts = sa.Table(
    "portal_hosts",
    metadata,
    sa.Column("portal_id", sa.BigInteger, primary_key=True, autoincrement=False),
    # Lower-case host name, no port: what a framing page's origin is compared with.
    sa.Column("host", sa.String(253), primary_key=True),
    # "hubspot": read from the portal's CMS domains (replaced on each read); "operator": set
    # with `oembed-server portals domains` (kept until removed).
    sa.Column("source", sa.String(16), primary_key=True),
    sa.Column("updated_at", sa.Float, nullable=False),
)


install_states = sa.Table(
    "hubspot_install_states",
    metadata,
    # The nonce of every OAuth state a callback has used: a replayed callback finds its own.
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("used_at", sa.Float, nullable=False),
)


# --- provisioning (storage.provisioning_marks) ---------------------------------------------
provisioning_marks = sa.Table(
    "provisioning_marks",
    metadata,
    # "app_setup": what the app was last set up for; "modules": the module version last pushed.
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)


module_push_records = sa.Table(
    "module_push_records",
    metadata,
    # What was last pushed to each portal file (PushRecord.key): the fallback when HubSpot's
    # metadata carries no hash. In the database, so every worker process and thread shares it.
    sa.Column("key", sa.String(600), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("remote_updated_at", sa.String(64)),
)


# --- the configured portal's refreshed tokens (storage.token_store) ------------------------
oauth_tokens = sa.Table(
    "hubspot_oauth_tokens",
    metadata,
    # HMAC of the refresh token the environment supplied: rotating that token in the
    # environment starts a fresh record instead of reviving a stale one.
    sa.Column("origin", sa.String(64), primary_key=True),
    sa.Column("ciphertext", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


# --- salts of derived keys (storage.key_salts) ---------------------------------------------
key_salts = sa.Table(
    "key_salts",
    metadata,
    # What the key is for ("insights-links"); the key is HKDF(OEMBED_SECRET_KEY, salt, purpose).
    # A new salt revokes every link signed with the old key, without touching the secret.
    sa.Column("purpose", sa.String(64), primary_key=True),
    sa.Column("salt", sa.String(128), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)


# --- the per-portal rate budget shared by workers on PostgreSQL (storage.shared_rate_budget)
rate_slots = sa.Table(
    "hubspot_rate_slots",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("budget_key", sa.String(64), nullable=False),
    sa.Column("taken_at", sa.Float, nullable=False),
)
sa.Index("ix_hubspot_rate_slots_key", rate_slots.c.budget_key, rate_slots.c.taken_at)

rate_blocks = sa.Table(
    "hubspot_rate_blocks",
    metadata,
    sa.Column("budget_key", sa.String(64), primary_key=True),
    sa.Column("blocked_until", sa.Float, nullable=False),
)

# Take a slot in one round trip: lock the key, restamp the slots whose answers came (counted
# from the answer: HubSpot counted them on arrival, earlier), count the window, and either
# take a slot or say how long to wait. Time is the database's, shared by every process.
TAKE_RATE_SLOT_FUNCTION = """
CREATE OR REPLACE FUNCTION hubspot_take_rate_slot(p_ns int, p_lock int, p_key text, p_max int,
                                                  p_interval float8, p_answered bigint[])
RETURNS TABLE(slot_id bigint, wait_s float8) LANGUAGE plpgsql AS $$
DECLARE
  v_now float8;
  v_count int;
  v_oldest float8;
  v_blocked float8;
  v_wait float8;
BEGIN
  PERFORM pg_advisory_xact_lock(p_ns, p_lock);
  v_now := extract(epoch from clock_timestamp());
  IF cardinality(p_answered) > 0 THEN
    UPDATE hubspot_rate_slots SET taken_at = v_now WHERE id = ANY(p_answered);
  END IF;
  SELECT count(*), min(taken_at) INTO v_count, v_oldest FROM hubspot_rate_slots
   WHERE budget_key = p_key AND taken_at > v_now - p_interval;
  SELECT blocked_until INTO v_blocked FROM hubspot_rate_blocks WHERE budget_key = p_key;
  v_wait := coalesce(v_blocked, 0) - v_now;
  IF v_count >= p_max THEN
    v_wait := greatest(v_wait, v_oldest + p_interval - v_now);
  END IF;
  IF v_wait > 0 THEN
    RETURN QUERY SELECT NULL::bigint, v_wait;
  ELSE
    RETURN QUERY INSERT INTO hubspot_rate_slots AS s (budget_key, taken_at) VALUES (p_key, v_now)
                 RETURNING s.id, 0::float8;
  END IF;
END
$$
"""

# Part of the schema like the tables: metadata.create_all makes it too on PostgreSQL.
sa.event.listen(metadata, "after_create", sa.DDL(TAKE_RATE_SLOT_FUNCTION).execute_if(dialect="postgresql"))


# --- HubSpot webhooks and privacy deletions (storage.webhook_events, storage.privacy_erasure)
contact_utks = sa.Table(
    "hubspot_contact_utks",
    metadata,
    # Which contact a visitor token belongs to in a portal, as HubSpot told us (an event
    # answer naming the contact of the utk sent). Erased with the contact's other data.
    sa.Column("portal_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("contact_utk", sa.String(128), primary_key=True),
    sa.Column("contact_id", sa.BigInteger, nullable=False),
    sa.Column("learned_at", sa.Float, nullable=False),
)
# A privacy deletion looks up every utk of one contact.
sa.Index("ix_hubspot_contact_utks_contact", contact_utks.c.portal_id, contact_utks.c.contact_id)

webhook_events_seen = sa.Table(
    "hubspot_webhook_events_seen",
    metadata,
    # HubSpot redelivers and reorders: each event once. The key is an HMAC (WebhookEvent.
    # dedupe_key), so no contact id outlives its erasure here.
    sa.Column("dedupe_key", sa.String(64), primary_key=True),
    sa.Column("portal_id", sa.BigInteger, nullable=False),
    sa.Column("subscription_type", sa.String(100), nullable=False),
    # applied, unknown_portal, other_app, ignored (a type this server does not act on)
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False),
)
sa.Index("ix_hubspot_webhook_events_seen_at", webhook_events_seen.c.seen_at)
# A privacy deletion finds a visitor's play sessions by portal and utk.
sa.Index("ix_play_sessions_visitor", play_sessions.c.portal_id, play_sessions.c.contact_utk)
# --- worker heartbeats (storage.worker_heartbeats) -----------------------------------------
worker_heartbeats = sa.Table(
    "worker_heartbeats",
    metadata,
    # Worker.owner: host, pid and a random part, the name its job leases carry.
    sa.Column("owner", sa.String(64), primary_key=True),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    # Epoch seconds, like the job queue.
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("beat_at", sa.Float, nullable=False),
    # The worker's --lease-seconds: silent for three of them, it is stale.
    sa.Column("lease_s", sa.Float, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # running, stopping, stopped
    # JSON object: budget key -> share of that budget's window used at the last beat.
    sa.Column("budget_usage", sa.Text),
)


# --- install invites (storage.invite_store) ------------------------------------------------
install_invites = sa.Table(
    "install_invites",
    metadata,
    # The public half of an invite (listed, revoked by it); the link also carries a secret,
    # kept here only as its SHA-256, so the table alone cannot be turned into links.
    sa.Column("invite_id", sa.String(32), primary_key=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("library", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("max_uses", sa.Integer, nullable=False),
    sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
    sa.Column("revoked_at", sa.Float),
    sa.Column("created_by", sa.String(128), nullable=False),
)


# --- the operator console (storage.operator_store, storage.refusal_tally) -------------------
console_operators = sa.Table(
    "console_operators",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),  # Argon2id, PHC string
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

console_sessions = sa.Table(
    "console_sessions",
    metadata,
    # SHA-256 of the cookie's value: a read of the table signs nobody in.
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("operator", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)
sa.Index("ix_console_sessions_operator", console_sessions.c.operator)

console_login_failures = sa.Table(
    "console_login_failures",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    # "name:<operator>" or "addr:<client address>": the throttle counts both.
    sa.Column("throttle_key", sa.String(200), nullable=False),
    sa.Column("failed_at", sa.Float, nullable=False),
)
sa.Index("ix_console_login_failures_key", console_login_failures.c.throttle_key, console_login_failures.c.failed_at)

intake_refusals = sa.Table(
    "intake_refusals",
    metadata,
    # Refused /events reports per minute and reason, added to by each process at most once
    # per flush period (not per request), so a flood costs no write per refusal.
    sa.Column("minute", sa.BigInteger, primary_key=True, autoincrement=False),  # epoch seconds // 60
    sa.Column("reason", sa.String(64), primary_key=True),
    sa.Column("refused", sa.BigInteger, nullable=False),
)


# --- call-to-action clicks (storage.cta_clicks) --------------------------------------------
cta_clicks = sa.Table(
    "cta_clicks",
    metadata,
    # Counts only: nothing about the viewer who clicked is kept.
    sa.Column("external_id", sa.String(255), primary_key=True),
    # calls_to_action.cta_key: the timed CTA's position ("1", "2" ...) or "end".
    sa.Column("cta_key", sa.String(16), primary_key=True),
    sa.Column("clicks", sa.BigInteger, nullable=False),
    sa.Column("last_click_at", sa.Float, nullable=False),  # epoch seconds
)


# --- lead capture gates (storage.gate_counts) -----------------------------------------------
# Counts only: nothing a viewer typed into a gate is ever stored.
gate_counts = sa.Table(
    "gate_counts",
    metadata,
    sa.Column("external_id", sa.String(255), primary_key=True),
    sa.Column("form_id", sa.String(36), primary_key=True),
    sa.Column("shown", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("submitted", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("skipped", sa.BigInteger, nullable=False, server_default="0"),
)


# --- the Webhooks Journal (usecases.app_uninstalls) -------------------------------------------
# Where reading stopped: one row per journal this server reads (today "app_lifecycle").
journal_cursors = sa.Table(
    "journal_cursors",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("last_offset", sa.String(100)),
    sa.Column("subscription_id", sa.String(64)),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# Journal entries that could not be read, kept with their raw text: never skipped silently.
journal_dead_letters = sa.Table(
    "journal_dead_letters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("file_offset", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
