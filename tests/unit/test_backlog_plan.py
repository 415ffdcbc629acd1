"""A portal's backlog measured against its budget, what is shed past the limit, and the
budget HubSpot's answer headers announce."""
from __future__ import annotations

import pytest

from oembed_server.domain.backlog_plan import describe_duration, plan_backlog, seconds_needed
from oembed_server.domain.event_record import JOB_PRIORITY, SHEDDABLE_PRIORITY, EventRecord
from oembed_server.domain.rate_budget import budget_from_headers
from oembed_server.hubspot.rate_limiter import RateLimiter


def test_seconds_needed_is_one_request_per_event_at_the_budget():
    assert seconds_needed(0, 110, 10) == 0
    assert seconds_needed(110, 110, 10) == 10
    # A webinar: 5,000 sessions of 7 events at 110 per 10 s is most of an hour.
    assert seconds_needed(35_000, 110, 10) == pytest.approx(3181.8, abs=0.1)


def test_nothing_is_shed_while_the_backlog_fits():
    plan = plan_backlog(queued=1000, sheddable=500, max_requests=110, interval_s=10, max_hours=24)
    assert plan.shed == 0 and plan.queued == 1000


def test_just_enough_intermediate_quartiles_are_shed_to_fit_and_never_more_than_there_are():
    # 1 hour at 100 per 10 s allows 36,000 events.
    plan = plan_backlog(queued=36_500, sheddable=10_000, max_requests=100, interval_s=10, max_hours=1)
    assert plan.shed == 500
    assert plan_backlog(queued=50_000, sheddable=3_000, max_requests=100, interval_s=10, max_hours=1).shed == 3_000


def test_only_quartiles_25_50_75_get_the_sheddable_priority():
    common = dict(external_id="x", media_type="VIDEO", session_id="s", occurred_at_ms=1)
    priorities = {q: EventRecord(kind="quartile", played_percent=q, **common).job_priority
                  for q in (0, 25, 50, 75, 100)}
    assert priorities == {0: JOB_PRIORITY["quartile"], 25: SHEDDABLE_PRIORITY, 50: SHEDDABLE_PRIORITY,
                          75: SHEDDABLE_PRIORITY, 100: JOB_PRIORITY["quartile"]}
    assert SHEDDABLE_PRIORITY > max(JOB_PRIORITY.values())  # sent last of all


@pytest.mark.parametrize(("seconds", "text"), [(12, "12 s"), (600, "10 min"), (3 * 3600 + 300, "3 h 05 min"),
                                               (50 * 3600, "2 d 02 h")])
def test_durations_read_as_people_say_them(seconds, text):
    assert describe_duration(seconds) == text


def test_hubspot_s_max_and_interval_headers_are_a_budget_when_both_are_sane():
    headers = {"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
    assert budget_from_headers(headers) == (190, 10.0)
    assert budget_from_headers({"X-HubSpot-RateLimit-Max": "190"}) is None
    assert budget_from_headers(headers | {"X-HubSpot-RateLimit-Max": "0"}) is None
    assert budget_from_headers(headers | {"X-HubSpot-RateLimit-Max": "lots"}) is None
    assert budget_from_headers(headers | {"X-HubSpot-RateLimit-Interval-Milliseconds": "-5"}) is None


def test_the_limiter_paces_each_key_by_the_budget_hubspot_announced():
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(100, 10.0, clock=lambda: now[0], sleep=sleep)
    assert limiter.budget("portal:1") == (100, 10.0)
    limiter.acquire("portal:1")
    limiter.observe("portal:1", {"X-HubSpot-RateLimit-Max": "3", "X-HubSpot-RateLimit-Interval-Milliseconds": "1000",
                                 "X-HubSpot-RateLimit-Remaining": "2"})
    assert limiter.budget("portal:1") == (3, 1.0)
    assert limiter.budget("portal:2") == (100, 10.0)  # another portal keeps the configured one
    limiter.acquire("portal:1")
    limiter.acquire("portal:1")
    assert sleeps == []
    limiter.acquire("portal:1")  # the fourth in one second waits for HubSpot's window
    assert sleeps and sum(sleeps) == pytest.approx(1.0)
    # And a portal on a higher tier gets its whole budget: 150 in a window, not 100.
    limiter.observe("portal:2", {"X-HubSpot-RateLimit-Max": "150",
                                 "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"})
    sleeps.clear()
    for _ in range(150):
        limiter.acquire("portal:2")
    assert sleeps == []
