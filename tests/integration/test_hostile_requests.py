"""Requests a hostile or careless client sends, each answered as promised (issue 17): deep
JSON on /events, unsafe URLs in a catalog, crawlers on unlisted pages, the player page's
plugin policy, forwarded client addresses, and external ids holding "=" in the preview."""
from __future__ import annotations

import logging
import urllib.request

import pytest

from oembed_server.settings import ConfigError
from oembed_server.usecases.catalog_import import import_catalog
from oembed_server.usecases.sample_media import load_sample_media
from oembed_server.web.app_state import settings_of
from tests.support.apps import command_runner, make_app
from tests.support.catalog_rows import validate_rows
from tests.support.environment import PUBLIC_URL
from tests.support.event_reports import body, player_token
from tests.support.live_server import serve_in_thread

VIDEO = {"media_type": "VIDEO", "title": "Clip", "file_url": "https://cdn.example.com/clip.webm"}


@pytest.fixture
def app(sqlite_url):
    app = make_app(sqlite_url, PREVIEW_ENABLED=True)
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    yield app
    app.extensions["catalog"].dispose()


def add(app, *rows):
    items, problems = validate_rows(list(rows))
    assert not problems, problems
    app.extensions["catalog"].upsert(items)


# --- 9: nesting deeper than any report -----------------------------------------------------
@pytest.mark.parametrize("text", ["[" * 5000, '{"a":' * 3000, "[" * 5000 + "]" * 5000],
                         ids=["open-lists", "open-objects", "closed-lists"])
def test_deeply_nested_json_on_events_is_a_400_naming_the_body(app, text):
    response = app.test_client().post("/events", data=text, content_type="application/json")
    assert response.status_code == 400 and response.mimetype == "application/json"
    assert response.json["field"] == "body" and "nested" in response.json["error"]


# --- 12: URLs that would break out of the HTML or XML that quotes them ------------------------
@pytest.mark.parametrize("url, shown", [
    ('https://cdn.example.com/a.webm" onerror="alert(1)', "'\"'"),
    ("https://cdn.example.com/<script>.webm", "'<'"),
    ("https://cdn.example.com/a.webm>", "'>'"),
    ("https://cdn.example.com/a b.webm", "whitespace"),
    ("https://cdn.example.com/a\tb.webm", "whitespace"),
], ids=["quote", "less-than", "greater-than", "space", "tab"])
def test_catalog_urls_with_quotes_angle_brackets_or_whitespace_are_refused(store, url, shown):
    problems: list = []
    import_catalog(store, [dict(VIDEO, external_id="ok"), dict(VIDEO, external_id="bad", thumbnail_url=url)],
                   problems.append)
    assert [(p.row, p.field) for p in problems] == [(2, "thumbnail_url")]
    assert str(problems[0]).startswith("row 2, field 'thumbnail_url': ") and shown in problems[0].message
    assert store.list_items() == []  # nothing imported


def test_a_caption_src_is_held_to_the_same_rule(store):
    problems: list = []
    row = dict(VIDEO, external_id="captioned",
               captions=[{"src": 'https://cdn.example.com/en.vtt"x', "srclang": "en", "label": "English"}])
    import_catalog(store, [row], problems.append)
    assert [(p.row, p.field) for p in problems] == [(1, "captions")] and "'\"'" in problems[0].message


