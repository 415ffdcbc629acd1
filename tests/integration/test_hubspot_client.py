"""The HubSpot client against the live emulator: auth per family, retries and their
safety rules, the limiter, token refresh and storage, and secrets kept out of sight."""
from __future__ import annotations

import dataclasses
import logging
import random
import socket
import threading
import time

import flask
import pytest
import requests
import sqlalchemy as sa
from urllib3.exceptions import NewConnectionError, ProtocolError

from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.hubspot import crm_objects_api as crm
from oembed_server.hubspot import media_bridge_api as media_bridge
from oembed_server.hubspot import media_events_api as media_events
from oembed_server.hubspot.api_call import ApiCall, Auth
from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.client_config import HubSpotConfigError, load_hubspot_config
from oembed_server.hubspot.crm_objects_api import CrmObjects
from oembed_server.hubspot.media_bridge_api import MediaBridgeSettings
from oembed_server.hubspot.rate_limiter import RateLimiter
from oembed_server.hubspot.retry_policy import RetryPolicy, request_never_sent, retry_after_seconds
from oembed_server.hubspot.token_refresh import TokenManager
from oembed_server.storage.token_store import EncryptedTokenStore, oauth_tokens
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.testing import SECRET_KEY, assert_no_secrets, make_client

VIDEOS = "a4242_Videos"


def _video(external_id: str) -> dict:
    return {"hs_title": external_id, "hs_oembed_url": f"http://media.test/media/{external_id}",
            "hs_external_id": external_id}


@pytest.fixture
def videos(emulator):
    emulator.state.define_media_types("VIDEO")
    return emulator


