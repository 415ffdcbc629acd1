"""latest_session_start is max_seconds_played turned round: the latest a session may have
begun for a claim to be allowed, so a write can check the stored start itself. It must
never admit a start that max_seconds_played refuses (the fast attention write relies on it)."""
from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from oembed_server.domain.session_binding import latest_session_start, max_seconds_played

NOW = 1_796_400_000.0  # an epoch time of today's magnitude: its float spacing is what rounding sees
claims = st.floats(min_value=0, max_value=500_000, allow_nan=False)
durations = st.floats(min_value=0.1, max_value=20_000, allow_nan=False)
ages = st.floats(min_value=-60, max_value=100_000, allow_nan=False)


@settings(max_examples=500, deadline=None)
@given(claims, durations, ages)
def test_a_start_within_the_bound_is_one_max_seconds_played_allows(claimed, duration, age):
    started = NOW - age
    if started <= latest_session_start(claimed, duration, NOW):
        assert claimed <= max_seconds_played(NOW - started, duration)


@settings(max_examples=500, deadline=None)
@given(claims, durations)
def test_the_bound_is_a_millisecond_inside_the_exact_one(claimed, duration):
    bound = latest_session_start(claimed, duration, NOW)
    if math.isinf(bound):
        assert claimed <= max_seconds_played(0, duration)
        return
    # Begun a little before the bound: allowed; a second after the exact bound: refused.
    assert claimed <= max_seconds_played(NOW - (bound - 0.001), duration)
    exact_age = NOW - bound - 0.001
    if exact_age > 1:
        assert claimed > max_seconds_played(exact_age - 1, duration)


def test_a_claim_within_one_pass_and_the_slack_has_no_bound():
    # 16 x (10 s + 120 s slack) = 2,080 s: a claim below it needs no time, one at it is
    # left to the exact check (a millisecond of session), 2,096 s needs one more second.
    assert latest_session_start(16 * 129, 10, NOW) == math.inf
    assert latest_session_start(16 * 130, 10, NOW) == NOW - 0.001
    assert latest_session_start(16 * 131, 10, NOW) == NOW - 1 - 0.001
