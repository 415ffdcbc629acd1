"""Driving the player in a browser page and reading what it reported from the database."""
from __future__ import annotations

import json
import time

import sqlalchemy as sa

from oembed_server.storage.job_queue import jobs
from oembed_server.storage.play_sessions import play_sessions


def session_jobs(engine, session_id: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(jobs.c.kind, jobs.c.payload).order_by(jobs.c.id)).all()
    found = [dict(json.loads(payload), job_kind=kind) for kind, payload in rows]
    return [job for job in found if job["session_id"] == session_id]


def session_row(engine, session_id: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(play_sessions).where(play_sessions.c.session_id == session_id)).mappings().first()
    return dict(row) if row else None


def wait_for(predicate, timeout: float = 10.0):
    """Polls until predicate() is truthy (the beacons arrive asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def by_kind(found: list[dict]) -> dict[str, list[dict]]:
    kinds: dict[str, list[dict]] = {}
    for job in found:
        kinds.setdefault(job["kind"], []).append(job)
    return kinds


def open_player(open_page, base_url: str, path: str, referer: str | None = None):
    page = open_page()
    page.goto(f"{base_url}{path}", referer=referer)
    page.wait_for_function("() => window.mediaPlayerEvents !== undefined")
    return page


def play(page, rate: float = 4) -> None:
    # Muted playback needs no user gesture; a faster rate keeps the test short and
    # exercises the jump detection, which scales with the rate.
    page.evaluate(f"() => {{ const m = document.querySelector('#player');"
                  f" m.muted = true; m.playbackRate = {rate}; m.play(); }}")


def play_until(page, position: float) -> None:
    """Plays on until the playhead passes ``position``, then pauses there."""
    page.evaluate("""position => new Promise(resolve => {
        const m = document.querySelector('#player');
        const check = () => {
            if (m.currentTime >= position) { m.pause(); resolve(); } else { requestAnimationFrame(check); }
        };
        m.play(); check();
    })""", position)


def seek(page, position: float) -> None:
    page.evaluate("""position => new Promise(resolve => {
        const m = document.querySelector('#player');
        m.addEventListener('seeked', () => resolve(), {once: true});
        m.currentTime = position;
    })""", position)


def ended_session_reported(engine, session_id: str) -> list[dict]:
    """The session's jobs once its attention record and its 100% quartile are both in
    (separate requests: either may land first)."""
    def complete():
        found = session_jobs(engine, session_id)
        kinds = {(j["kind"], j.get("played_percent")) for j in found}
        return found if ("attention", None) in kinds and ("quartile", 100) in kinds else None
    return wait_for(complete) or session_jobs(engine, session_id)