# --- pure parts ------------------------------------------------------------------------------
def test_backoff_grows_with_jitter_inside_bounds():
    policy = RetryPolicy(max_retries=5, base_s=1.0, cap_s=8.0)
    rng = random.Random(1)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 8.0)]:
        waits = {policy.backoff(attempt, rng) for _ in range(20)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jittered, not fixed


def test_wait_prefers_retry_after_then_rate_window_and_caps_it():
    policy = RetryPolicy(base_s=1.0, cap_s=8.0, max_wait_s=30.0)
    assert policy.wait_for(0, 429, {"Retry-After": "3"}) == 3.0
    assert policy.wait_for(0, 429, {"X-HubSpot-RateLimit-Remaining": "0",
                                    "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}) == 10.0
    assert policy.wait_for(0, 503, {"Retry-After": "30"}) == 30.0
    assert policy.wait_for(0, 429, {"Retry-After": "600"}) is None  # longer than allowed: give up
    assert 0.5 <= policy.wait_for(0, 503, {}) <= 1.0


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_limiter_keeps_each_key_inside_its_window():
    now = [0.0]
    limiter = RateLimiter(3, 1.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    starts = []
    for _ in range(7):
        limiter.acquire("portal:1")
        starts.append(now[0])
    assert starts == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0]
    limiter.acquire("portal:2")  # another portal has its own budget
    assert now[0] == 2.0
    limiter.observe("portal:2", {"X-HubSpot-RateLimit-Remaining": "0",
                                 "X-HubSpot-RateLimit-Interval-Milliseconds": "5000"})
    assert limiter.acquire("portal:2") == pytest.approx(5.0)


def test_connect_failures_count_as_unsent_but_dropped_answers_do_not():
    refused = requests.exceptions.ConnectionError(
        requests.packages.urllib3.exceptions.MaxRetryError(None, "/x", NewConnectionError(None, "refused")))
    dropped = requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))
    assert request_never_sent(refused)
    assert request_never_sent(requests.exceptions.ConnectTimeout())
    assert not request_never_sent(dropped)
    assert not request_never_sent(requests.exceptions.ReadTimeout())


def test_config_rejects_bad_values():
    with pytest.raises(HubSpotConfigError, match="HUBSPOT_API_BASE"):
        load_hubspot_config({"HUBSPOT_API_BASE": "ftp://x"})
    with pytest.raises(HubSpotConfigError, match="HUBSPOT_RATE_LIMIT"):
        load_hubspot_config({"HUBSPOT_RATE_LIMIT": "lots"})
    with pytest.raises(HubSpotConfigError, match="HUBSPOT_READ_TIMEOUT_S must not be negative"):
        load_hubspot_config({"HUBSPOT_READ_TIMEOUT_S": "-2.5"})
    assert load_hubspot_config({"HUBSPOT_READ_TIMEOUT_S": "2.5"}).read_timeout_s == 2.5
    assert load_hubspot_config({}).api_base == "https://api.hubapi.com"


def test_error_is_one_readable_line_with_hubspot_fields():
    response = requests.Response()
    response.status_code = 400
    response._content = (b'{"status":"error","message":"Property values were not valid\\nsecond line",'
                         b'"correlationId":"c-1","category":"VALIDATION_ERROR"}')
    error = HubSpotError.from_response(response, method="POST", path="/crm/v3/objects/x")
    assert str(error) == ("HubSpot 400 VALIDATION_ERROR on POST /crm/v3/objects/x: Property values were not valid "
                          "second line (correlationId c-1)")
    assert (error.status, error.category, error.correlation_id) == (400, "VALIDATION_ERROR", "c-1")


def test_batch_helpers_refuse_more_than_100_inputs_before_sending():
    with pytest.raises(ValueError, match="at most 100"):
        crm.batch_upsert(VIDEOS, [{"id": str(i)} for i in range(101)])


# --- against the emulator ----------------------------------------------------------------------
def _credentials_seen(emulator, client) -> list[tuple[str, str]]:
    MediaBridgeSettings(client, 4242).object_definition("VIDEO")
    CrmObjects(client).batch_upsert(VIDEOS, [{"idProperty": "hs_external_id", "id": "a", "properties": _video("a")}])
    return [(r.path.split("/")[1], r.auth) for r in emulator.state.requests]


def test_app_calls_send_the_developer_token_as_bearer_when_set_and_never_the_portal_token(videos):
    seen = []
    videos.app.before_request(lambda: seen.append(flask.request.headers.get("Authorization")) and None)
    assert _credentials_seen(videos, make_client(videos)) == [("media-bridge", "bearer"), ("crm", "bearer")]
    developer, portal = next(iter(videos.state.developer_tokens)), next(iter(videos.state.access_tokens))
    assert seen == [f"Bearer {developer}", f"Bearer {portal}"]


def test_app_calls_fall_back_to_the_developer_api_key(videos):
    client = make_client(videos)
    client.config = dataclasses.replace(client.config, developer_access_token=None)
    assert _credentials_seen(videos, client) == [("media-bridge", "hapikey"), ("crm", "bearer")]
    config = load_hubspot_config({"HUBSPOT_ACCESS_TOKEN": "portal-token"})
    with pytest.raises(HubSpotConfigError, match="HUBSPOT_DEVELOPER_ACCESS_TOKEN .* or HUBSPOT_DEVELOPER_API_KEY"):
        HubSpotClient(config).execute(media_bridge.get_object_definition(4242, "VIDEO"))


def test_a_refused_developer_credential_is_named_in_the_error(videos):
    client = make_client(videos)
    videos.state.developer_tokens.clear()  # revoked
    with pytest.raises(HubSpotError, match=r"401 .*\(sent HUBSPOT_DEVELOPER_ACCESS_TOKEN\)") as caught:
        MediaBridgeSettings(client, 4242).object_definition("VIDEO")
    assert_no_secrets(str(caught.value), videos)


def test_bearer_on_a_hapikey_endpoint_surfaces_403_readably(videos):
    client = make_client(videos)
    call = ApiCall("GET", "/media-bridge/v1/4242/settings/object-definitions/VIDEO", Auth.OAUTH, idempotent=True)
    with pytest.raises(HubSpotError) as caught:
        client.execute(call)
    assert caught.value.status == 403
    assert "developer account token" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert_no_secrets(str(caught.value), videos)


def test_idempotent_call_is_retried_through_5xx(videos):
    sleeps = []
    videos.state.fail_next(503, times=2, method="GET")
    client = make_client(videos, sleeps)
    assert MediaBridgeSettings(client, 4242).object_definition("VIDEO") is not None
    assert videos.state.count("GET") == 3
    assert len(sleeps) == 2 and all(0 < s <= 0.05 for s in sleeps)


def test_create_is_not_retried_after_5xx(videos):
    videos.state.fail_next(503, method="POST")
    with pytest.raises(HubSpotError) as caught:
        CrmObjects(make_client(videos, [])).create(VIDEOS, _video("a"))
    assert caught.value.status == 503
    assert videos.state.count("POST") == 1


def test_429_storm_is_waited_out_even_for_a_create_honouring_retry_after(videos):
    sleeps = []
    videos.state.rate_limit_storm(times=3, retry_after=0.25, method="POST")
    CrmObjects(make_client(videos, sleeps)).create(VIDEOS, _video("a"))
    assert sleeps == [0.25, 0.25, 0.25]
    assert videos.state.count("POST", status=429) == 3
    assert len(videos.state.live_objects()) == 1


def test_429_without_retry_after_waits_the_announced_window(videos):
    sleeps = []
    videos.state.rate_limit_storm(times=1, method="GET")
    MediaBridgeSettings(make_client(videos, sleeps), 4242).object_definition("VIDEO")
    assert sleeps[0] == pytest.approx(0.2)  # X-HubSpot-RateLimit-Interval-Milliseconds of the emulator


def test_a_retry_after_longer_than_allowed_fails_at_once(videos):
    # A daily limit answers with hours to wait; retrying within minutes is futile.
    sleeps = []
    videos.state.rate_limit_storm(times=5, retry_after=3600, method="GET")
    with pytest.raises(HubSpotError) as caught:
        MediaBridgeSettings(make_client(videos, sleeps), 4242).object_definition("VIDEO")
    assert caught.value.status == 429
    assert sleeps == [] and videos.state.count("GET") == 1


def test_retries_give_up_after_the_budget(videos):
    videos.state.fail_next(502, times=10, method="GET")
    client = make_client(videos, [], max_retries=2)
    with pytest.raises(HubSpotError) as caught:
        MediaBridgeSettings(client, 4242).object_definition("VIDEO")
    assert caught.value.status == 502
    assert videos.state.count("GET") == 3


def test_dropped_answer_on_upsert_is_retried_without_duplicates(videos):
    videos.state.drop_connections(after_processing=True, path="batch/upsert")
    results = CrmObjects(make_client(videos, [])).batch_upsert(
        VIDEOS, [{"idProperty": "hs_external_id", "id": "a", "properties": _video("a")}])
    assert [r["properties"]["hs_external_id"] for r in results] == ["a"]
    assert videos.state.count("POST", "batch/upsert") == 2
    assert len(videos.state.live_objects()) == 1


def test_dropped_answer_on_create_is_not_repeated(videos):
    videos.state.drop_connections(after_processing=True, method="POST")
    with pytest.raises(HubSpotError) as caught:
        CrmObjects(make_client(videos, [])).create(VIDEOS, _video("a"))
    assert caught.value.category == "CONNECTION_ERROR"
    assert "may have applied" in caught.value.message
    assert videos.state.count("POST") == 1
    assert len(videos.state.live_objects()) == 1


def test_connection_dropped_before_processing_is_retried_for_reads(videos):
    videos.state.drop_connections(times=2, method="GET")
    assert MediaBridgeSettings(make_client(videos, []), 4242).object_definition("VIDEO") is not None
    assert [r.status for r in videos.state.requests] == [0, 0, 200]  # 0: dropped before handling


def test_refused_connection_retries_even_a_create_then_reports_without_secrets(caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = load_hubspot_config({"HUBSPOT_API_BASE": f"http://127.0.0.1:{port}",
                                  "HUBSPOT_ACCESS_TOKEN": "tok-secret-1",
                                  "HUBSPOT_DEVELOPER_API_KEY": "dev-secret-1", "HUBSPOT_MAX_RETRIES": "2",
                                  "HUBSPOT_BACKOFF_BASE_S": "0.001"})
    client = HubSpotClient(config, sleep=lambda s: None)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(HubSpotError) as caught:
        MediaBridgeSettings(client, 1).create_object_definitions(["VIDEO"])
    assert len(client.sent) == 3  # not-sent POSTs are safe to repeat
    assert caught.value.status is None and caught.value.category == "CONNECTION_ERROR"
    for text in (str(caught.value), caplog.text):
        assert "dev-secret-1" not in text and "tok-secret-1" not in text


def test_expired_token_is_refreshed_once_and_the_call_retried(videos):
    client = make_client(videos, [])
    objects = CrmObjects(client)
    objects.batch_upsert(VIDEOS, [{"idProperty": "hs_external_id", "id": "a", "properties": _video("a")}])
    videos.state.expire_tokens()
    found = objects.batch_read(VIDEOS, ["a"], ["hs_title"], "hs_external_id")
    assert [o["properties"]["hs_title"] for o in found.found] == ["a"]
    assert videos.state.count("POST", "/oauth/v1/token") == 1
    assert [r.status for r in videos.state.requests if "batch/read" in r.path] == [401, 200]


def test_token_is_refreshed_before_expiry_without_a_401(videos):
    now = [1_000_000.0]
    config = load_hubspot_config(videos.env() | {"HUBSPOT_TOKEN_REFRESH_MARGIN_S": "60"})
    client = HubSpotClient(config, clock=lambda: now[0])
    videos.state.expire_tokens()
    objects = CrmObjects(client)
    list(objects.search_all(VIDEOS, [], []))
    assert videos.state.count("POST", "/oauth/v1/token") == 1  # learned the lifetime from this refresh
    now[0] += videos.state.token_lifetime_s - 30  # inside the refresh margin
    list(objects.search_all(VIDEOS, [], []))
    assert videos.state.count("POST", "/oauth/v1/token") == 2
    assert videos.state.count(status=401) == 1  # only the first, unknown-lifetime token was refused


def test_failed_refresh_is_one_clear_error_without_secrets(videos):
    client = make_client(videos, [], refresh_token="not-a-valid-refresh-token")
    videos.state.expire_tokens()
    with pytest.raises(HubSpotError) as caught:
        list(CrmObjects(client).search_all(VIDEOS, [], []))
    assert caught.value.category == "BAD_REFRESH_TOKEN"
    assert "not-a-valid-refresh-token" not in str(caught.value)
    assert_no_secrets(str(caught.value), videos)


def test_no_token_and_no_refresh_credentials_is_a_clear_error(videos):
    config = load_hubspot_config({"HUBSPOT_API_BASE": videos.url})
    with pytest.raises(HubSpotError, match="HUBSPOT_REFRESH_TOKEN"):
        list(CrmObjects(HubSpotClient(config)).search_all(VIDEOS, [], []))
    assert videos.state.requests == []


def test_client_limiter_keeps_the_portal_under_its_budget():
    with LiveEmulator(rate_limit=5, rate_interval_ms=300) as live:
        live.state.define_media_types("VIDEO")
        client = make_client(live, rate_limit=5, rate_interval_s=0.3)
        for _ in range(12):
            client.execute(crm.search(VIDEOS, [], []))
        assert live.state.count(status=429) == 0
        # Remaining: 0 in HubSpot's headers also holds the client back.
        assert live.state.count(status=200) == 12


def test_budget_spent_elsewhere_gives_a_429_that_is_waited_out():
    with LiveEmulator(rate_limit=3, rate_interval_ms=300) as live:
        live.state.define_media_types("VIDEO")
        headers = {"Authorization": f"Bearer {next(iter(live.state.access_tokens))}"}
        for _ in range(3):  # another process on the same app and portal spends the window
            requests.post(f"{live.url}/crm/v3/objects/{VIDEOS}/search", json={}, headers=headers, timeout=5)
        make_client(live).execute(crm.search(VIDEOS, [], []))
        assert [r.status for r in live.state.requests][3:] == [429, 200]


def test_no_secret_reaches_logs_or_errors_in_a_busy_session(videos, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(videos, [])
    videos.state.fail_next(503, method="GET")
    MediaBridgeSettings(client, 4242).object_definition("VIDEO")
    videos.state.expire_tokens()
    list(CrmObjects(client).search_all(VIDEOS, [], []))
    with pytest.raises(HubSpotError) as caught:
        client.execute(ApiCall("GET", "/media-bridge/v1/4242/settings/object-definitions/VIDEO", Auth.OAUTH, True))
    assert_no_secrets(caplog.text + str(caught.value) + repr(client.config), videos)


def test_refreshed_tokens_are_stored_encrypted_and_read_back(videos, sqlite_url):
    engine = sa.create_engine(sqlite_url)
    refresh = next(iter(videos.state.refresh_tokens))
    store = EncryptedTokenStore(engine, SECRET_KEY, refresh)
    client = HubSpotClient(load_hubspot_config(videos.env()), token_store=store)
    videos.state.expire_tokens()
    list(CrmObjects(client).search_all(VIDEOS, [], []))
    with engine.connect() as conn:
        row = conn.execute(sa.select(oauth_tokens)).one()
    fresh = store.load()
    assert fresh.access_token in videos.state.access_tokens and fresh.expires_at is not None
    assert fresh.access_token not in row.ciphertext and refresh not in row.ciphertext and refresh not in row.origin
    # A new process picks the stored token up: no refresh needed.
    again = HubSpotClient(load_hubspot_config(videos.env()),
                          token_store=EncryptedTokenStore(engine, SECRET_KEY, refresh))
    list(CrmObjects(again).search_all(VIDEOS, [], []))
    assert videos.state.count("POST", "/oauth/v1/token") == 1
    # Another key cannot read it; a rotated refresh token starts afresh.
    assert EncryptedTokenStore(engine, "another-secret-key-that-is-long-enough-000", refresh).load() is None
    assert EncryptedTokenStore(engine, SECRET_KEY, "rotated-refresh-token").load() is None


def test_concurrent_401s_refresh_only_once():
    calls = []
    threads = 8
    start = threading.Barrier(threads)

    def post_form(path, form):
        calls.append(path)
        # A slow token endpoint: without the manager's lock every thread that was rejected
        # with "old" arrives here before the first refresh lands.
        time.sleep(0.05)
        return {"access_token": f"new-{len(calls)}", "expires_in": 1800}

    manager = TokenManager("old", "r", "id", "secret")
    answers = []

    def rejected():
        start.wait()
        answers.append(manager.refresh_after_rejection("old", post_form))

    workers = [threading.Thread(target=rejected) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert calls == ["/oauth/v1/token"]
    assert answers == ["new-1"] * threads
    assert "old" in manager.secrets() and "r" in manager.secrets()
    assert "new-1" not in repr(OAuthTokens("new-1"))


def test_the_attempt_log_stays_bounded_in_a_long_lived_process():
    class Answering(requests.Session):
        def request(self, method, url, **kwargs):
            response = requests.Response()
            response.status_code, response._content = 200, b"{}"
            return response

    config = load_hubspot_config({"HUBSPOT_DEVELOPER_API_KEY": "k", "HUBSPOT_RATE_LIMIT": "100000"})
    client = HubSpotClient(config, session=Answering())
    for _ in range(1500):
        client.execute(ApiCall("GET", "/x", Auth.DEVELOPER, idempotent=True))
    assert len(client.sent) == 1000


def test_api_versions_are_settings_with_todays_paths_as_defaults():
    default = load_hubspot_config({})
    assert (default.media_bridge_version, default.media_events_version) == ("v1", "v2")
    assert media_bridge.list_properties(1, "t").path == "/media-bridge/v1/1/properties/t"
    assert media_events.send("media-played", {}).path == "/media-bridge/v2/events/media-played"
    dated = load_hubspot_config({"HUBSPOT_MEDIA_BRIDGE_VERSION": "2026-03", "HUBSPOT_MEDIA_EVENTS_VERSION": "v1"})
    app = MediaBridgeSettings(HubSpotClient(dated), 7)
    assert app.version == "2026-03" and media_events.MediaEvents(HubSpotClient(dated)).version == "v1"
    assert media_events.send("attention-span", {}, 2).path == "/media-bridge/v2/events/attention-span"
    for var, value in (("HUBSPOT_MEDIA_BRIDGE_VERSION", "v2"), ("HUBSPOT_MEDIA_EVENTS_VERSION", "v3"),
                       ("HUBSPOT_MEDIA_EVENTS_VERSION", "2026-13")):
        with pytest.raises(HubSpotConfigError, match=var):
            load_hubspot_config({var: value})
    with pytest.raises(ValueError, match="version"):
        media_events.send("media-played", {}, "v9")


def test_the_journal_settings_are_checked_and_its_token_is_the_apps_own():
    assert load_hubspot_config({}).journal_poll_s == 60
    assert load_hubspot_config({"HUBSPOT_JOURNAL_POLL_S": "0"}).journal_poll_s == 0
    with pytest.raises(HubSpotConfigError, match="HUBSPOT_JOURNAL_POLL_S"):
        load_hubspot_config({"HUBSPOT_JOURNAL_POLL_S": "soon"})
    scopes = load_hubspot_config({"HUBSPOT_JOURNAL_SCOPES": "webhooks-journal-data-access, "
                                                            "webhooks-journal-subscription-read"}).journal_scopes
    assert scopes == ("webhooks-journal-data-access", "webhooks-journal-subscription-read")
    with pytest.raises(HubSpotConfigError, match="HUBSPOT_JOURNAL_SCOPES"):
        load_hubspot_config({"HUBSPOT_JOURNAL_SCOPES": "read everything!"})


def test_the_apps_client_credentials_token_is_minted_once_and_again_after_a_401():
    from oembed_server.hubspot.webhooks_journal_api import WebhooksJournal
    from tests.hubspot_emulator import LiveEmulator
    with LiveEmulator() as emulator:
        config = load_hubspot_config(emulator.env() | {"HUBSPOT_MAX_RETRIES": "0"})
        client = HubSpotClient(config)
        journal = WebhooksJournal(client)
        assert journal.files_after(None) == [] and journal.files_after(None) == []
        assert emulator.state.count("POST", "^/oauth/v1/token$") == 1
        emulator.state.app_tokens.clear()  # HubSpot forgot it: the next call mints another
        assert journal.files_after(None) == []
        assert emulator.state.count("POST", "^/oauth/v1/token$") == 2
        secret_token = next(iter(emulator.state.app_tokens))
        emulator.state.fail_next(400, path="^/webhooks-journal/")
        with pytest.raises(HubSpotError) as failed:
            journal.files_after(None)
        assert secret_token not in str(failed.value)
