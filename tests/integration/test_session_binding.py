"""A play session is written only by the player that opened it (issue 17, item 3).

The attack that worked before: the insights link revealed the session id, and any player
token for the same item (another portal's too) could then post a final attention report
with forged counts into the victim's session, which went to the victim's portal. Now a
session is bound, on its first report, to the token and the per-session secret of the
player that opened it; any other report into it is a 409 that changes nothing, and the
counts one session can claim are bounded by the media's duration and the session's time."""
from __future__ import annotations

import base64
import json

import pytest
import sqlalchemy as sa

from oembed_server.domain.session_binding import max_seconds_played, writer_digest
from oembed_server.storage.job_queue import jobs
from oembed_server.storage.play_sessions import play_sessions
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.apps import make_app
from tests.support.environment import PUBLIC_URL
from tests.support.event_reports import SESSION, SESSION_SECRET, attention, body, player_token
from tests.support.insights_links import app_link_keys

VICTIM_PORTAL, OTHER_PORTAL = 42, 43


@pytest.fixture
def events_app(database_url):
    app = make_app(database_url)
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    yield app
    app.extensions["catalog"].dispose()


def state(app) -> tuple[dict, list[dict]]:
    """The victim's session row and every job in the outbox."""
    with app.extensions["catalog"].engine.connect() as conn:
        row = conn.execute(sa.select(play_sessions).where(play_sessions.c.session_id == SESSION)).mappings().one()
        queued = conn.execute(sa.select(jobs).order_by(jobs.c.id)).mappings().all()
    return dict(row), [dict(job) for job in queued]


@pytest.fixture
def victim(events_app):
    """A visitor's session on portal 42: played, then an honest attention update."""
    client = events_app.test_client()
    token = player_token(client, f"/embed/sample-video?hs_portal_id={VICTIM_PORTAL}")
    assert client.post("/events", json=body(token)).status_code == 202
    assert client.post("/events", json=attention(token, [1, 1, 1, 0, 0, 0, 0, 0, 0])).status_code == 202
    return token


FORGED = [10000] * 9


def test_another_portals_token_cannot_write_into_the_session(events_app, victim):
    client = events_app.test_client()
    before = state(events_app)
    attacker = player_token(client, f"/embed/sample-video?hs_portal_id={OTHER_PORTAL}")
    response = client.post("/events", json=attention(attacker, FORGED, portalId=OTHER_PORTAL, final=True))
    assert response.status_code == 409 and response.json["field"] == "portalId"
    assert state(events_app) == before


def test_the_same_portals_token_without_the_secret_cannot_write(events_app, victim):
    client = events_app.test_client()
    before = state(events_app)
    # Another page on the victim's portal: a valid token, but not the session's player.
    other_page = player_token(client, f"/embed/sample-video?hs_portal_id={VICTIM_PORTAL}&dnt=1")
    assert other_page != victim
    for token, secret in ((other_page, SESSION_SECRET), (other_page, "guessed-secret-0123456789"),
                          (victim, "guessed-secret-0123456789")):
        response = client.post("/events", json=attention(token, FORGED, sessionSecret=secret, final=True))
        assert response.status_code == 409, (token, secret)
        assert response.json["field"] == "sessionSecret"
        played = client.post("/events", json=body(token, sessionSecret=secret, contactUtk="utk-forged"))
        assert played.status_code == 409
    assert state(events_app) == before
    assert state(events_app)[0]["contact_utk"] == "utk-1"


def test_a_report_without_a_session_secret_is_refused(events_app):
    client = events_app.test_client()
    token = player_token(client)
    response = client.post("/events", json=body(token, sessionSecret=...))
    assert response.status_code == 400 and response.json["field"] == "sessionSecret"


def test_the_player_that_opened_the_session_goes_on_writing(events_app, victim):
    client = events_app.test_client()
    response = client.post("/events", json=attention(victim, [1] * 9, final=True))
    assert response.status_code == 202 and response.json["closed"]
    row, queued = state(events_app)
    assert json.loads(row["spans"]) == [1] * 9 and row["writer_digest"] == writer_digest(victim, SESSION_SECRET)
    assert [job["kind"] for job in queued] == ["event.played", "event.attention"]


def test_the_insights_link_does_not_reveal_the_session_id(events_app, victim):
    link = app_link_keys(events_app)
    from oembed_server.domain.session_links import session_page_url
    url = session_page_url(PUBLIC_URL, link, SESSION)
    token = url.rsplit("/", 1)[1]
    padded = token + "=" * (-len(token) % 4)
    assert SESSION not in token and SESSION.encode() not in base64.urlsafe_b64decode(padded)
    # Whatever the link holds, reporting with it as the session id opens a new session at most.
    client = events_app.test_client()
    before = state(events_app)
    reused = client.post("/events", json=attention(victim, FORGED, sessionId=token[:64], final=True))
    assert reused.status_code in (400, 202)
    assert state(events_app)[0] == before[0]


def test_attention_is_bounded_by_the_media_duration(events_app, victim):
    client = events_app.test_client()
    before = state(events_app)
    # The sample video lasts 8 s: 10,000 passes over it in a session a second old cannot be.
    response = client.post("/events", json=attention(victim, FORGED, final=True))
    assert response.status_code == 400 and response.json["field"] == "spans"
    # Nor can the player claim the media is a day long to make room for them.
    day = attention(victim, [100] * 100, final=True) | {"durationSeconds": 86_400.0, "spanSeconds": 864.0}
    response = client.post("/events", json=day)
    assert response.status_code == 400 and response.json["field"] == "durationSeconds"
    assert state(events_app) == before


def test_a_long_session_may_count_what_its_time_allows():
    # An hour-long session of a 10 s clip on loop: 360 passes at normal speed is honest.
    assert 360 * 10 <= max_seconds_played(3600, 10)
    # A session that began now cannot have watched a 10 s clip for 100,000 s.
    assert 100_000 > max_seconds_played(0, 10)
