"""The emulator itself: HubSpot's validation, auth rules, error shapes, rate limits and the
read-back and fault switches the other tests rely on. Driven through Flask's test client."""
from __future__ import annotations

import io

import pytest

from tests.hubspot_emulator import EmulatorState, create_emulator_app

KEY = {"hapikey": "emu-dev-key-0001"}
BEARER = {"Authorization": "Bearer emu-access-token-0001"}
DEVELOPER = {"Authorization": "Bearer emu-dev-access-token-0001"}
# The spec requires every field of a search but query.
SEARCH = {"filterGroups": [], "properties": [], "limit": 10, "after": "0", "sorts": []}
SETTINGS = "/media-bridge/v1/4242"
VIDEOS = "/crm/v3/objects/a4242_Videos"


@pytest.fixture
def state():
    s = EmulatorState()
    s.define_media_types("VIDEO", "IMAGE")
    return s


@pytest.fixture
def api(state):
    return create_emulator_app(state).test_client()


def create(properties):
    return {"properties": properties, "associations": []}


def video(external_id, **extra):
    return {"hs_title": f"T {external_id}", "hs_oembed_url": f"http://m.test/media/{external_id}",
            "hs_external_id": external_id} | extra


def assert_error(response, status, category=None, text=None):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["status"] == "error" and body["correlationId"] and body["message"]
    if category:
        assert body["category"] == category
    if text:
        assert text in body["message"]
    return body


# --- auth -------------------------------------------------------------------------------------
def test_app_endpoints_take_a_developer_token_or_key_and_refuse_portal_tokens(api, state):
    url = f"{SETTINGS}/settings/object-definitions/VIDEO"
    assert_error(api.get(url, headers=BEARER), 403, text="developer account token")
    assert_error(api.get(url), 401, "INVALID_AUTHENTICATION")
    assert_error(api.get(url, query_string={"hapikey": "nope"}), 401)
    assert_error(api.get(url, headers={"Authorization": "Bearer forged"}), 401)
    assert_error(api.get("/media-bridge/v1/1/settings/object-definitions/VIDEO", query_string=KEY), 403)
    assert api.get(url, query_string=KEY).status_code == 200
    assert api.get(url, headers=DEVELOPER).status_code == 200
    # The spec's scopes: a read-only developer token may read but not write.
    state.developer_tokens["emu-dev-read-only"] = frozenset({"developers-read"})
    read_only = {"Authorization": "Bearer emu-dev-read-only"}
    assert api.get(url, headers=read_only).status_code == 200
    assert_error(api.post(f"{SETTINGS}/settings/object-definitions", headers=read_only,
                          json={"mediaTypes": ["AUDIO"]}), 403, "MISSING_SCOPES", "developers-write")
    state.accept_developer_hapikey = False
    assert_error(api.get(url, query_string=KEY), 401, text="developer account OAuth token")


def test_portal_endpoints_need_a_valid_unexpired_bearer_token(api, state):
    assert_error(api.post(f"{VIDEOS}/search", json=SEARCH, query_string=KEY), 401, "INVALID_AUTHENTICATION")
    assert_error(api.post(f"{VIDEOS}/search", json=SEARCH, headers={"Authorization": "Bearer forged"}), 401,
                 "INVALID_AUTHENTICATION")
    assert api.post(f"{VIDEOS}/search", json=SEARCH, headers=BEARER).status_code == 200
    state.expire_tokens()
    assert_error(api.post(f"{VIDEOS}/search", json=SEARCH, headers=BEARER), 401, "EXPIRED_AUTHENTICATION")


def test_refresh_is_form_encoded_and_issues_a_working_token(api, state):
    form = {"grant_type": "refresh_token", "client_id": "emu-client-id", "client_secret": "emu-client-secret-0001",
            "refresh_token": "emu-refresh-token-0001"}
    assert_error(api.post("/oauth/v1/token", json=form), 400)
    assert_error(api.post("/oauth/v1/token", data=form | {"client_secret": "bad"}), 400, "BAD_CLIENT_ID")
    assert_error(api.post("/oauth/v1/token", data=form | {"refresh_token": "bad"}), 400, "BAD_REFRESH_TOKEN")
    state.expire_tokens()
    answer = api.post("/oauth/v1/token", data=form).get_json()
    assert answer["expires_in"] == state.token_lifetime_s and answer["token_type"] == "bearer"
    assert api.post(f"{VIDEOS}/search", json=SEARCH, headers={"Authorization": f"Bearer {answer['access_token']}"}
                    ).status_code == 200
    info = api.get(f"/oauth/v1/access-tokens/{answer['access_token']}").get_json()
    assert info["hub_id"] == 777 and "media_bridge.write" in info["scopes"]


