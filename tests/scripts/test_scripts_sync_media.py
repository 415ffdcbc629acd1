"""sync_media: the script against the live emulator, then the library for the fault cases."""
from __future__ import annotations

import json

import pytest

from oembed_server.domain.media import MediaType
from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.crm_objects_api import CrmObjects
from oembed_server.hubspot.media_bridge_api import MediaBridgeSettings
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.usecases.media_sync import SyncInputError, sync_catalog
from tests.hubspot_emulator.testing import (
    PUBLIC_URL,
    assert_no_secrets,
    make_catalog,
    make_client,
    media_item,
    run_script,
    script_env,
)

UPSERT = r"/batch/upsert$"


@pytest.fixture
def ready(emulator):
    emulator.state.define_media_types("VIDEO", "AUDIO", "IMAGE")
    return emulator


def sync(emulator, catalog, sleeps=None, **kwargs):
    client = make_client(emulator, [] if sleeps is None else sleeps)
    return sync_catalog(catalog, CrmObjects(client), MediaBridgeSettings(client, 4242), PUBLIC_URL, **kwargs)


def external_ids(emulator):
    return sorted(o.properties["hs_external_id"] for o in emulator.state.live_objects()
                  if "hs_external_id" in o.properties)


def test_script_syncs_then_changes_nothing_on_a_second_run(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 150, MediaType.AUDIO: 30, MediaType.IMAGE: 20})
    env = script_env(ready, sqlite_url)
    first = run_script("sync_media", "--json", env=env)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)["result"]
    assert result["changed"] and result["writeCalls"] == 4  # 2 VIDEO batches, 1 AUDIO, 1 IMAGE
    assert result["types"]["VIDEO"]["created"] == 150
    assert len(ready.state.live_objects()) == 200
    objects = {o.properties["hs_external_id"]: o for o in ready.state.live_objects()}
    item = catalog.get("video-00007")
    assert item.hubspot_object_id == objects["video-00007"].id
    assert objects["video-00007"].properties["hs_oembed_url"] == f"{PUBLIC_URL}/media/video-00007"
    assert objects["video-00007"].properties["hs_duration"] == "1000"
    assert "\r" not in first.stderr  # no progress bar when not on a terminal

    before = ready.state.count(path=UPSERT)
    second = run_script("sync_media", env=env)
    assert second.returncode == 0, second.stderr
    assert "Nothing to change" in second.stdout
    assert ready.state.count(path=UPSERT) == before
    assert_no_secrets(first.stdout + first.stderr + second.stdout + second.stderr, ready)


def test_a_read_only_install_fails_clearly_and_writes_nothing(ready, sqlite_url):
    make_catalog(sqlite_url, {MediaType.VIDEO: 2})
    read_only = ready.state.issue_access_token(frozenset({"media_bridge.read"}))
    result = run_script("sync_media", env=script_env(ready, sqlite_url, HUBSPOT_ACCESS_TOKEN=read_only,
                                                     HUBSPOT_REFRESH_TOKEN=""))
    assert result.returncode == 1
    assert result.stderr.startswith("error: HubSpot 403 MISSING_SCOPES on POST ")
    assert "Required: media_bridge.write" in result.stderr and result.stderr.count("\n") == 1
    assert ready.state.live_objects() == []


def test_dry_run_sends_nothing(ready, sqlite_url):
    make_catalog(sqlite_url, {MediaType.VIDEO: 3})
    result = run_script("sync_media", "--dry-run", env=script_env(ready, sqlite_url))
    assert result.returncode == 0, result.stderr
    assert ready.state.requests == []
    assert "batch/upsert" in result.stdout and "video-00002" in result.stdout
    assert_no_secrets(result.stdout, ready)


def test_only_changed_items_are_written(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 250})
    sync(ready, catalog)
    catalog.upsert([media_item(f"video-{i:05d}", title="Renamed") for i in (3, 140, 249)])
    report = sync(ready, catalog)
    upserts = [r for r in ready.state.requests if r.path.endswith("batch/upsert")]
    assert report.write_calls == 1 and len(upserts) == 4  # 3 first run, 1 now
    assert upserts[-1].json["inputs"] == [{"idProperty": "hs_external_id", "id": f"video-{i:05d}",
                                           "properties": {"hs_title": "Renamed"}} for i in (3, 140, 249)]


def test_prune_archives_objects_whose_media_left_the_catalog(ready, sqlite_url, tmp_path):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 5, MediaType.AUDIO: 2})
    sync(ready, catalog)
    CrmObjects(make_client(ready)).create("a4242_Videos", {"hs_title": "by hand", "hs_oembed_url": "https://x/y"})
    smaller = make_catalog(f"sqlite:///{tmp_path / 'smaller.sqlite3'}", {MediaType.VIDEO: 3})
    report = sync(ready, smaller, prune=True)
    assert report.types["VIDEO"].archived == 2 and report.types["AUDIO"].archived == 2
    assert external_ids(ready) == ["video-00000", "video-00001", "video-00002"]
    assert len(ready.state.live_objects()) == 4  # the hand-made object has no external id: kept
    with pytest.raises(SyncInputError, match="empty"):
        sync(ready, make_catalog(f"sqlite:///{tmp_path / 'empty.sqlite3'}", {}), prune=True)


