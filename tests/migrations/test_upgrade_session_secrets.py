"""Upgrading to 0003_session_secrets (issue 17): a database at the baseline revision, holding
tokens encrypted the way the release before it encrypted them, a play session and an
insights link of that release, is upgraded on each engine. Every token still decrypts with
the same OEMBED_SECRET_KEY (also after the links are revoked); the old session stays
readable and takes no report (it has no writer); old-style links, which revealed the
session id, open nothing."""
from __future__ import annotations

import base64
import json
import time

import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import URLSafeSerializer

from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.storage import schema_version
from oembed_server.storage.engine import create_catalog_engine
from oembed_server.storage.portal_store import PortalStore
from oembed_server.storage.schema import hubspot_portals, oauth_tokens, play_sessions
from oembed_server.storage.token_store import EncryptedTokenStore
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.apps import command_runner, make_app
from tests.support.environment import PUBLIC_URL, SECRET_KEY
from tests.support.event_reports import attention, player_token
from tests.support.insights_links import app_link_keys
from tests.support.schema_check import schema_differences

OLD_SESSION = "sess-before-the-upgrade-01"


def old_release_fernet(purpose: bytes) -> Fernet:
    """The stored tokens' key exactly as the release before this one derived it."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"oembed-server", info=purpose).derive(SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def test_baseline_database_upgrades_with_its_tokens_readable(empty_database_url):
    engine = create_catalog_engine(empty_database_url)
    with engine.begin() as conn:
        command.upgrade(schema_version.alembic_config(conn), "0001_baseline")
    now = time.time()
    installed = {"access_token": "at-888", "refresh_token": "rt-888", "expires_at": now + 3600}
    configured = {"access_token": "at-env", "refresh_token": "rt-env", "expires_at": now + 3600}
    origin = EncryptedTokenStore(engine, SECRET_KEY, "rt-env")._origin  # the record's key, as before
    with engine.begin() as conn:
        conn.execute(hubspot_portals.insert().values(
            portal_id=888, library="default", token_state="connected", connected_at=now, updated_at=now,
            ciphertext=old_release_fernet(b"hubspot-portals/fernet").encrypt(json.dumps(installed).encode()).decode()))
        conn.execute(oauth_tokens.insert().values(
            origin=origin, updated_at=sa.func.current_timestamp(),
            ciphertext=old_release_fernet(b"hubspot-oauth-tokens/fernet").encrypt(
                json.dumps(configured).encode()).decode()))
        conn.execute(play_sessions.insert().values(
            session_id=OLD_SESSION, external_id="sample-video", media_type="VIDEO", portal_id=42, state="STARTED",
            started_at_ms=int(now * 1000), started_day=time.strftime("%Y-%m-%d", time.gmtime(now)), reports=2,
            spans="[1,1,0,0,0,0,0,0,0]", span_seconds=1.0, duration_seconds=8.0, percent_played=22.2,
            first_seen_at=now, last_seen_at=now))
    # The link the old release put in the played event: the session id, signed, readable.
    old_link = "/insights/session/" + URLSafeSerializer(SECRET_KEY, salt="insights-session-link").dumps(OLD_SESSION)

    upgraded = schema_version.upgrade(engine)
    assert (upgraded.before, upgraded.after) == ("0001_baseline", schema_version.head_revision())
    assert schema_differences(engine) == []

    expected_installed = OAuthTokens("at-888", "rt-888", installed["expires_at"])
    expected_configured = OAuthTokens("at-env", "rt-env", configured["expires_at"])
    assert PortalStore(engine, SECRET_KEY).load_tokens(888) == expected_installed
    assert EncryptedTokenStore(engine, SECRET_KEY, "rt-env").load() == expected_configured

    app = make_app(empty_database_url)
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    client = app.test_client()
    assert client.get(old_link).status_code == 404
    from oembed_server.domain.session_links import session_page_url
    new_link = session_page_url(PUBLIC_URL, app_link_keys(app), OLD_SESSION).removeprefix(PUBLIC_URL)
    assert client.get(new_link).status_code == 200
    # A session from before the binding has no writer: nobody can report into it any more.
    token = player_token(client)
    refused = client.post("/events", json=attention(token, [1] * 9, sessionId=OLD_SESSION, final=True))
    assert refused.status_code == 409 and refused.json["field"] == "sessionSecret"

    assert command_runner(app).invoke(["insights", "revoke-links", "--yes"]).exit_code == 0
    assert client.get(new_link).status_code == 404
    assert PortalStore(engine, SECRET_KEY).load_tokens(888) == expected_installed
    assert EncryptedTokenStore(engine, SECRET_KEY, "rt-env").load() == expected_configured
    app.extensions["catalog"].dispose()
    engine.dispose()
