"""Calls to action over a timed item: the catalog's ``ctas`` key checked, and the keys their
clicks are counted under. Pure rules, no I/O.

A timed CTA shows from ``start`` to ``end`` (seconds); one end-screen CTA (``"start":
"end"``) shows once the item has ended. Timed ones may not overlap, so the overlay shows
one at a time. Links leave the player for the top window, so only https URLs are taken:
an http link would take the viewer off a secure page, and any other scheme (javascript:,
data:) is not a link at all.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from oembed_server.domain.media_seconds import plain_seconds, seconds_value

CTAS_MAX = 20
CTA_TEXT_MAX = 100
CTA_URL_MAX = 2000
END_SCREEN = "end"
_CTA_KEYS = ("start", "end", "text", "url")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class CallsToActionError(ValueError):
    """The CTAs cannot be used; the message says which one and why."""


@dataclasses.dataclass(frozen=True)
class CallToAction:
    start: float | None  # None: the end screen
    end: float | None
    text: str
    url: str

    @property
    def end_screen(self) -> bool:
        return self.start is None

    def plain(self) -> dict[str, Any]:
        if self.start is None:
            return {"start": END_SCREEN, "text": self.text, "url": self.url}
        assert self.end is not None
        return {"start": plain_seconds(self.start), "end": plain_seconds(self.end), "text": self.text, "url": self.url}


def check_ctas(raw: object, duration_ms: int | None) -> tuple[CallToAction, ...]:
    """The CTAs of a catalog list, timed ones ascending and apart, at most one end screen;
    with a known duration, every timed CTA ends within it."""
    if not isinstance(raw, list):
        raise CallsToActionError(f"expected a list of calls to action, got {type(raw).__name__}")
    if not raw:
        raise CallsToActionError("must list at least one call to action (leave the key out for none)")
    if len(raw) > CTAS_MAX:
        raise CallsToActionError(f"more than {CTAS_MAX} calls to action")
    duration = duration_ms / 1000 if duration_ms else None
    ctas: list[CallToAction] = []
    for position, entry in enumerate(raw, start=1):
        cta = _one(f"cta {position}", entry, duration)
        if cta.end_screen and any(c.end_screen for c in ctas):
            raise CallsToActionError(f"cta {position}: only one call to action may be the end screen")
        timed = [c for c in ctas if not c.end_screen]
        if not cta.end_screen and timed:
            before = timed[-1]
            assert cta.start is not None and before.end is not None
            if cta.start < before.end:
                raise CallsToActionError(f"cta {position}: starts at {plain_seconds(cta.start)}, before the previous "
                                         f"timed call to action ends ({plain_seconds(before.end)}); timed ones must "
                                         "be in order and may not overlap")
        ctas.append(cta)
    return tuple(ctas)


def _one(where: str, entry: object, duration: float | None) -> CallToAction:
    if not isinstance(entry, dict):
        raise CallsToActionError(f"{where}: expected an object, got {type(entry).__name__}")
    if unknown := [key for key in entry if key not in _CTA_KEYS]:
        raise CallsToActionError(f"{where}: unknown key {unknown[0]!r} (allowed: " + ", ".join(_CTA_KEYS) + ")")
    text, url = entry.get("text"), entry.get("url")
    if not isinstance(text, str) or not text.strip():
        raise CallsToActionError(f"{where}: text must be non-empty text")
    text = text.strip()
    if len(text) > CTA_TEXT_MAX:
        raise CallsToActionError(f"{where}: text is longer than {CTA_TEXT_MAX} characters")
    if _CONTROL.search(text):
        raise CallsToActionError(f"{where}: text may not contain line breaks or control characters")
    if not is_https_url(url):
        raise CallsToActionError(f"{where}: url {_shorten(url)!r} is not an absolute https URL")
    assert isinstance(url, str)
    start, end = entry.get("start"), entry.get("end")
    if start == END_SCREEN:
        if "end" in entry:
            raise CallsToActionError(f"{where}: an end-screen call to action (start \"end\") has no end")
        return CallToAction(None, None, text, url.strip())
    begin, finish = seconds_value(start), seconds_value(end)
    if begin is None:
        raise CallsToActionError(f"{where}: start must be a number of seconds or \"end\", got {start!r}")
    if finish is None:
        raise CallsToActionError(f"{where}: end must be a number of seconds, got {end!r}")
    if finish <= begin:
        raise CallsToActionError(f"{where}: end {plain_seconds(finish)} is not after start {plain_seconds(begin)}")
    if duration is not None and finish > duration:
        raise CallsToActionError(f"{where}: end {plain_seconds(finish)} is not within the duration "
                                 f"({plain_seconds(duration)} s)")
    return CallToAction(begin, finish, text, url.strip())


def is_https_url(value: object) -> bool:
    if not isinstance(value, str) or len(value) > CTA_URL_MAX:
        return False
    value = value.strip()
    if not value or any(c.isspace() for c in value) or _CONTROL.search(value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname)


def cta_key(ctas: Sequence[CallToAction], index: int) -> str:
    """What a CTA's clicks are counted under: its position among the timed ones (``1``,
    ``2`` ...) or ``end`` for the end screen."""
    cta = ctas[index]
    if cta.end_screen:
        return END_SCREEN
    return str(sum(1 for c in ctas[:index + 1] if not c.end_screen))


def keyed_ctas(ctas: Sequence[CallToAction]) -> list[tuple[str, CallToAction]]:
    return [(cta_key(ctas, index), cta) for index, cta in enumerate(ctas)]


def ctas_json(ctas: tuple[CallToAction, ...]) -> str | None:
    """CTAs as the catalog stores them: canonical JSON text, None when there are none."""
    if not ctas:
        return None
    return json.dumps([c.plain() for c in ctas], sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def ctas_from_json(value: Any) -> tuple[CallToAction, ...]:
    if isinstance(value, str):
        value = json.loads(value)
    result = []
    for entry in value or ():
        if entry["start"] == END_SCREEN:
            result.append(CallToAction(None, None, entry["text"], entry["url"]))
        else:
            result.append(CallToAction(float(entry["start"]), float(entry["end"]), entry["text"], entry["url"]))
    return tuple(result)




def _shorten(value: object, limit: int = 60) -> object:
    return value[:limit] + "..." if isinstance(value, str) and len(value) > limit else value
