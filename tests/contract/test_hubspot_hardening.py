"""Issue 12, HubSpot side: private media stay out of HubSpot, malformed answers become one
HubSpotError, unreadable domain lists never cause a duplicate registration, paging ends,
upsert answers without results are read back, and the client's smaller edges."""
from __future__ import annotations

import json

import pytest

from oembed_server.domain.media import MediaType, Visibility
from oembed_server.hubspot import response_shapes as answers
from oembed_server.hubspot.api_call import ApiCall, Auth
from oembed_server.hubspot.api_error import HubSpotError, redact
from oembed_server.hubspot.client_config import HubSpotConfigError, load_hubspot_config
from oembed_server.hubspot.crm_objects_api import CrmObjects
from oembed_server.hubspot.media_bridge_api import MediaBridgeSettings
from oembed_server.usecases.domain_registration import desired_endpoints, register_domain
from oembed_server.usecases.media_sync import sync_catalog
from oembed_server.usecases.media_type_setup import setup_media_types
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.mangling import GENERIC
from tests.hubspot_emulator.testing import (
    PUBLIC_URL,
    invoke_script,
    make_catalog,
    make_client,
    media_item,
    run_script,
    script_env,
)

VIDEOS = "a4242_Videos"
READ = r"/batch/read$"
UPSERT = r"/batch/upsert$"


@pytest.fixture
def ready(emulator):
    emulator.state.define_media_types("VIDEO", "AUDIO", "IMAGE")
    return emulator


def sync(emulator, catalog, **kwargs):
    client = make_client(emulator, [])
    return sync_catalog(catalog, CrmObjects(client), MediaBridgeSettings(client, 4242), PUBLIC_URL, **kwargs)


def live_external_ids(emulator):
    return sorted(o.properties.get("hs_external_id", "") for o in emulator.state.live_objects())


# --- private media ---------------------------------------------------------------------------
def test_private_items_are_never_sent_and_unlisted_ones_are(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 2})
    catalog.upsert([media_item("secret", title="Board meeting", file_url="http://media.test/raw/secret.webm",
                               visibility=Visibility.PRIVATE),
                    media_item("unlisted", visibility=Visibility.UNLISTED)])
    result = run_script("sync_media", "--json", env=script_env(ready, sqlite_url))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["result"]
    assert summary["withheld"] == 1 and summary["types"]["VIDEO"]["created"] == 3
    assert live_external_ids(ready) == ["unlisted", "video-00000", "video-00001"]
    sent = json.dumps([r.json for r in ready.state.requests])
    assert "secret" not in sent and "Board meeting" not in sent
    text = invoke_script("sync_media", env=script_env(ready, sqlite_url))
    assert "1 private item(s) withheld" in text.stdout


def test_an_item_turned_private_is_archived_on_the_next_sync_without_prune(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 3, MediaType.AUDIO: 1})
    sync(ready, catalog)
    catalog.upsert([media_item("video-00001", visibility=Visibility.PRIVATE),
                    media_item("audio-00000", MediaType.AUDIO, visibility=Visibility.PRIVATE)])
    report = sync(ready, catalog)
    assert report.withheld == 2
    assert report.types["VIDEO"].archived == 1 and report.types["AUDIO"].archived == 1
    assert live_external_ids(ready) == ["video-00000", "video-00002"]
    assert catalog.get("video-00001").hubspot_object_id is None
    # Archived once: the next run sends nothing about the private items.
    before = len(ready.state.requests)
    again = sync(ready, catalog)
    assert not again.changed and again.withheld == 2
    assert not any("archive" in r.path for r in ready.state.requests[before:])
    # Public again: a fresh object, recorded.
    catalog.upsert([media_item("video-00001")])
    assert sync(ready, catalog).types["VIDEO"].created == 1
    assert catalog.get("video-00001").hubspot_object_id in {o.id for o in ready.state.live_objects()}


def test_prune_archives_private_objects_this_catalog_has_no_id_for(ready, sqlite_url, tmp_path):
    sync(ready, make_catalog(sqlite_url, {MediaType.VIDEO: 2}))
    other = make_catalog(f"sqlite:///{tmp_path / 'other.sqlite3'}", {MediaType.VIDEO: 2})
    other.upsert([media_item("video-00001", visibility=Visibility.PRIVATE)])
    assert sync(ready, other).types["VIDEO"].archived == 0  # no recorded id here
    assert sync(ready, other, prune=True).types["VIDEO"].archived == 1
    assert live_external_ids(ready) == ["video-00000"]