def test_import_command_prints_the_row_numbered_error(app, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text("external_id,media_type,title,file_url\nclip,VIDEO,Clip,https://cdn.example.com/<b>.webm\n")
    result = command_runner(app).invoke(["import-catalog", str(path)])
    assert result.exit_code != 0
    assert "catalog.csv: row 1, field 'file_url': 'https://cdn.example.com/<b>.webm' contains '<'" in result.output


# --- 11: unlisted pages are not for search engines -------------------------------------------
def test_unlisted_media_and_player_pages_say_noindex_public_ones_do_not(app):
    add(app, dict(VIDEO, external_id="hidden", visibility="unlisted"), dict(VIDEO, external_id="shown"))
    client = app.test_client()
    for path in ("/media/hidden", "/embed/hidden"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["X-Robots-Tag"] == "noindex"
        assert '<meta name="robots" content="noindex">' in response.get_data(as_text=True)
    for path in ("/media/shown", "/embed/shown"):
        response = client.get(path)
        assert "X-Robots-Tag" not in response.headers and 'name="robots"' not in response.get_data(as_text=True)


def test_robots_txt_keeps_crawlers_off_insights_and_the_preview(app):
    response = app.test_client().get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    assert {"Disallow: /insights/", "Disallow: /_preview/"} <= set(lines)
    assert not any(line.startswith("Disallow: /media") for line in lines)  # crawlers must see the noindex
    # Absolute, as robots.txt has no base URL.
    assert [line for line in lines if line.startswith("Sitemap: ")] == [
        f"Sitemap: {settings_of(app).public_url}/sitemap.xml"]


# --- 13: no plugins in the player ------------------------------------------------------------
def test_player_page_csp_allows_no_plugins(app):
    policy = app.test_client().get("/embed/sample-video").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["object-src"] == "'none'"


# --- 15: "=" in an external id ----------------------------------------------------------------
@pytest.mark.parametrize("external_id", ["promo=2", "a=b=c", "utm_source=x"])
def test_email_and_page_previews_of_ids_holding_equals_signs(app, external_id):
    add(app, dict(VIDEO, external_id=external_id, thumbnail_url="https://cdn.example.com/t.png",
                  thumbnail_width=640, thumbnail_height=360))
    client = app.test_client()
    for module in ("media_email", "media_embed"):
        response = client.get(f"/_preview/{module}", query_string={"media": external_id})
        assert response.status_code == 200, response.get_data(as_text=True)
    email = client.get("/_preview/media_email", query_string={"media": external_id}).get_data(as_text=True)
    assert "Clip" in email  # the object was found by its id, not read as a query


# --- 14: the client behind a reverse proxy -----------------------------------------------------
def reports_from(app, addresses: list[str], prefix: str = "proxied") -> list[int]:
    client = app.test_client()
    token = player_token(client)
    statuses = []
    for n, address in enumerate(addresses):
        report = body(token, sessionId=f"{prefix}-session-{n:06d}")
        statuses.append(client.post("/events", json=report, headers={"X-Forwarded-For": address},
                                    environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code)
    return statuses


def test_forwarded_addresses_are_ignored_without_trusted_proxies(sqlite_url):
    app = make_app(sqlite_url, OEMBED_EVENTS_CLIENT_RATE="2")
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    # Three "clients" named by a header anyone can send: one address (the proxy's) to the limit.
    assert reports_from(app, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [202, 202, 429]
    app.extensions["catalog"].dispose()


def test_with_one_trusted_proxy_each_client_has_its_own_limit(sqlite_url):
    app = make_app(sqlite_url, OEMBED_EVENTS_CLIENT_RATE="2", OEMBED_TRUSTED_PROXIES="1")
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    assert reports_from(app, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [202, 202, 202]
    # The proxy appends the real peer: a client's own X-Forwarded-For entry is not believed.
    assert reports_from(app, ["198.51.100.9, 203.0.113.4", "198.51.100.9, 203.0.113.4",
                              "198.51.100.9, 203.0.113.4"], prefix="spoofing") == [202, 202, 429]
    app.extensions["catalog"].dispose()


@pytest.mark.parametrize("proxies, logged", [(None, "127.0.0.1"), ("1", "203.0.113.7")])
def test_request_log_names_the_client_only_behind_trusted_proxies(sqlite_url, caplog, proxies, logged):
    overrides = {"OEMBED_TRUSTED_PROXIES": proxies} if proxies else {}
    apps = []

    def build(base_url):
        apps.append(make_app(sqlite_url, OEMBED_PUBLIC_URL=base_url, **overrides))
        return apps[-1]

    with caplog.at_level(logging.INFO, logger="werkzeug"), serve_in_thread(build) as base_url:
        request = urllib.request.Request(f"{base_url}/robots.txt", headers={"X-Forwarded-For": "203.0.113.7"})
        assert urllib.request.urlopen(request, timeout=10).status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug" and "/robots.txt" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith(logged + " ")
    apps[0].extensions["catalog"].dispose()


@pytest.mark.parametrize("value", ["-1", "two", "11"])
def test_trusted_proxies_setting_is_checked(sqlite_url, value):
    with pytest.raises(ConfigError, match="OEMBED_TRUSTED_PROXIES"):
        make_app(sqlite_url, OEMBED_TRUSTED_PROXIES=value)



# --- 7: who may frame the session insights page --------------------------------------------------
def test_session_insights_page_is_framed_by_hubspots_app_hosts_only(app):
    from oembed_server.domain.session_links import session_page_url
    from tests.support.insights_links import app_link_keys
    link = session_page_url(PUBLIC_URL, app_link_keys(app), "no-such-session-0000")
    response = app.test_client().get(link.removeprefix(PUBLIC_URL))
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://app.hubspot.com https://app-eu1.hubspot.com " in policy
    assert "X-Frame-Options" not in response.headers
    # Every other page still refuses to be framed.
    index = app.test_client().get("/")
    assert "frame-ancestors 'none'" in index.headers["Content-Security-Policy"]
    assert index.headers["X-Frame-Options"] == "DENY"


def test_timeline_frame_ancestors_can_be_overridden_and_are_checked(sqlite_url):
    app = make_app(sqlite_url, OEMBED_TIMELINE_FRAME_ANCESTORS="https://app.hubspotqa.com, https://*.example.com")
    from oembed_server.web.security_headers import TIMELINE, content_security_policy
    settings = app.extensions["oembed_settings"]
    assert "frame-ancestors https://app.hubspotqa.com https://*.example.com" in content_security_policy(
        TIMELINE, settings.public_url, settings.timeline_frame_ancestors)
    app.extensions["catalog"].dispose()
    for bad in ("'self'", "https://app.hubspot.com/contacts", "*", "javascript:alert(1)"):
        with pytest.raises(ConfigError, match="OEMBED_TIMELINE_FRAME_ANCESTORS"):
            make_app(sqlite_url, OEMBED_TIMELINE_FRAME_ANCESTORS=bad)
