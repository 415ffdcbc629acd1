"""What an install invite may be: a lifetime of at most 30 days and a bounded number of
uses. Pure rules, shared by the CLI and the console, each problem said naming the field."""
from __future__ import annotations

import math

MAX_INVITE_DAYS = 30
DEFAULT_INVITE_DAYS = 14
MAX_INVITE_USES = 1000


def invite_days_problem(days: float) -> str | None:
    if not isinstance(days, (int, float)) or isinstance(days, bool) or not math.isfinite(days):
        return f"days must be a number of days from more than 0 to {MAX_INVITE_DAYS}"
    if days <= 0 or days > MAX_INVITE_DAYS:
        return (f"days must be more than 0 and at most {MAX_INVITE_DAYS} (an invite cannot outlive a month), "
                f"got {days:g}")
    return None


def invite_uses_problem(uses: int) -> str | None:
    if not isinstance(uses, int) or isinstance(uses, bool) or not 1 <= uses <= MAX_INVITE_USES:
        return f"uses must be a whole number from 1 to {MAX_INVITE_USES}, got {uses!r}"
    return None