def test_dry_run_plans_no_private_item(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 1})
    catalog.upsert([media_item("secret", visibility=Visibility.PRIVATE)])
    result = invoke_script("sync_media", "--dry-run", env=script_env(ready, sqlite_url))
    assert result.returncode == 0 and "video-00000" in result.stdout and "secret" not in result.stdout


def test_no_test_event_is_sent_for_a_private_item(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {})
    catalog.upsert([media_item("secret", visibility=Visibility.PRIVATE)])
    result = invoke_script("send_test_event", "--media", "secret", "--contact-utk", "u",
                           env=script_env(ready, sqlite_url))
    assert result.returncode == 1
    assert result.stderr == "error: 'secret' is private: its title and URL are never sent to HubSpot\n"
    assert ready.state.requests == []


# --- malformed answers -----------------------------------------------------------------------
@pytest.mark.parametrize("how", GENERIC)
def test_a_malformed_batch_read_is_one_hubspot_error(ready, sqlite_url, how):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 2})
    ready.state.mangle_next(how, path=READ)
    with pytest.raises(HubSpotError) as caught:
        sync(ready, catalog)
    error = caught.value
    assert error.status == 200 and error.category == "MALFORMED_ANSWER"
    assert str(error).startswith(f"HubSpot 200 MALFORMED_ANSWER on POST /crm/v3/objects/{VIDEOS}/batch/read: "
                                 "HubSpot answered badly: the answer")
    assert "\n" not in str(error)
    assert (error.correlation_id == "emu-mangled-0001") == (how == "errors_200")
    assert ready.state.count(path=UPSERT) == 0


@pytest.mark.parametrize("how,needle", [("wrong_types", "the answer.objectTypeName should be non-empty text"),
                                        ("missing_keys", "the answer has no 'objectTypeName'"),
                                        ("html", "502 Bad Gateway"), ("truncated", "objectTypeName")])
def test_a_malformed_object_definition_says_what_is_wrong(ready, sqlite_url, how, needle):
    make_catalog(sqlite_url, {MediaType.VIDEO: 1})
    ready.state.mangle_next(how, path="object-definitions/VIDEO")
    result = invoke_script("sync_media", env=script_env(ready, sqlite_url))
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: HubSpot 200 MALFORMED_ANSWER on GET /media-bridge/v1/4242/settings/"
                           "object-definitions/VIDEO") and needle in line


def test_results_of_the_wrong_type_are_refused(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 2})
    for how, needle in [("results_oops", "the answer.results should be a list, got text"),
                        ("results_numbers", "the answer.results[0] should be a JSON object, got a number")]:
        ready.state.mangle_next(how, path=READ)
        with pytest.raises(HubSpotError, match=needle.replace("[", r"\[").replace("]", r"\]")):
            sync(ready, catalog)


def test_a_malformed_token_answer_says_hubspot_answered_badly_and_shows_nothing(ready, sqlite_url):
    make_catalog(sqlite_url, {MediaType.VIDEO: 1})
    env = script_env(ready, sqlite_url, HUBSPOT_ACCESS_TOKEN="")
    for how in ("truncated", "wrong_types", "html"):
        ready.state.mangle_next(how, path="/oauth/v1/token")
        result = invoke_script("sync_media", env=env)
        assert result.returncode == 1
        [line] = result.stderr.splitlines()
        assert line.startswith("error: HubSpot 200 MALFORMED_ANSWER on POST /oauth/v1/token: HubSpot answered badly")
        assert "unreachable" not in line and "not shown" in line
        for token in ready.state.access_tokens:
            assert token not in line


def test_setup_reports_a_definition_hubspot_does_not_return(emulator):
    emulator.state.fail_next(404, path="object-definitions/AUDIO", skip=1)
    with pytest.raises(HubSpotError, match="accepted the AUDIO definition but does not return it") as caught:
        setup_media_types(MediaBridgeSettings(make_client(emulator), 4242), ["AUDIO"])
    assert str(caught.value).startswith("HubSpot MALFORMED_ANSWER:")


# --- duplicate domain registration ------------------------------------------------------------
@pytest.mark.parametrize("how", ["empty", "null", "errors_200", "missing_keys", "list", "results_oops"])
def test_an_unreadable_domain_list_never_registers_a_second_domain(emulator, how):
    app = MediaBridgeSettings(make_client(emulator), 4242)
    endpoints = desired_endpoints("https://m.test", ("https://m.test/media/*",))
    register_domain(app, endpoints, 777)
    emulator.state.mangle_next(how, method="GET", path="oembed-domains$")
    with pytest.raises(HubSpotError, match="MALFORMED_ANSWER on GET /media-bridge/v1/4242/settings/oembed-domains"):
        register_domain(app, endpoints, 777)
    assert len(emulator.state.oembed_domains) == 1
    assert emulator.state.count("POST", "oembed-domains") == 1


