"""WebVTT caption text to a readable transcript: cues with start times, no markup.

Pure text processing, no I/O. Follows the WebVTT cue syntax closely enough for captions
as editors write them (headers, NOTE/STYLE/REGION blocks, cue ids, cue settings, voice
and styling tags); refuses a file that does not start with the WEBVTT signature.
"""
from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterator

_SIGNATURE_RE = re.compile(r"\AWEBVTT(?:[ \t].*)?\Z")
# hh:mm:ss.ttt or mm:ss.ttt, then the end time and optional cue settings.
_TIMING_RE = re.compile(r"\s*(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})\s+-->\s+\S+")
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]*)>")
_TAG_RE = re.compile(r"</?[^>]*>")


class WebVTTError(ValueError):
    """The text is not a WebVTT file."""


@dataclasses.dataclass(frozen=True)
class Cue:
    start_seconds: float
    text: str
    speaker: str | None = None


def parse_cues(text: str) -> list[Cue]:
    """The cues of a WebVTT file in file order, their text with markup removed."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not _SIGNATURE_RE.match(lines[0]):
        raise WebVTTError("not a WebVTT file (the first line must be WEBVTT)")
    cues = []
    for block in _blocks(lines[1:]):
        timing_at = next((i for i, line in enumerate(block[:2]) if "-->" in line), None)
        if timing_at is None:
            continue  # the header's metadata, NOTE, STYLE and REGION blocks carry no cue
        match = _TIMING_RE.match(block[timing_at])
        if not match:
            continue
        hours, minutes, seconds, millis = match.groups()
        start = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000
        cue = _cue(start, block[timing_at + 1:])
        if cue.text:
            cues.append(cue)
    return cues


def format_timestamp(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _blocks(lines: list[str]) -> Iterator[list[str]]:
    block: list[str] = []
    for line in lines:
        if line.strip():
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def _cue(start: float, payload: list[str]) -> Cue:
    raw = " ".join(line.strip() for line in payload)
    voice = _VOICE_RE.search(raw)
    text = html.unescape(_TAG_RE.sub("", raw))
    # Directional marks and no-break spaces help rendering over video, not reading.
    text = " ".join(text.replace("\u200e", "").replace("\u200f", "").split())
    return Cue(start, text, html.unescape(voice.group(1)).strip() or None if voice else None)
