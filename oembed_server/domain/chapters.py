"""Chapters of a timed item: the catalog's ``chapters`` key checked, and what is built from
it (the ``kind="chapters"`` WebVTT file, the player's menu, the media page's links and the
structured data's ``Clip`` parts). Pure rules, no I/O.

One source of truth: the catalog stores the chapters' starts and titles; each chapter ends
where the next begins and the last at the item's duration, so the cues lie end to end and
never overlap (the WebVTT chapter file rules, webvtt-chapters.md).
"""
from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from oembed_server.domain.media_seconds import plain_seconds, seconds_value
from oembed_server.domain.webvtt import WebVTTError, parse_cues

CHAPTERS_MAX = 100
CHAPTER_TITLE_MAX = 200
_CHAPTER_KEYS = ("start", "title")
# Line breaks would end a cue's payload; "-->" would read as a timing line.
_TITLE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]|-->")
CHAPTERS_FILE_PREFIX = "/static/"


class ChaptersError(ValueError):
    """The chapters cannot be used; the message says which one and why."""


@dataclasses.dataclass(frozen=True)
class Chapter:
    start: float  # seconds from the beginning, to the millisecond
    title: str

    def plain(self) -> dict[str, Any]:
        return {"start": plain_seconds(self.start), "title": self.title}


@dataclasses.dataclass(frozen=True)
class ChapterSpan:
    start: float
    end: float
    title: str


def check_chapters(raw: object, duration_ms: int | None) -> tuple[Chapter, ...]:
    """The chapters of a catalog list ``[{"start": s, "title": "..."}]``: starts ascending,
    each within the item's duration (which must be known), titles plain one-line text."""
    if not isinstance(raw, list):
        raise ChaptersError(f"expected a list of chapters or a WebVTT file URL, got {type(raw).__name__}")
    entries = []
    for position, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise ChaptersError(f"chapter {position}: expected an object, got {type(entry).__name__}")
        if unknown := [key for key in entry if key not in _CHAPTER_KEYS]:
            raise ChaptersError(f"chapter {position}: unknown key {unknown[0]!r} (allowed: start, title)")
        entries.append((entry.get("start"), entry.get("title")))
    return chapters_from_pairs(entries, duration_ms)


def chapters_from_pairs(entries: Sequence[tuple[object, object]], duration_ms: int | None) -> tuple[Chapter, ...]:
    """(start, title) pairs as chapters, by the same rules as ``check_chapters``."""
    if not entries:
        raise ChaptersError("must list at least one chapter (leave the key out for none)")
    if len(entries) > CHAPTERS_MAX:
        raise ChaptersError(f"more than {CHAPTERS_MAX} chapters")
    if not duration_ms:
        raise ChaptersError("need the item's duration_ms, which chapters must lie within")
    duration = duration_ms / 1000
    chapters: list[Chapter] = []
    for position, (start, title) in enumerate(entries, start=1):
        where = f"chapter {position}"
        seconds = seconds_value(start)
        if seconds is None:
            raise ChaptersError(f"{where}: start must be a number of seconds, got {start!r}")
        if seconds >= duration:
            raise ChaptersError(f"{where}: start {plain_seconds(seconds)} is not within the duration "
                                f"({plain_seconds(duration)} s)")
        if chapters and seconds <= chapters[-1].start:
            raise ChaptersError(f"{where}: start {plain_seconds(seconds)} is not after chapter {position - 1}'s "
                                f"({plain_seconds(chapters[-1].start)})")
        if not isinstance(title, str) or not title.strip():
            raise ChaptersError(f"{where}: title must be non-empty text")
        title = title.strip()
        if len(title) > CHAPTER_TITLE_MAX:
            raise ChaptersError(f"{where}: title is longer than {CHAPTER_TITLE_MAX} characters")
        if _TITLE_FORBIDDEN.search(title):
            raise ChaptersError(f"{where}: title may not contain line breaks, control characters or '-->'")
        chapters.append(Chapter(seconds, title))
    return tuple(chapters)


def chapters_file_path(url: str) -> str | None:
    """The path under our static files that a chapters file URL names (``/static/x.vtt`` or an
    absolute http(s) URL with that path), or None when it names no such file."""
    if not isinstance(url, str) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("", "http", "https") or bool(parts.scheme) != bool(parts.netloc):
        return None
    path = unquote(parts.path)
    if not path.startswith(CHAPTERS_FILE_PREFIX) or not path.lower().endswith(".vtt"):
        return None
    relative = path[len(CHAPTERS_FILE_PREFIX):]
    if any(segment in ("", ".", "..") for segment in relative.split("/")) or "\\" in relative:
        return None
    return relative


def chapters_from_vtt(text: str, duration_ms: int | None) -> tuple[Chapter, ...]:
    """The chapters of a WebVTT chapters file: each cue's start and title text."""
    try:
        cues = parse_cues(text)
    except WebVTTError as exc:
        raise ChaptersError(str(exc)) from None
    return chapters_from_pairs([(cue.start_seconds, cue.text) for cue in cues], duration_ms)


def chapter_spans(chapters: Sequence[Chapter], duration_ms: int | None) -> list[ChapterSpan]:
    """Each chapter with its end: the next one's start, the last one's the item's duration."""
    end_of_all = (duration_ms or 0) / 1000
    spans = []
    for index, chapter in enumerate(chapters):
        end = chapters[index + 1].start if index + 1 < len(chapters) else max(end_of_all, chapter.start + 0.001)
        spans.append(ChapterSpan(chapter.start, end, chapter.title))
    return spans


def vtt_timestamp(seconds: float) -> str:
    """``hh:mm:ss.ttt``, hours always written (WebVTT allows it; it keeps long files uniform)."""
    millis = round(seconds * 1000)
    whole, millis = divmod(millis, 1000)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def chapters_vtt(chapters: Sequence[Chapter], duration_ms: int | None) -> str:
    """The ``<track kind="chapters">`` file: WEBVTT, then one cue per chapter with its id."""
    blocks = ["WEBVTT"]
    for number, span in enumerate(chapter_spans(chapters, duration_ms), start=1):
        # Titles are chapter title text: plain, with & and < as character references.
        title = html.escape(span.title, quote=False)
        blocks.append(f"chapter-{number}\n{vtt_timestamp(span.start)} --> {vtt_timestamp(span.end)}\n{title}")
    return "\n\n".join(blocks) + "\n"


def chapters_json(chapters: tuple[Chapter, ...]) -> str | None:
    """Chapters as the catalog stores them: canonical JSON text, None when there are none."""
    if not chapters:
        return None
    return json.dumps([c.plain() for c in chapters], sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chapters_from_json(value: Any) -> tuple[Chapter, ...]:
    if isinstance(value, str):
        value = json.loads(value)
    return tuple(Chapter(float(entry["start"]), entry["title"]) for entry in value or ())


def clock(seconds: float) -> str:
    """How a chapter's start reads on the media page: ``1:35`` or ``1:02:03``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def start_parameter(seconds: float) -> str:
    """The ``start=`` value that opens the player at ``seconds`` (the player's own syntax)."""
    return str(plain_seconds(seconds))


