"""The emulator's spec checks (tests/hubspot_emulator/spec_check.py): what each rule refuses,
and one sample answer of every operation the emulator serves held to its response schema."""
from __future__ import annotations

import io

import pytest

from tests.hubspot_emulator import EmulatorState, create_emulator_app, spec_check
from tests.hubspot_emulator.routes_forms import form_definition, form_field

KEY = {"hapikey": "emu-dev-key-0001"}
PORTAL = {"Authorization": "Bearer emu-access-token-0001"}
DEVELOPER = {"Authorization": "Bearer emu-dev-access-token-0001"}
VIDEOS = "/crm/v3/objects/a4242_Videos"
SEARCH = {"filterGroups": [], "properties": [], "limit": 10, "after": "0", "sorts": []}


@pytest.fixture
def state():
    s = EmulatorState()
    s.define_media_types("VIDEO")
    return s


@pytest.fixture
def api(state):
    return create_emulator_app(state).test_client()


def refused(response, status: int, *words: str) -> str:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["status"] == "error" and body["correlationId"] and body["category"]
    for word in words:
        assert word in body["message"]
    return body["message"]


def test_unknown_paths_and_methods_are_refused_and_recorded(api, state):
    refused(api.get("/crm/v4/objects/a4242_Videos", headers=PORTAL), 404, "No operation in HubSpot's specs")
    refused(api.delete(f"{VIDEOS}/search", headers=PORTAL), 405, "DELETE is not an operation")
    refused(api.post("/media-bridge/2025-09/events/media-played", headers=PORTAL, json={}), 404)
    assert [v["path"] for v in state.spec_violations] == [
        "/crm/v4/objects/a4242_Videos", f"{VIDEOS}/search", "/media-bridge/2025-09/events/media-played"]


def test_bodies_are_held_to_the_request_schema_with_the_failing_field_named(api, state):
    message = refused(api.post(f"{VIDEOS}/search", headers=PORTAL, json=SEARCH | {"limit": "ten"}), 400,
                      "POST /crm/v3/objects/{objectType}/search", "$.limit", "'ten' is not of type 'integer'")
    assert state.spec_violations[-1]["message"] in message
    refused(api.post(f"{VIDEOS}/search", headers=PORTAL, data="{not json", content_type="application/json"), 400,
            "not valid JSON")
    refused(api.post(f"{VIDEOS}/search", headers=PORTAL, data="x=1"), 400, "Content-Type")
    # int32 is a range, not only a type.
    refused(api.post(f"{VIDEOS}/search", headers=PORTAL, json=SEARCH | {"limit": 2**40}), 400, "$.limit")


def test_v2_events_are_held_to_the_v1_schemas(api):
    event = {"mediaType": "VIDEO", "occurredTimestamp": "yesterday", "sessionId": "s", "state": "STARTED"}
    refused(api.post("/media-bridge/v2/events/media-played", headers=PORTAL, json=event), 400,
            "POST /media-bridge/v1/events/media-played", "$.occurredTimestamp")


def test_path_and_query_parameters_are_typed(api):
    refused(api.get(VIDEOS, headers=PORTAL, query_string={"limit": "many"}), 400, "query parameter limit")
    refused(api.get("/media-bridge/v1/4242/settings/object-definitions/GIF", headers=DEVELOPER), 400,
            "path parameter mediaType")


def test_required_query_parameters_and_credential_kinds():
    doc = {"paths": {"/things/{id}": {"get": {
        "security": [{"oauth2": ["things.read"]}],
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                       {"name": "portal", "in": "query", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"content": {"application/json": {"schema": {"type": "object"}}}}}}}}}
    op = next(spec_check._operations_of("test.json", doc))
    app = create_emulator_app()
    with app.test_request_context("/things/7?portal=1"):
        assert spec_check.request_problem(op, {"id": "7"}, "bearer") is None
        assert "takes bearer credentials, not hapikey" in spec_check.request_problem(op, {"id": "7"}, "hapikey")
    with app.test_request_context("/things/7"):
        assert "required query parameter portal" in spec_check.request_problem(op, {"id": "7"}, "bearer")


def test_validation_can_be_switched_off_for_a_trial(state):
    state.validate_spec = False
    api = create_emulator_app(state).test_client()
    assert api.post(f"{VIDEOS}/search", headers=PORTAL, json={}).status_code == 200
    assert state.spec_violations == []