def test_a_read_only_install_may_read_media_objects_but_not_write_them(state):
    token = {"Authorization": f"Bearer {state.issue_access_token(frozenset({'media_bridge.read'}))}"}
    api = create_emulator_app(state).test_client()
    assert api.post(f"{VIDEOS}/search", headers=token, json=SEARCH).status_code == 200
    assert api.get(VIDEOS, headers=token).status_code == 200
    for write in (lambda: api.post(VIDEOS, headers=token, json=create(video("a"))),
                  lambda: api.post(f"{VIDEOS}/batch/upsert", headers=token, json={"inputs": [
                      {"idProperty": "hs_external_id", "id": "a", "properties": video("a")}]}),
                  lambda: api.post(f"{VIDEOS}/batch/archive", headers=token, json={"inputs": [{"id": "1"}]})):
        assert_error(write(), 403, "MISSING_SCOPES", "media_bridge.write")
    assert state.live_objects() == []


def test_missing_scope_is_403(state):
    token = state.issue_access_token(frozenset({"media_bridge.read"}))
    api = create_emulator_app(state).test_client()
    assert_error(api.put("/cms/v3/source-code/draft/content/x/meta.json", headers={"Authorization": f"Bearer {token}"},
                         data={"file": (io.BytesIO(b"{}"), "meta.json")}), 403, "MISSING_SCOPES")


# --- settings ----------------------------------------------------------------------------------
def test_object_definitions_validate_media_types_and_refuse_repeats(api):
    assert_error(api.post(f"{SETTINGS}/settings/object-definitions", query_string=KEY, json={"mediaTypes": ["GIF"]}),
                 400, "VALIDATION_ERROR", "GIF")
    assert_error(api.post(f"{SETTINGS}/settings/object-definitions", query_string=KEY, json={}), 400)
    assert_error(api.post(f"{SETTINGS}/settings/object-definitions", query_string=KEY, json={"mediaTypes": ["VIDEO"]}),
                 409, "CONFLICT")
    created = api.post(f"{SETTINGS}/settings/object-definitions", query_string=KEY, json={"mediaTypes": ["AUDIO"]})
    assert created.get_json()["createdObjects"]["AUDIO"]["objectType"]["name"] == "a4242_Audio"
    assert_error(api.get(f"{SETTINGS}/settings/object-definitions/OTHER", query_string=KEY), 404, "OBJECT_NOT_FOUND")


def test_properties_need_the_required_fields_and_valid_enums(api):
    url = f"{SETTINGS}/properties/a4242_Videos"
    good = {"name": "rating", "label": "Rating", "type": "number", "fieldType": "number",
            "groupName": "media_information"}
    assert_error(api.post(url, query_string=KEY, json={"name": "rating"}), 400, text="required property")
    assert_error(api.post(url, query_string=KEY, json=good | {"type": "float"}), 400, text="type")
    assert_error(api.post(url, query_string=KEY, json=good | {"name": "Bad Name"}), 400)
    assert api.post(url, query_string=KEY, json=good).status_code == 201
    assert_error(api.post(url, query_string=KEY, json=good), 409)
    assert api.patch(f"{url}/rating", query_string=KEY, json={"label": "Stars"}).get_json()["label"] == "Stars"
    names = [p["name"] for p in api.get(url, query_string=KEY).get_json()["results"]]
    assert "rating" in names and "hs_external_id" in names