def test_failure_mid_sync_resumes_without_duplicates(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 450})
    ready.state.fail_next(500, path=UPSERT, skip=2)
    env = script_env(ready, sqlite_url)
    failed = run_script("sync_media", env=env)
    assert failed.returncode == 1
    assert failed.stderr.startswith(
        "error: HubSpot 500 INTERNAL_ERROR on POST /crm/v3/objects/a4242_Videos/batch/upsert")
    assert "correlationId" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert len(ready.state.live_objects()) == 200
    assert sum(1 for i in catalog.iter_all() if i.hubspot_object_id) == 200  # progress kept

    resumed = sync(ready, catalog)
    assert resumed.types["VIDEO"].created == 250 and resumed.types["VIDEO"].unchanged == 200
    ids = external_ids(ready)
    assert len(ids) == 450 and len(set(ids)) == 450
    assert all(i.hubspot_object_id for i in catalog.iter_all())


def test_faults_during_sync_are_absorbed(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 300})
    sleeps = []
    ready.state.rate_limit_storm(times=3, retry_after=0.3, path=UPSERT)
    ready.state.fail_next(503, times=2, path="batch/read")
    ready.state.drop_connections(after_processing=True, path=UPSERT, skip=1)
    ready.state.add_latency(0.05, times=2)
    report = sync(ready, catalog, sleeps)
    assert report.types["VIDEO"].created == 300
    assert sum(1 for s in sleeps if s == pytest.approx(0.3)) == 3
    assert ready.state.count(path=UPSERT, status=429) == 3
    ids = external_ids(ready)
    assert len(ids) == 300 and len(set(ids)) == 300


def test_token_expiry_mid_sync_refreshes_and_carries_on(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 250})
    client = make_client(ready, [])
    objects = CrmObjects(client)

    class ExpireAfterFirstWrite(CrmObjects):
        def batch_upsert(self, object_type, inputs):
            results = objects.batch_upsert(object_type, inputs)
            ready.state.expire_tokens()
            return results

    sync_catalog(catalog, ExpireAfterFirstWrite(client), MediaBridgeSettings(client, 4242), PUBLIC_URL)
    assert len(ready.state.live_objects()) == 250
    assert ready.state.count("POST", "/oauth/v1/token") == 2
    assert ready.state.count(status=401) == 2


def test_missing_definitions_and_bad_items_stop_before_any_write(emulator, sqlite_url, tmp_path):
    emulator.state.define_media_types("VIDEO")
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 2, MediaType.AUDIO: 1})
    with pytest.raises(SyncInputError, match="setup_media_types.py --types AUDIO"):
        sync(emulator, catalog)
    bad = CatalogStore.from_url(f"sqlite:///{tmp_path / 'bad.sqlite3'}")
    schema_version.upgrade(bad.engine)
    bad.upsert([media_item("pic", MediaType.IMAGE, file_url=None)])
    with pytest.raises(SyncInputError, match="pic: IMAGE media need hs_file_url"):
        sync(emulator, bad)
    assert emulator.state.count(path=UPSERT) == 0


def test_script_reports_a_bearer_problem_in_one_line(ready, sqlite_url):
    make_catalog(sqlite_url, {MediaType.VIDEO: 1})
    env = script_env(ready, sqlite_url, HUBSPOT_ACCESS_TOKEN="forged-token-123", HUBSPOT_REFRESH_TOKEN="")
    result = run_script("sync_media", "--json", env=env)
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["category"] == "INVALID_AUTHENTICATION"
    assert result.stderr.count("\n") == 1 and "HubSpot 401" in result.stderr
    assert "forged-token-123" not in result.stdout + result.stderr


def test_properties_the_object_type_lacks_are_not_sent(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 2})
    ready.state.properties["a4242_Videos"] = [p for p in ready.state.properties["a4242_Videos"]
                                              if p["name"] != "hs_folder_path"]
    sync(ready, catalog)
    assert len(ready.state.live_objects()) == 2
    assert all("hs_folder_path" not in o.properties for o in ready.state.live_objects())
    assert sync(ready, catalog).write_calls == 0


def test_a_refused_batch_stops_the_sync_with_hubspots_message(ready, sqlite_url):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 1})
    # HubSpot's properties can change behind our back: here hs_title turns numeric.
    catalog.upsert([media_item("video-00000", duration_ms=None, title="x" * 3)])
    ready.state.properties["a4242_Videos"] = [p | {"type": "number"} if p["name"] == "hs_title" else p
                                              for p in ready.state.properties["a4242_Videos"]]
    with pytest.raises(HubSpotError) as caught:
        sync(ready, catalog)
    assert caught.value.status == 400 and "INVALID_DOUBLE" in caught.value.message
    assert ready.state.live_objects() == []


def test_object_ids_are_recorded_even_when_the_update_answer_omits_the_external_id(ready, sqlite_url, tmp_path):
    sync(ready, make_catalog(sqlite_url, {MediaType.VIDEO: 3}))
    # Another machine's catalog, with a renamed item and no object ids yet.
    fresh = make_catalog(f"sqlite:///{tmp_path / 'fresh.sqlite3'}", {MediaType.VIDEO: 3})
    fresh.upsert([media_item("video-00001", title="Renamed")])
    client = make_client(ready, [])

    class UpdateAnswerWithoutExternalId(CrmObjects):
        # HubSpot documents no echo of the idProperty in the answer to an update.
        def batch_upsert(self, object_type, inputs):
            return [r if r["new"] else r | {"properties": {k: v for k, v in r["properties"].items()
                                                           if k != "hs_external_id"}}
                    for r in super().batch_upsert(object_type, inputs)]

    report = sync_catalog(fresh, UpdateAnswerWithoutExternalId(client), MediaBridgeSettings(client, 4242), PUBLIC_URL)
    assert report.types["VIDEO"].updated == 1
    held = {o.properties["hs_external_id"]: o.id for o in ready.state.live_objects()}
    assert {i.external_id: i.hubspot_object_id for i in fresh.iter_all()} == held