def _upload(api, action: str, path: str, content: bytes):
    method = api.put if action == "content" else api.post
    return method(f"/cms/v3/source-code/draft/{action}/{path}", headers=PORTAL,
                  data={"file": (io.BytesIO(content), path.rsplit("/", 1)[-1])}, content_type="multipart/form-data")


def test_one_answer_of_every_served_operation_matches_its_response_schema(api, state):
    """Successes and HubSpot-shaped errors alike; the set of operations sampled must be every
    operation the shipped specs hold, so a route added without a sample fails here."""
    video = {"hs_title": "T", "hs_oembed_url": "http://m.test/media/a", "hs_external_id": "a"}
    for version in ("v1", "2026-03"):
        app = f"/media-bridge/{version}/4242"
        assert api.post(f"{app}/settings/object-definitions", headers=DEVELOPER,
                        json={"mediaTypes": ["AUDIO" if version == "v1" else "IMAGE"]}).status_code == 200
        api.get(f"{app}/settings/object-definitions/VIDEO", headers=DEVELOPER)
        api.get(f"{app}/settings/object-definitions/OTHER", headers=DEVELOPER)  # 404
        api.patch(f"{app}/schemas/a4242_Videos", headers=DEVELOPER, json={"clearDescription": False})
        name = f"rating_{version[:2]}"
        api.post(f"{app}/properties/a4242_Videos", headers=DEVELOPER, json={
            "name": name, "label": "Rating", "type": "number", "fieldType": "number", "groupName": "media_information"})
        api.get(f"{app}/properties/a4242_Videos", headers=DEVELOPER)
        api.patch(f"{app}/properties/a4242_Videos/{name}", headers=DEVELOPER, json={"label": "Stars"})
        api.delete(f"{app}/properties/a4242_Videos/{name}", headers=DEVELOPER)
        endpoints = {"schemes": ["https://m.test/media/*"], "url": "https://m.test/oembed", "discovery": True}
        domain = api.post(f"{app}/settings/oembed-domains", headers=DEVELOPER, json={"endpoints": endpoints}).get_json()
        api.get(f"{app}/settings/oembed-domains", headers=DEVELOPER, query_string={"domainPortalId": 777})
        api.get(f"{app}/settings/oembed-domains/{domain['id']}", headers=DEVELOPER)
        api.patch(f"{app}/settings/oembed-domains/{domain['id']}", headers=DEVELOPER, json={"endpoints": endpoints})
        api.delete(f"{app}/settings/oembed-domains", headers=DEVELOPER, query_string={"id": domain["id"]})
        api.patch(f"{app}/settings/event-visibility", headers=DEVELOPER, json={
            "eventType": "ALL", "updatedAt": 1_700_000_000_000, "showInTimeline": True})
        api.get(f"{app}/settings/event-visibility", headers=DEVELOPER)
    created = api.post(VIDEOS, headers=PORTAL, json={"properties": video, "associations": []}).get_json()
    api.post(VIDEOS, headers=PORTAL, json={"properties": video, "associations": []})  # 409
    api.get(VIDEOS, headers=PORTAL, query_string={"properties": "hs_title,hs_external_id", "limit": 1})
    api.post(f"{VIDEOS}/batch/read", headers=PORTAL, json={"inputs": [{"id": created["id"]}, {"id": "9"}],
                                                           "properties": ["hs_title"], "propertiesWithHistory": []})
    api.post(f"{VIDEOS}/batch/create", headers=PORTAL, json={"inputs": [
        {"properties": video | {"hs_external_id": "b"}, "associations": []}]})
    api.post(f"{VIDEOS}/batch/update", headers=PORTAL, json={"inputs": [{"id": created["id"],
                                                                         "properties": {"hs_title": "U"}}]})
    api.post(f"{VIDEOS}/batch/upsert", headers=PORTAL, json={"inputs": [
        {"idProperty": "hs_external_id", "id": "c", "properties": video | {"hs_external_id": "c"}}]})
    api.post(f"{VIDEOS}/search", headers=PORTAL, json=SEARCH | {"limit": 1})
    api.post(f"{VIDEOS}/batch/archive", headers=PORTAL, json={"inputs": [{"id": created["id"]}]})
    _upload(api, "validate", "m/x.module/meta.json", b'{"label": "X"}')
    _upload(api, "validate", "m/x.module/meta.json", b"{}")  # 400
    _upload(api, "content", "m/x.module/meta.json", b'{"label": "X"}')
    api.get("/cms/v3/source-code/draft/content/m/x.module/meta.json", headers=PORTAL)
    api.get("/cms/v3/source-code/draft/metadata/m/x.module", headers=PORTAL)
    api.get("/cms/v3/source-code/draft/metadata/m/none.json", headers=PORTAL)  # 404
    form_id = "78c2891f-ebdd-44c0-bd94-15c012bbbfbf"
    state.data().forms[form_id] = form_definition(form_id, "Gate", [form_field("email", "email", "Email")])
    api.get("/marketing/v3/forms", headers=PORTAL, query_string={"limit": 1})
    api.get(f"/marketing/v3/forms/{form_id}", headers=PORTAL)
    api.get("/marketing/v3/forms/11111111-2222-4333-8444-555555555555", headers=PORTAL)  # 404
    token = api.post("/oauth/v1/token", data={"grant_type": "refresh_token", "client_id": "emu-client-id",
                                              "client_secret": "emu-client-secret-0001",
                                              "refresh_token": "emu-refresh-token-0001"}).get_json()
    api.get(f"/oauth/v1/access-tokens/{token['access_token']}")
    api.post("/oauth/v1/token", data={"grant_type": "refresh_token", "client_id": "x", "client_secret": "y",
                                      "refresh_token": "z"})  # 400
    api.delete("/oauth/v1/refresh-tokens/emu-refresh-token-0001")  # 204
    api.delete("/oauth/v1/refresh-tokens/emu-refresh-token-0001")  # 404: already revoked
    state.set_domains(state.portal_id, ["www.example.com", "blog.example.com"])
    first = api.get("/cms/v3/domains", headers=PORTAL, query_string={"limit": 1}).get_json()
    api.get("/cms/v3/domains", headers=PORTAL, query_string={"limit": 1, "after": first["paging"]["next"]["after"]})
    media = {"mediaType": "VIDEO", "externalId": "c", "contactUtk": "utk", "pageName": "P",
             "pageUrl": "https://site.test/p", "mediaName": "T", "mediaUrl": "https://m.test/media/c"}
    for version in ("v1", "2026-03"):
        events = f"/media-bridge/{version}/events"
        session = {"sessionId": f"s-{version}", "occurredTimestamp": 1_700_000_000_000}
        api.post(f"{events}/media-played", headers=PORTAL, json=media | session | {"state": "STARTED"})
        api.post(f"{events}/media-played-percent", headers=PORTAL, json=media | session | {"playedPercent": 25})
        api.post(f"{events}/attention-span", headers=PORTAL, json=media | session | {
            "rawDataMap": {"0": 1, "1": 0}, "derivedValues": {"totalPercentPlayed": 50.0, "totalSecondsPlayed": 3}})
    app_token = api.post("/oauth/v1/token", data={
        "grant_type": "client_credentials", "client_id": "emu-client-id", "client_secret": "emu-client-secret-0001",
        "scope": "developer.webhooks_journal.read developer.webhooks_journal.subscriptions.read "
                 "developer.webhooks_journal.subscriptions.write"}).get_json()["access_token"]
    app_auth = {"Authorization": f"Bearer {app_token}"}
    subscriptions = "/webhooks-journal/subscriptions/2026-03"
    made = api.post(subscriptions, headers=app_auth, json={"subscriptionType": "APP_LIFECYCLE_EVENT",
                                                           "eventTypeId": "4-1916193", "properties": []}).get_json()
    api.get(subscriptions, headers=app_auth)
    api.get("/webhooks-journal/journal/2026-03/batch/earliest/10", headers=app_auth)
    api.delete("/appinstalls/2026-03/external-install", headers=PORTAL)  # journaled: the app left the portal
    offset = state.journal.files[-1].offset
    api.get(f"/webhooks-journal/journal/2026-03/batch/{offset}/next/10", headers=app_auth)
    api.delete(f"{subscriptions}/{made['id']}", headers=app_auth)

    assert state.spec_violations == []
    served = {op.name for op in spec_check.operations()}
    assert set(state.spec_operations) == served
    assert {r.status for r in state.requests} >= {200, 201, 204, 207, 400, 404, 409}