def test_app_properties_take_only_values_of_their_type(api):
    url = f"{SETTINGS}/properties/a4242_Videos"
    genre = {"name": "genre", "label": "Genre", "type": "enumeration", "fieldType": "select",
             "groupName": "media_information",
             "options": [{"label": "Jazz", "value": "jazz", "displayOrder": 0, "hidden": False},
                         {"label": "Folk", "value": "folk", "displayOrder": 1, "hidden": False}]}
    featured = {"name": "featured", "label": "Featured", "type": "bool", "fieldType": "booleancheckbox",
                "groupName": "media_information"}
    for definition in (genre, featured):
        assert api.post(url, query_string=KEY, json=definition).status_code == 201
    created = api.post(VIDEOS, headers=BEARER, json=create(video("a", genre="jazz", featured="true")))
    assert created.status_code == 201, created.get_json()
    assert_error(api.post(VIDEOS, headers=BEARER, json=create(video("b", genre="rock"))), 400,
                 "VALIDATION_ERROR", "INVALID_OPTION")
    assert_error(api.post(VIDEOS, headers=BEARER, json=create(video("c", featured="maybe"))), 400,
                 "VALIDATION_ERROR", "INVALID_BOOLEAN")


def test_schema_patch_checks_property_names(api):
    url = f"{SETTINGS}/schemas/a4242_Videos"
    patch = {"clearDescription": False}
    assert_error(api.patch(url, query_string=KEY, json=patch | {"primaryDisplayProperty": "nope"}), 400, text="nope")
    assert_error(api.patch(url, query_string=KEY, json=patch | {"colour": "red"}), 400)
    assert_error(api.patch(url, query_string=KEY, json={"primaryDisplayProperty": "hs_title"}), 400,
                 text="clearDescription")
    assert api.patch(url, query_string=KEY, json=patch | {"primaryDisplayProperty": "hs_title"}).status_code == 200


def test_oembed_domains_crud_by_portal(api, state):
    url = f"{SETTINGS}/settings/oembed-domains"
    endpoints = {"schemes": ["https://m.test/media/*"], "url": "https://m.test/oembed", "discovery": True}
    assert_error(api.post(url, query_string=KEY, json={"endpoints": {"url": "https://m.test/oembed",
                                                                      "discovery": True}}), 400, text="schemes")
    assert_error(api.post(url, query_string=KEY, json={"endpoints": endpoints | {"schemes": ["not a url"]}}), 400)
    created = api.post(url, query_string=KEY, json={"endpoints": endpoints, "portalId": 777}).get_json()
    assert created["portalId"] == 777 and created["appId"] == 4242 and created["endpoints"] == endpoints
    api.post(url, query_string=KEY, json={"endpoints": endpoints})
    assert len(api.get(url, query_string=KEY | {"domainPortalId": 777}).get_json()["results"]) == 1
    assert len(api.get(url, query_string=KEY).get_json()["results"]) == 2
    patched = api.patch(f"{url}/{created['id']}", query_string=KEY,
                        json={"endpoints": endpoints | {"discovery": False}})
    assert patched.get_json()["endpoints"]["discovery"] is False
    assert_error(api.delete(url, query_string=KEY | {"id": created["id"], "domainPortalId": 1}), 404)
    assert api.delete(url, query_string=KEY | {"id": created["id"], "domainPortalId": 777}).status_code == 204
    assert len(state.oembed_domains) == 1


# --- CRM objects -------------------------------------------------------------------------------
def test_hs_oembed_url_must_be_an_absolute_http_url(api, state):
    for bad in ("not-a-url-at-all", "/media/a", "ftp://m.test/a"):
        assert_error(api.post(VIDEOS, headers=BEARER, json=create(video("a", hs_oembed_url=bad))), 400,
                     "VALIDATION_ERROR", "INVALID_URL")
    assert state.live_objects() == []


def test_unknown_property_is_a_validation_error_like_hubspot(api):
    body = assert_error(api.post(VIDEOS, headers=BEARER, json=create(video("a", hs_colour="red"))), 400,
                        "VALIDATION_ERROR", "PROPERTY_DOESNT_EXIST")
    assert body["errors"][0]["context"]["propertyName"] == ["hs_colour"]
    assert_error(api.post(VIDEOS, headers=BEARER, json=create({"hs_title": "x"})), 400, text="hs_oembed_url")
    assert_error(api.post(VIDEOS, headers=BEARER, json=create(video("a", hs_duration="long"))), 400,
                 text="INVALID_DOUBLE")
    assert_error(api.post("/crm/v3/objects/a4242_Images", headers=BEARER, json=create(video("i"))), 400,
                 text="hs_file_url")
    assert_error(api.post("/crm/v3/objects/contacts_x/search", headers=BEARER, json=SEARCH), 400, text="object type")


