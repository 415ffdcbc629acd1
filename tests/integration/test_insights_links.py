"""Insights links are capabilities (issue 17, item 8): they expire when told to, can be
revoked without rotating OEMBED_SECRET_KEY (the stored tokens stay readable), are signed
with a key of their own, and never reach the request log."""
from __future__ import annotations

import base64
import logging
import time
import urllib.request

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.domain.session_links import media_insights_url, session_page_url
from oembed_server.settings import ConfigError
from oembed_server.storage.portal_store import PortalStore
from oembed_server.storage.token_store import EncryptedTokenStore
from oembed_server.usecases.sample_media import load_sample_media
from oembed_server.web.log_redaction import AccessLogRedaction
from tests.support.apps import command_runner, make_app
from tests.support.environment import PUBLIC_URL, SECRET_KEY
from tests.support.event_reports import SESSION, attention, body, player_token
from tests.support.insights_links import app_link_keys
from tests.support.live_server import serve_in_thread

DAY = 86400


def played(app) -> None:
    client = app.test_client()
    token = player_token(client)
    assert client.post("/events", json=body(token)).status_code == 202
    assert client.post("/events", json=attention(token, [1] * 9, final=True)).status_code == 202


@pytest.fixture
def app(sqlite_url):
    app = make_app(sqlite_url, OEMBED_INSIGHTS_LINK_DAYS="1")
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    played(app)
    yield app
    app.extensions["catalog"].dispose()


def local(url: str) -> str:
    return url.removeprefix(PUBLIC_URL)


def session_link_made_at(app, when: float) -> str:
    token = app_link_keys(app).session.encrypt_at_time(SESSION.encode(), int(when)).decode()
    return f"/insights/session/{token}"


def test_links_expire_after_the_configured_days(app, sqlite_url):
    client = app.test_client()
    assert client.get(session_link_made_at(app, time.time() - 3600)).status_code == 200
    assert client.get(session_link_made_at(app, time.time() - 2 * DAY)).status_code == 404
    # Without OEMBED_INSIGHTS_LINK_DAYS a link lives as long as the timeline event.
    forever = make_app(sqlite_url)
    assert forever.test_client().get(session_link_made_at(app, time.time() - 400 * DAY)).status_code == 200
    forever.extensions["catalog"].dispose()


@pytest.mark.parametrize("value", ["-1", "soon", "40000"])
def test_link_days_setting_is_checked(sqlite_url, value):
    with pytest.raises(ConfigError, match="OEMBED_INSIGHTS_LINK_DAYS"):
        make_app(sqlite_url, OEMBED_INSIGHTS_LINK_DAYS=value)


def test_revoking_links_keeps_the_secret_and_the_stored_tokens(app):
    engine = app.extensions["catalog"].engine
    tokens = OAuthTokens("access-1", "refresh-1", time.time() + 3600)
    portals = PortalStore(engine, SECRET_KEY)
    with engine.begin() as conn:
        portals.install(conn, 888, "default", tokens)
    EncryptedTokenStore(engine, SECRET_KEY, "env-refresh").save(tokens)
    client = app.test_client()
    old_session = local(session_page_url(PUBLIC_URL, app_link_keys(app), SESSION))
    old_media = local(media_insights_url(PUBLIC_URL, app_link_keys(app), "sample-video"))
    assert client.get(old_session).status_code == 200 and client.get(old_media).status_code == 200

    result = command_runner(app).invoke(["insights", "revoke-links", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Revoked every insights link" in result.output
    assert client.get(old_session).status_code == 404 and client.get(old_media).status_code == 404
    assert client.get(local(session_page_url(PUBLIC_URL, app_link_keys(app), SESSION))).status_code == 200
    # Same OEMBED_SECRET_KEY, and every stored token still decrypts.
    assert app.extensions["oembed_settings"].secret_key == SECRET_KEY
    assert PortalStore(engine, SECRET_KEY).load_tokens(888) == tokens
    assert EncryptedTokenStore(engine, SECRET_KEY, "env-refresh").load() == tokens


def test_revoking_asks_first(app):
    result = command_runner(app).invoke(["insights", "revoke-links"], input="n\n")
    assert result.exit_code != 0
    assert app.test_client().get(session_link_made_at(app, time.time())).status_code == 200


def test_links_and_tokens_have_keys_of_their_own(app):
    # The stored tokens' key is HKDF of the secret with the tokens' fixed salt, as when
    # tokens were first encrypted: a ciphertext written now opens with that derivation.
    engine = app.extensions["catalog"].engine
    tokens = OAuthTokens("access-2", "refresh-2", None)
    with engine.begin() as conn:
        PortalStore(engine, SECRET_KEY).install(conn, 889, "default", tokens)
    from oembed_server.storage.schema import hubspot_portals
    with engine.connect() as conn:
        ciphertext = conn.execute(hubspot_portals.select().where(hubspot_portals.c.portal_id == 889)).mappings().one()[
            "ciphertext"]
    tokens_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"oembed-server",
                      info=b"hubspot-portals/fernet").derive(SECRET_KEY.encode())
    assert b"access-2" in Fernet(base64.urlsafe_b64encode(tokens_key)).decrypt(ciphertext.encode())
    # A link made with the tokens' key (or with the bare secret) opens nothing.
    forged = Fernet(base64.urlsafe_b64encode(tokens_key)).encrypt(SESSION.encode()).decode()
    assert app.test_client().get(f"/insights/session/{forged}").status_code == 404


def test_the_request_log_shows_no_link_and_no_visitor_token(sqlite_url, caplog):
    apps = []

    def build(base_url):
        apps.append(make_app(sqlite_url, OEMBED_PUBLIC_URL=base_url))
        load_sample_media(apps[-1].extensions["catalog"], base_url)
        return apps[-1]

    with caplog.at_level(logging.INFO, logger="werkzeug"), serve_in_thread(build) as base_url:
        keys = app_link_keys(apps[0])
        session_url = session_page_url(base_url, keys, SESSION)
        media_url = media_insights_url(base_url, keys, "sample-video")
        player = f"{base_url}/embed/sample-video?hs_utk=utk-of-a-visitor&hs_portal_id=42&_hsenc=enc-of-a-visitor"
        for url in (session_url, media_url, player):
            try:
                urllib.request.urlopen(url, timeout=10)
            except urllib.error.HTTPError:
                pass  # the session does not exist in this database: a 404 is logged all the same
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "werkzeug")
    assert logged.count("[REDACTED]") >= 4, logged
    for secret in (session_url.rsplit("/", 1)[1], media_url.split("key=")[1], "utk-of-a-visitor", "enc-of-a-visitor"):
        assert secret not in logged
    assert "/insights/session/[REDACTED]" in logged and "hs_portal_id=42" in logged
    apps[0].extensions["catalog"].dispose()


def test_gunicorns_access_log_is_redacted_too(sqlite_url):
    make_app(sqlite_url).extensions["catalog"].dispose()
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '%s "%s" %s', (
        "10.0.0.1", "GET /embed/x?hs_utk=abc123&autoplay=1 HTTP/1.1", "https://site.test/p?hs_utk=abc123"), None)
    assert AccessLogRedaction().filter(record)
    assert record.getMessage() == ('10.0.0.1 "GET /embed/x?hs_utk=[REDACTED]&autoplay=1 HTTP/1.1" '
                                   "https://site.test/p?hs_utk=[REDACTED]")
    installed = [f for f in logging.getLogger("gunicorn.access").filters if isinstance(f, AccessLogRedaction)]
    assert installed, "create_app installs the filter on gunicorn's access logger"
