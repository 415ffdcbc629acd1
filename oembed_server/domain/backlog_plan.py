"""How long a portal's event backlog takes at its HubSpot budget, and how much of it to shed.

HubSpot has no batch endpoint for media events: every event is one request against the
portal's budget (about 110 per 10 s), so a popular live stream can queue more than a day
of work. Past ``max_hours`` the intermediate quartiles (25/50/75) go first: a session keeps
its played event, its start and end quartiles and its attention span, which is what the
contact timeline and HubSpot's reports are built from."""
from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class BacklogPlan:
    queued: int            # event jobs waiting for this portal's budget
    seconds_needed: float  # at the budget, from now
    shed: int              # intermediate quartiles to drop now


def seconds_needed(queued: int, max_requests: int, interval_s: float) -> float:
    """Time to send ``queued`` requests at ``max_requests`` per ``interval_s`` window."""
    if queued <= 0:
        return 0.0
    return queued / max_requests * interval_s


def plan_backlog(queued: int, sheddable: int, max_requests: int, interval_s: float,
                 max_hours: float) -> BacklogPlan:
    """Shed just enough of the ``sheddable`` jobs that the rest fits in ``max_hours``."""
    allowed = math.floor(max_hours * 3600 / interval_s * max_requests)
    shed = min(max(queued - allowed, 0), max(sheddable, 0))
    return BacklogPlan(queued, seconds_needed(queued, max_requests, interval_s), shed)


def describe_duration(seconds: float) -> str:
    """'45 s', '12 min', '3 h 05 min', '2 d 04 h': how long, for people."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours, minutes = divmod(round(minutes), 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours:02d} h"