def test_batch_limit_is_100(api):
    inputs = [{"idProperty": "hs_external_id", "id": str(i), "properties": video(str(i))} for i in range(101)]
    assert_error(api.post(f"{VIDEOS}/batch/upsert", headers=BEARER, json={"inputs": inputs}), 400, text="100")


def test_upsert_by_external_id_creates_then_updates(api, state):
    def upsert(props):
        return api.post(f"{VIDEOS}/batch/upsert", headers=BEARER, json={"inputs": [
            {"idProperty": "hs_external_id", "id": "a", "properties": props}]})
    first = upsert(video("a")).get_json()["results"][0]
    second = upsert({"hs_title": "Renamed", "hs_folder_path": ""}).get_json()["results"][0]
    assert first["new"] is True and second["new"] is False and first["id"] == second["id"]
    assert state.live_objects()[0].properties["hs_title"] == "Renamed"
    assert_error(api.post(f"{VIDEOS}/batch/upsert", headers=BEARER, json={"inputs": [
        {"idProperty": "hs_title", "id": "x", "properties": {}}]}), 400, text="unique")
    assert_error(api.post(f"{VIDEOS}/batch/upsert", headers=BEARER, json={"inputs": [
        {"idProperty": "hs_external_id", "id": "b", "properties": video("b")}] * 2}), 400, text="Duplicate")
    assert_error(api.post(VIDEOS, headers=BEARER, json=create(video("a"))), 409, "CONFLICT")


def test_batch_read_by_id_property_reports_missing_ids_with_207(api):
    api.post(f"{VIDEOS}/batch/create", headers=BEARER, json={"inputs": [create(video("a"))]})
    answer = api.post(f"{VIDEOS}/batch/read", headers=BEARER, json={
        "idProperty": "hs_external_id", "properties": ["hs_title", "hs_duration"], "propertiesWithHistory": [],
        "inputs": [{"id": "a"}, {"id": "z"}]})
    body = answer.get_json()
    assert answer.status_code == 207
    assert body["results"][0]["properties"]["hs_title"] == "T a"
    assert "hs_duration" not in body["results"][0]["properties"]  # unset: left out, never null
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND" and body["errors"][0]["context"]["ids"] == ["z"]


def test_search_filters_and_pages(api):
    api.post(f"{VIDEOS}/batch/create", headers=BEARER,
             json={"inputs": [create(video(f"v{i}", hs_folder_path="/even" if i % 2 == 0 else "/odd"))
                              for i in range(7)]})

    def search(body):
        return api.post(f"{VIDEOS}/search", headers=BEARER, json=SEARCH | body).get_json()
    eq = search({"filterGroups": [{"filters": [{"propertyName": "hs_folder_path", "operator": "EQ",
                                                 "value": "/even"}]}],
                 "limit": 2, "properties": ["hs_external_id"]})
    assert eq["total"] == 4 and len(eq["results"]) == 2 and eq["paging"]["next"]["after"] == "2"
    rest = search({"filterGroups": [{"filters": [{"propertyName": "hs_folder_path", "operator": "EQ",
                                                  "value": "/even"}]}], "limit": 2, "after": "2"})
    assert len(rest["results"]) == 2 and "paging" not in rest
    found = search({"filterGroups": [{"filters": [{"propertyName": "hs_external_id", "operator": "IN",
                                                   "values": ["v1", "v6", "nope"]}]}],
                    "properties": ["hs_external_id"]})
    assert sorted(r["properties"]["hs_external_id"] for r in found["results"]) == ["v1", "v6"]
    # Without a properties list only HubSpot's default properties come back.
    assert set(rest["results"][0]["properties"]) == {"hs_object_id", "hs_createdate", "hs_lastmodifieddate"}
    assert_error(api.post(f"{VIDEOS}/search", headers=BEARER, json=SEARCH | {"filterGroups": [{"filters": [
        {"propertyName": "hs_title", "operator": "LIKE", "value": "x"}]}]}), 400)
    assert_error(api.post(f"{VIDEOS}/search", headers=BEARER, json=SEARCH | {"limit": 500}), 400)


