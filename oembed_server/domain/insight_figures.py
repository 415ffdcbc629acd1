"""What the insights pages say about an item's plays, as plain data: totals, plays per
day, and attention over the media's timeline, plus the bar geometry of the SVG charts.

Pure: the play-session rows come in (``sessions.media_insights_rows``), numbers and shapes
go out; the templates only draw them. Refuses nothing: no plays is an empty chart.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from oembed_server.domain.attention_spans import percent_played, seconds_played

PER_DAY_DAYS = 30
CHART_WIDTH = 640
CHART_HEIGHT = 160
_AXIS_SPACE = 24  # below the bars, for the axis labels


@dataclasses.dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclasses.dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    max_value: int
    axis_labels: tuple[tuple[float, str], ...]  # (x, text) under the bars
    summary: str  # what a screen reader hears for the whole chart


@dataclasses.dataclass(frozen=True)
class MediaInsights:
    plays: int
    unique_contacts: int
    average_percent_played: float | None
    per_day: BarChart
    attention: BarChart
    sessions_charted: int


def bar_chart(values: Sequence[int], labels: Sequence[str], axis_labels: Sequence[tuple[int, str]],
              summary: str, width: int = CHART_WIDTH, height: int = CHART_HEIGHT) -> BarChart:
    """Bars side by side filling ``width``; ``axis_labels`` name some bar positions."""
    plot_height = height - _AXIS_SPACE
    top = max(values, default=0)
    slot = width / max(1, len(values))
    gap = min(2.0, slot * 0.2)
    bars = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        bar_height = plot_height * value / top if top else 0.0
        bars.append(Bar(x=round(index * slot + gap / 2, 2), y=round(plot_height - bar_height, 2),
                        width=round(slot - gap, 2), height=round(bar_height, 2), value=value, label=label))
    axis = tuple((round(index * slot + slot / 2, 2), text) for index, text in axis_labels)
    return BarChart(width, height, tuple(bars), top, axis, summary)


def per_day_chart(counts: Mapping[str, int], today: date, days: int = PER_DAY_DAYS) -> BarChart:
    span = [today - timedelta(days=days - 1 - n) for n in range(days)]
    values = [counts.get(day.isoformat(), 0) for day in span]
    labels = [f"{day.isoformat()}: {value} play{'' if value == 1 else 's'}"
              for day, value in zip(span, values, strict=True)]
    axis = [(0, span[0].strftime("%b %d")), (days - 1, span[-1].strftime("%b %d"))]
    return bar_chart(values, labels, axis, f"Plays per day over the last {days} days: {sum(values)} in all")


def attention_chart(spans: Sequence[int], span_seconds: float, duration_seconds: float | None,
                    what: str = "Plays") -> BarChart:
    labels = [f"{clock(i * span_seconds)}–{clock(min((i + 1) * span_seconds, duration_seconds or 1e12))}: "
              f"{count} play{'' if count == 1 else 's'}" for i, count in enumerate(spans)]
    end = duration_seconds or len(spans) * span_seconds
    axis = [(0, "0:00"), (len(spans) - 1, clock(end))] if spans else []
    if len(spans) > 2:
        axis.insert(1, ((len(spans) - 1) // 2, clock(end / 2)))
    played = sum(1 for c in spans if c > 0)
    summary = (f"{what} of each part of the media's {clock(end)} timeline: "
               f"{played} of {len(spans)} parts played at least once") if spans else "Nothing played yet"
    return bar_chart(list(spans), labels, axis, summary)


def combine_attention(rows: Iterable[Mapping[str, Any]]) -> tuple[list[int], float, float | None, int]:
    """Sums sessions' span counts on one timeline: the layout of the newest session;
    sessions cut differently (another duration) are mapped by position."""
    total: list[int] | None = None
    span_seconds, duration, charted = 1.0, None, 0
    for row in rows:  # newest first
        spans = json.loads(row["spans"]) if row.get("spans") else None
        if not spans:
            continue
        if total is None:
            total = [0] * len(spans)
            span_seconds, duration = row["span_seconds"], row["duration_seconds"]
        for index, count in enumerate(spans):
            total[index * len(total) // len(spans)] += count
        charted += 1
    return total or [], span_seconds, duration, charted


def media_insights(summary: Mapping[str, Any], per_day: Mapping[str, int], attention_rows: Iterable[Mapping[str, Any]],
                   today: date) -> MediaInsights:
    spans, span_seconds, duration, charted = combine_attention(attention_rows)
    average = summary.get("average_percent")
    return MediaInsights(
        plays=summary.get("plays", 0),
        unique_contacts=summary.get("unique_contacts", 0),
        average_percent_played=None if average is None else round(float(average), 1),
        per_day=per_day_chart(per_day, today),
        attention=attention_chart(spans, span_seconds, duration),
        sessions_charted=charted,
    )


def session_facts(row: Mapping[str, Any]) -> dict[str, Any]:
    """One session's numbers for its page."""
    spans = json.loads(row["spans"]) if row.get("spans") else []
    return {
        "percent_played": round(percent_played(spans), 1) if spans else None,
        "seconds_played": seconds_played(spans, row["span_seconds"], row["duration_seconds"]) if spans else None,
        "chart": attention_chart(spans, row.get("span_seconds") or 1.0, row.get("duration_seconds"), "Play count")
        if spans else None,
    }


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