# --- paging ------------------------------------------------------------------------------------
def test_a_repeated_paging_cursor_stops_prune(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 3})
    sync(ready, catalog)
    ready.state.mangle_next("repeat_cursor", times=1000, method="GET", path=f"{VIDEOS}$")
    with pytest.raises(HubSpotError) as caught:
        sync(ready, catalog, prune=True)
    # Caught on the second page: the cursor points back, the page repeats the first.
    assert caught.value.category == "ENDLESS_PAGING" and "page 2 repeats 3 object(s)" in str(caught.value)
    assert ready.state.count("GET", f"{VIDEOS}$") == 2
    assert len(ready.state.live_objects()) == 3


def test_a_cursor_cycle_and_pages_beyond_the_total_stop_search(ready):
    client = make_client(ready, [])
    objects = CrmObjects(client)
    for i in range(5):
        objects.create(VIDEOS, {"hs_title": f"v{i}", "hs_oembed_url": f"https://x/{i}", "hs_external_id": f"v{i}"})
    assert len(list(objects.search_all(VIDEOS, [], ["hs_title"]))) == 5
    ready.state.mangle_next("repeat_cursor", times=100, path="/search$")
    with pytest.raises(HubSpotError, match="ENDLESS_PAGING"):
        list(objects.search_all(VIDEOS, [], ["hs_title"]))


def test_page_follower_refuses_every_way_of_not_ending():
    from oembed_server.hubspot.paging import PageFollower
    call = ApiCall("GET", "/crm/v3/objects/x", Auth.OAUTH, idempotent=True)

    def page(ids, after=None, total=None):
        body = {"results": [{"id": i} for i in ids]}
        if after is not None:
            body["paging"] = {"next": {"after": after}}
        if total is not None:
            body["total"] = total
        return body

    cycle = PageFollower(2)
    assert cycle.next_cursor(page(["1", "2"], "a"), call, 200) == "a"
    assert cycle.next_cursor(page(["3", "4"], "b"), call, 200) == "b"
    with pytest.raises(HubSpotError, match="'a' came back after 3"):
        cycle.next_cursor(page(["5", "6"], "a"), call, 200)
    with pytest.raises(HubSpotError, match="repeats 2 object"):
        follower = PageFollower(2)
        follower.next_cursor(page(["1", "2"], "a"), call, 200)
        follower.next_cursor(page(["1", "2"], "b"), call, 200)
    with pytest.raises(HubSpotError, match="no results yet names a next page"):
        PageFollower(2).next_cursor(page([], "a"), call, 200)
    over = PageFollower(2)
    over.next_cursor(page(["1", "2"], "a", total=3), call, 200)
    with pytest.raises(HubSpotError, match="more than 3 page"):
        for n in range(3, 9, 2):
            over.next_cursor(page([str(n), str(n + 1)], f"c{n}", total=3), call, 200)
    assert PageFollower(2).next_cursor(page(["1"]), call, 200) is None


# --- upserts answered without results ----------------------------------------------------------
@pytest.mark.parametrize("how", ["empty", "null", "missing_keys", "short_results"])
def test_an_upsert_answer_without_results_is_read_back(ready, sqlite_url, how):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 4})
    ready.state.mangle_next(how, path=UPSERT)
    report = sync(ready, catalog)
    assert report.types["VIDEO"].created == 4 and report.recorded_ids == 4
    held = {o.properties["hs_external_id"]: o.id for o in ready.state.live_objects()}
    assert {i.external_id: i.hubspot_object_id for i in catalog.iter_all()} == held


def test_an_upsert_whose_objects_cannot_be_found_fails(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 2})
    ready.state.mangle_next("null", path=UPSERT)
    # The look-up before the upsert passes; the read-back after it finds one object of two.
    ready.state.mangle_next("short_results", path=READ, skip=1)
    with pytest.raises(HubSpotError, match="MISSING_RESULTS.*neither its answer nor a read-back holds 1 of"):
        sync(ready, catalog)
    assert sum(1 for i in catalog.iter_all() if i.hubspot_object_id) == 1  # what was learned is kept
    assert sync(ready, catalog).recorded_ids == 1  # and the next run completes the record