def test_archive_hides_objects_from_read_list_and_search(api, state):
    created = api.post(f"{VIDEOS}/batch/create", headers=BEARER,
                       json={"inputs": [create(video(x)) for x in "abc"]}).get_json()["results"]
    assert api.post(f"{VIDEOS}/batch/archive", headers=BEARER,
                    json={"inputs": [{"id": created[0]["id"]}]}).status_code == 204
    listed = api.get(VIDEOS, headers=BEARER, query_string={"limit": 1, "properties": "hs_external_id"}).get_json()
    assert listed["results"][0]["properties"]["hs_external_id"] == "b" and listed["paging"]["next"]["after"]
    assert len(state.live_objects()) == 2
    # The archived object's external id is free again.
    assert api.post(VIDEOS, headers=BEARER, json=create(video("a"))).status_code == 201


# --- CMS source code ---------------------------------------------------------------------------
def upload(api, path, content, env="draft", field="file", action="content"):
    method = api.put if action == "content" else api.post
    return method(f"/cms/v3/source-code/{env}/{action}/{path}", headers=BEARER,
                  data={field: (io.BytesIO(content), path.rsplit("/", 1)[-1])}, content_type="multipart/form-data")


def test_source_code_upload_metadata_and_validation(api, state):
    assert_error(upload(api, "m/x.module/meta.json", b"{}", field="data"), 400, text="'file'")
    assert_error(upload(api, "m/x.module/meta.json", b"{}", env="staging"), 404)
    assert_error(upload(api, "m/x.module/meta.json", b"{not json", action="validate"), 400, "VALIDATION_ERROR")
    assert_error(upload(api, "m/x.module/meta.json", b"{}", action="validate"), 400, text="label")
    assert_error(upload(api, "m/x.module/module.html", b"{% if x %", action="validate"), 400, text="unbalanced")
    assert upload(api, "m/x.module/meta.json", b'{"label": "X"}', action="validate").status_code == 204
    assert state.source_files == {}
    assert upload(api, "m/x.module/meta.json", b'{"label": "X"}').status_code == 200
    assert upload(api, "m/x.module/meta.json", b'{"label": "Y"}').status_code == 200
    meta = api.get("/cms/v3/source-code/draft/metadata/m/x.module/meta.json", headers=BEARER).get_json()
    assert meta["name"] == "meta.json" and meta["folder"] is False and len(meta["hash"]) == 64
    folder = api.get("/cms/v3/source-code/draft/metadata/m/x.module", headers=BEARER).get_json()
    assert folder["folder"] is True and folder["children"] == ["meta.json"]
    assert api.get("/cms/v3/source-code/published/metadata/m/x.module", headers=BEARER).status_code == 404


def test_uploads_are_refused_where_the_validator_would_refuse_them(api, state):
    assert_error(upload(api, "m/x.module/fields.json", b"{broken"), 400, "VALIDATION_ERROR", "invalid JSON")
    assert_error(upload(api, "m/x.module/module.html", b"{% if x %}<p>{{ x }</p>"), 400, text="unbalanced")
    assert state.source_files == {}


# --- media events ------------------------------------------------------------------------------
def played(**extra):
    return {"mediaType": "VIDEO", "occurredTimestamp": 1_700_000_000_000, "sessionId": "s1", "state": "STARTED",
            "externalId": "a", "contactUtk": "utk", "pageName": "P", "pageUrl": "https://site.test/p"} | extra


