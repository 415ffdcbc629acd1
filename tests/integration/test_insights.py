"""Insights: the aggregation and chart geometry (pure), and the two pages behind signed links."""
from __future__ import annotations

import re
from datetime import date

import pytest
from bs4 import BeautifulSoup

from oembed_server.domain import insight_figures as insights
from oembed_server.domain.session_links import link_keys, media_insights_url, session_page_url
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.apps import make_app
from tests.support.environment import PUBLIC_URL
from tests.support.event_reports import attention, body, player_token
from tests.support.insights_links import app_link_keys


def test_bar_geometry_scales_to_the_highest_value():
    chart = insights.bar_chart([0, 2, 4], ["a", "b", "c"], [(0, "start")], "summary", width=300, height=124)
    assert [bar.height for bar in chart.bars] == [0.0, 50.0, 100.0]   # 100 px plot above a 24 px axis
    assert [bar.y for bar in chart.bars] == [100.0, 50.0, 0.0]
    assert [bar.x for bar in chart.bars] == [1.0, 101.0, 201.0] and chart.bars[0].width == 98.0
    assert chart.axis_labels == ((50.0, "start"),) and chart.max_value == 4
    assert all(bar.height == 0 for bar in insights.bar_chart([0, 0], ["", ""], [], "").bars)


def test_per_day_chart_covers_thirty_days_ending_today():
    chart = insights.per_day_chart({"2026-11-28": 3, "2026-11-01": 1, "2026-10-01": 9}, today=date(2026, 11, 28))
    assert len(chart.bars) == 30 and chart.bars[-1].value == 3 and chart.bars[2].value == 1
    assert sum(bar.value for bar in chart.bars) == 4  # October 1st is outside the window
    assert chart.bars[-1].label == "2026-11-28: 3 plays"


def test_attention_of_sessions_is_summed_on_one_timeline():
    rows = [{"spans": "[1,1,0,0]", "span_seconds": 1.0, "duration_seconds": 4.0},
            {"spans": "[0,2,0,1]", "span_seconds": 1.0, "duration_seconds": 4.0},
            {"spans": "[1,0]", "span_seconds": 1.0, "duration_seconds": 2.0},  # an older cut: mapped by position
            {"spans": None}]
    spans, span_seconds, duration, charted = insights.combine_attention(rows)
    assert (spans, span_seconds, duration, charted) == ([2, 3, 0, 1], 1.0, 4.0, 3)
    chart = insights.attention_chart(spans, span_seconds, duration)
    assert [bar.value for bar in chart.bars] == [2, 3, 0, 1]
    assert chart.bars[1].label == "0:01–0:02: 3 plays"
    assert "3 of 4 parts" in chart.summary


@pytest.fixture
def played_app(database_url):
    """Three play sessions of the sample video by two visitors, as the player reports them."""
    app = make_app(database_url)
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    client = app.test_client()
    token = player_token(client)
    for n, spans in enumerate(([1] * 9, [1, 1, 1, 0, 0, 2, 2, 1, 1], [1, 1, 0, 0, 0, 0, 0, 0, 0])):
        session_id = f"insights-session-{n:05d}"
        report = body(token, sessionId=session_id, contactUtk=f"visitor-{n % 2}")
        assert client.post("/events", json=report).status_code == 202
        assert client.post("/events", json=attention(token, spans, sessionId=session_id, final=True)).status_code == 202
    yield app
    app.extensions["catalog"].dispose()


def local(url: str) -> str:
    return url.removeprefix(PUBLIC_URL)


def test_media_insights_page(played_app):
    client = played_app.test_client()
    response = client.get(local(media_insights_url(PUBLIC_URL, app_link_keys(played_app), "sample-video")))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    totals = {dd["data-total"]: dd.get_text(strip=True) for dd in page.select("dd[data-total]")}
    assert totals == {"plays": "3", "unique-contacts": "2", "average-percent": "66.7 %"}
    per_day = [int(rect["data-value"]) for rect in page.select(".chart--per-day rect")]
    assert len(per_day) == 30 and per_day[-1] == 3
    assert [int(rect["data-value"]) for rect in page.select(".chart--attention rect")] == [3, 3, 2, 1, 1, 3, 3, 2, 2]
    sessions = [a["href"] for a in page.select(".insights__sessions a")]
    assert len(sessions) == 3 and all(href.startswith(f"{PUBLIC_URL}/insights/session/") for href in sessions)


def test_session_page_is_the_iframe_url_target(played_app):
    client = played_app.test_client()
    response = client.get(local(session_page_url(PUBLIC_URL, app_link_keys(played_app), "insights-session-00001")))
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.select_one("[data-fact=percent]").get_text() == "77.8 %"
    assert page.select_one("[data-fact=seconds]").get_text() == "8 s"
    assert [int(r["data-value"]) for r in page.select(".chart--attention rect")] == [1, 1, 1, 0, 0, 2, 2, 1, 1]
    assert page.select_one(".site-header") is None  # framed by HubSpot: no site chrome


def test_insights_need_a_signed_link(played_app):
    client = played_app.test_client()
    assert client.get("/insights/sample-video").status_code == 404
    assert client.get("/insights/sample-video?key=forged").status_code == 404
    keys = app_link_keys(played_app)
    audio_key = re.search(r"key=(.+)$", media_insights_url(PUBLIC_URL, keys, "sample-audio")).group(1)
    assert client.get(f"/insights/sample-video?key={audio_key}").status_code == 404  # another item's key
    other_app = link_keys("another-secret-key-0123456789-abcdefghij", b"salt")
    assert client.get(local(session_page_url(PUBLIC_URL, other_app, "insights-session-00001"))).status_code == 404
    assert client.get(local(session_page_url(PUBLIC_URL, keys, "no-such-session-000000"))).status_code == 404


def test_only_the_development_preview_hands_out_insights_links(sqlite_url):
    # Development without the preview (a gunicorn of a staging site, say) lists no link.
    development = make_app(sqlite_url)
    load_sample_media(development.extensions["catalog"], PUBLIC_URL)
    page = development.test_client().get("/").get_data(as_text=True)
    assert "catalog__insights" not in page and "/insights/" not in page
    development.extensions["catalog"].dispose()
    preview = make_app(sqlite_url, PREVIEW_ENABLED=True)
    client = preview.test_client()
    page = client.get("/").get_data(as_text=True)
    links = BeautifulSoup(page, "html.parser").select(".catalog__insights")
    assert len(links) == 4 and "key=" not in page  # the index links the preview, never a capability
    handed_out = client.get(local(links[0]["href"]))
    assert handed_out.status_code == 303 and handed_out.headers["Cache-Control"] == "no-store"
    assert client.get(local(handed_out.headers["Location"])).status_code == 200
    preview.extensions["catalog"].dispose()
    production = make_app(sqlite_url, OEMBED_ENV="production")
    assert "catalog__insights" not in production.test_client().get("/").get_data(as_text=True)
    assert production.test_client().get("/_preview/insights/sample-video").status_code == 404
    production.extensions["catalog"].dispose()