# --- smaller edges -----------------------------------------------------------------------------
def test_retry_after_is_honoured_instead_of_the_whole_window():
    with LiveEmulator(rate_interval_ms=10_000) as live:
        live.state.define_media_types("VIDEO")
        live.state.rate_limit_storm(times=1, retry_after=1, path=READ)
        sleeps: list[float] = []
        client = make_client(live, sleeps, max_retry_wait_s=30.0, rate_interval_s=10.0)
        CrmObjects(client).batch_read(VIDEOS, ["x"], ["hs_title"], "hs_external_id")
        assert sum(sleeps) == pytest.approx(1.0)
        # Without Retry-After, HubSpot's announced window is the wait.
        live.state.rate_limit_storm(times=1, path=READ)
        sleeps.clear()
        CrmObjects(client).batch_read(VIDEOS, ["x"], ["hs_title"], "hs_external_id")
        assert sum(sleeps) == pytest.approx(10.0)


def test_a_nan_retry_after_is_no_hint():
    from oembed_server.hubspot.retry_policy import RetryPolicy, retry_after_seconds
    assert retry_after_seconds("nan") is None and retry_after_seconds("NaN") is None
    assert 0.5 <= RetryPolicy(base_s=1.0).wait_for(0, 503, {"Retry-After": "nan"}) <= 1.0
    assert RetryPolicy().wait_for(0, 429, {"Retry-After": "inf"}) is None  # longer than allowed: give up


def test_redaction_covers_percent_encoded_secrets():
    secret = "k+y/with=pad=="
    forms = ["k+y/with=pad==", "k%2By%2Fwith%3Dpad%3D%3D", "k%2By/with%3Dpad%3D%3D", "k%2by%2fwith%3dpad%3d%3d"]
    redacted = redact(" and ".join(forms), [secret])
    assert redacted == " and ".join(["[REDACTED]"] * len(forms))


def test_a_percent_encoded_key_never_reaches_the_script_output(sqlite_url):
    key = "dev+key/with=signs=="
    # Nothing listens on the discard port: the connection error's text carries the full URL.
    env = script_env(None, sqlite_url, HUBSPOT_API_BASE="http://127.0.0.1:9", HUBSPOT_DEVELOPER_API_KEY=key,
                     HUBSPOT_APP_ID="4242", HUBSPOT_MAX_RETRIES="0")
    result = invoke_script("register_domain", env=env)
    assert result.returncode == 1 and "HubSpot unreachable" in result.stderr and "hapikey" in result.stderr
    for form in (key, "dev%2Bkey%2Fwith%3Dsigns%3D%3D", "dev%2Bkey"):
        assert form not in result.stderr + result.stdout


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "Infinity", "1e999"])
@pytest.mark.parametrize("var", ["HUBSPOT_RATE_LIMIT_INTERVAL_S", "HUBSPOT_MAX_RETRY_WAIT_S", "HUBSPOT_RATE_LIMIT"])
def test_numeric_settings_refuse_nan_and_infinity_naming_the_variable(var, value):
    with pytest.raises(HubSpotConfigError, match=var):
        load_hubspot_config({var: value})


def test_shapes_name_the_first_thing_wrong():
    call = ApiCall("GET", "/p", Auth.OAUTH, idempotent=True)
    assert answers.check({"results": [{"id": "1"}]}, answers.BATCH_READ, call, 200) == {"results": [{"id": "1"}]}
    with pytest.raises(HubSpotError, match=r"the answer.results\[1\].properties.hs_title should be a property value"):
        answers.check({"results": [{"id": "1"}, {"id": "2", "properties": {"hs_title": {"a": 1}}}]},
                      answers.BATCH_READ, call, 200)
    with pytest.raises(HubSpotError, match=r"the answer.results\[0\] has no 'name'"):
        answers.check({"results": [{"label": "x"}]}, answers.PROPERTY_LIST, call, 200)
    assert answers.check([{"name": "x"}], answers.PROPERTY_LIST, call, 200) == [{"name": "x"}]
    with pytest.raises(HubSpotError, match="it answered '<html>Bad gateway</html>'"):
        answers.check("<html>Bad\n gateway</html>", answers.OBJECT_DEFINITION, call, 200)
    with pytest.raises(HubSpotError) as caught:
        answers.check({"access_token": 5, "refresh_token": "rt-secret"}, answers.TOKEN,
                      ApiCall("POST", "/oauth/v1/token", Auth.NONE, True), 200)
    assert "rt-secret" not in str(caught.value)