def test_v1_events_validate_synchronously(api, state):
    api.post(VIDEOS, headers=BEARER, json=create(video("a")))
    post = lambda kind, body: api.post(f"/media-bridge/v1/events/{kind}", headers=BEARER, json=body)  # noqa: E731
    assert_error(post("media-played", played(state="PAUSED")), 400, text="state")
    assert_error(post("media-played", {k: v for k, v in played().items() if k != "sessionId"}), 400, text="sessionId")
    assert_error(post("media-played", played(mediaBridgeObjectId=1)), 400, text="Unrecognized")
    assert_error(post("media-played", played(externalId="missing")), 400, text="No VIDEO media object")
    assert_error(post("media-played", played(occurredTimestamp="yesterday")), 400, text="occurredTimestamp")
    assert_error(post("media-played", {k: v for k, v in played().items() if k != "pageUrl"}), 400, text="pageUrl")
    assert_error(post("media-played", {k: v for k, v in played().items() if k not in ("pageName", "pageUrl")}), 400,
                 text="pageId")
    quartile = {k: v for k, v in played(playedPercent=30).items() if k != "state"}
    assert_error(post("media-played-percent", quartile), 400, text="playedPercent")
    assert_error(post("attention-span", {k: v for k, v in played(rawDataMap={"0": 1},
                                         totalPercentPlayed=10).items() if k != "state"}), 400, text="Unrecognized")
    quartile_first = {k: v for k, v in played(playedPercent=25, sessionId="s0").items() if k != "state"}
    assert_error(post("media-played-percent", quartile_first), 400, text="no media-played event")
    answer = post("media-played", played())
    assert answer.status_code == 200 and answer.get_json()["mediaBridgeId"] == int(state.live_objects()[0].id)
    span = post("attention-span", {k: v for k, v in played(rawDataMap={"0": 2, "1": 0}).items() if k != "state"})
    assert span.get_json()["totalPercentPlayed"] == 50.0 and span.get_json()["percentRange"] == "50"
    assert [e["kind"] for e in state.events] == ["media-played", "attention-span"]


def test_v2_events_are_accepted_and_resolved_asynchronously(api, state):
    answer = api.post("/media-bridge/v2/events/media-played", headers=BEARER, json=played(externalId="unknown"))
    assert answer.status_code == 202 and state.events[0]["version"] == 2
    assert "No VIDEO media object" in state.events[0]["rejected"]  # processed later, not answered


# --- rate limits, faults, log --------------------------------------------------------------------
def test_rate_limit_answers_429_with_hubspot_headers_and_body():
    s = EmulatorState(rate_limit=2)
    s.define_media_types("VIDEO")
    api = create_emulator_app(s).test_client()
    first = api.post(f"{VIDEOS}/search", headers=BEARER, json=SEARCH)
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "1" and first.headers["X-HubSpot-RateLimit-Max"] == "2"
    api.post(f"{VIDEOS}/search", headers=BEARER, json=SEARCH)
    limited = api.post(f"{VIDEOS}/search", headers=BEARER, json=SEARCH)
    body = assert_error(limited, 429)
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert limited.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert "Retry-After" not in limited.headers
    # The developer key has its own budget.
    assert api.get(f"{SETTINGS}/settings/object-definitions/VIDEO", query_string=KEY).status_code == 200


def test_faults_and_request_log_from_python_and_http(api, state):
    state.fail_next(502, times=1, method="POST", path="/search$", skip=1)
    statuses = [api.post(f"{VIDEOS}/search", headers=BEARER, json=SEARCH).status_code for _ in range(3)]
    assert statuses == [200, 502, 200]
    assert api.post("/_emulator/faults", json={"kind": "rate_limit", "times": 1, "retry_after": 2}).status_code == 201
    limited = api.post(f"{VIDEOS}/search", headers=BEARER, json=SEARCH)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert_error(api.post("/_emulator/faults", json={"kind": "explode"}), 400)
    assert state.count("POST", "/search$") == 4 and state.count(status=502) == 1
    assert api.get("/_emulator/requests").get_json()["counts"] == {f"POST {VIDEOS}/search": 4}
    api.post("/_emulator/expire-tokens")
    assert_error(api.post(f"{VIDEOS}/search", headers=BEARER, json=SEARCH), 401, "EXPIRED_AUTHENTICATION")
    assert api.get("/_emulator/state").get_json()["definitions"] == {"VIDEO": "a4242_Videos", "IMAGE": "a4242_Images"}


def test_hapikey_is_not_kept_in_the_request_log(api, state):
    api.get(f"{SETTINGS}/settings/object-definitions/VIDEO", query_string=KEY)
    assert state.requests[0].query == {"hapikey": "[REDACTED]"} and state.requests[0].auth == "hapikey"
