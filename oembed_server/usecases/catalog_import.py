"""Catalog import files (a JSON array or CSV): read one row at a time, check each row, and
hand the good ones to the store's staged upsert, so memory stays flat in the file's size.

All or nothing: every row is checked (and every problem reported with its row number)
before the staged rows are applied, in the one transaction the store holds open. Refused:
text that is not UTF-8, a top level other than an array, rows that are not objects,
unknown, missing, repeated or malformed fields, an external_id used twice, and files the
readers cannot take (JSON nested beyond the parser's depth, a CSV cell past the csv
module's field limit, a repeated CSV column).
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from oembed_server.domain.calls_to_action import CallsToActionError, check_ctas
from oembed_server.domain.chapters import ChaptersError, chapters_file_path, chapters_from_vtt, check_chapters
from oembed_server.domain.lead_gates import at_problem, parse_gate
from oembed_server.domain.media import (
    IMPORT_FIELDS,
    INT_FIELDS,
    MEDIA_DESCRIPTION_MAX,
    PLAYER_ONLY_FIELDS,
    REQUIRED_FIELDS,
    URL_FIELDS,
    CaptionKind,
    CaptionTrack,
    MediaItem,
    MediaType,
    Visibility,
    external_id_problem,
    is_absolute_http_url,
    is_language_tag,
    library_problem,
    url_character_problem,
)
from oembed_server.domain.whole_numbers import parse_whole_number
from oembed_server.package_data import WEB_STATIC_DIR
from oembed_server.storage.catalog_store import CatalogStore, UpsertReport

# Large enough for any real dimension or a multi-day recording, small enough for BIGINT/INT columns.
_INT_LIMITS = {"duration_ms": 2**53 - 1}
_DEFAULT_INT_LIMIT = 2**31 - 1
_TEXT_MAX = 2000
# Text fields with their own bound; every other one has _TEXT_MAX.
_TEXT_LIMITS = {"description": MEDIA_DESCRIPTION_MAX}
_INT_BOUNDS = {field: (0 if field == "duration_ms" else 1, _INT_LIMITS.get(field, _DEFAULT_INT_LIMIT))
               for field in INT_FIELDS}
_KNOWN_FIELDS = frozenset(IMPORT_FIELDS)
_CAPTION_TRACKS_MAX = 50
_CAPTION_LABEL_MAX = 200
_CAPTION_KEYS = ("src", "srclang", "label", "kind", "default")
# Stands in a CSV row's dict for cells beyond the header, so validation can name the row.
EXTRA_CELLS = "(cells beyond the header)"
# How much text the JSON reader holds at once, and how long one row may be: a valid row
# is far shorter (16 fields of at most 2000 characters), so this only bounds bad files.
_CHUNK_CHARS = 1 << 20
_ROW_MAX_CHARS = 8 << 20
_JSON_WHITESPACE = re.compile(r"[ \t\n\r]*")
# Control characters other than tab and line breaks, which titles may carry.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclasses.dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based position of the object in the array, or CSV data row number
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


class CatalogFileError(ValueError):
    """The file as a whole could not be read (bad JSON, wrong top-level shape...)."""


@dataclasses.dataclass(frozen=True)
class ImportOutcome:
    rows: int
    problems: int
    report: UpsertReport | None  # None: something was wrong, nothing was imported


def import_catalog(store: CatalogStore, rows: Iterable,
                   on_problem: Callable[[RowProblem], None]) -> ImportOutcome:
    """Check every row and upsert them all in one transaction, or none of them.

    Problems go to ``on_problem`` as they are found (those of single rows in row order,
    then repeated external ids), so a file with millions of bad rows needs no list of them.
    A CatalogFileError or a database error from the middle of the file imports nothing.
    """
    problems = 0
    count = 0
    with store.staged_upsert() as staged:
        for count, row in enumerate(rows, start=1):
            item, row_problems = validate_row(count, row)
            for problem in row_problems:
                on_problem(problem)
            problems += len(row_problems)
            if item is not None:
                # Staged even after a problem elsewhere, so repeated ids are all reported.
                staged.add(count, item)
        for row, first, external_id in staged.repeated_ids():
            on_problem(RowProblem(row, "external_id", f"duplicate of row {first} ({external_id!r})"))
            problems += 1
        if problems:
            return ImportOutcome(count, problems, None)
        return ImportOutcome(count, 0, staged.apply())


# --- reading --------------------------------------------------------------------------
def read_catalog_rows(name: str, stream: BinaryIO) -> Iterator:
    """The rows of an import file, one at a time, from a binary stream.

    The format follows the file extension: ``.csv`` is CSV, anything else JSON. A
    CatalogFileError may come at any point of the iteration, naming where the file broke.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = _csv_rows(name, text) if name.lower().endswith(".csv") else _JsonArrayRows(name, text)
    try:
        yield from reader
    except UnicodeDecodeError as exc:
        raise CatalogFileError(f"{name}: not UTF-8 text ({exc.reason})") from None


def _csv_rows(name: str, text) -> Iterator[dict]:
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if not header:
            raise CatalogFileError(f"{name}: empty CSV file (a header row is required)")
        seen: set[str] = set()
        for column in header:
            if column in seen:
                raise CatalogFileError(f"{name}: header row: column {column!r} appears more than once")
            seen.add(column)
        width = len(header)
        for cells in reader:
            if not cells:
                continue  # a blank line, as csv.DictReader skips them
            # An empty CSV cell means "no value"; JSON says that with null or by leaving the key out.
            # A short row leaves its last columns out; a long one is marked just below.
            row = {column: cell or None for column, cell in zip(header, cells, strict=False)}
            if len(cells) > width:
                row[EXTRA_CELLS] = "x"
            yield row
    except csv.Error as exc:
        message = str(exc)
        if "field larger than field limit" in message:
            message = f"a cell is longer than {csv.field_size_limit()} characters"
        raise CatalogFileError(f"{name}: line {reader.line_num}: {message}") from None


class _JsonArrayRows:
    """The elements of a top-level JSON array, decoded one at a time by the json module's
    C scanner from a window of the text, so only about one chunk is held at once."""

    def __init__(self, name: str, text):
        self.name = name
        self.text = text
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # line number and column of buffer[0]
        self.column = 1
        self.decoder = json.JSONDecoder(object_pairs_hook=_json_object, parse_constant=_refuse_constant)

    def __iter__(self) -> Iterator:
        first = self._peek()
        if not first:
            raise CatalogFileError(f"{self.name}: empty file (expected a JSON array of media objects)")
        if first in _TOP_LEVEL and self.buffer.startswith(_TOP_LEVEL_START.get(first, first), self.pos):
            raise CatalogFileError(f"{self.name}: expected a JSON array of media objects, got {_TOP_LEVEL[first]}")
        if first != "[":
            self._fail(self.pos, "Expecting value")
        self.pos += 1
        if self._peek() == "]":
            self.pos += 1
        else:
            number = 0
            while True:
                number += 1
                yield self._value(number)
                after = self._peek()
                self.pos += 1
                if after == "]":
                    break
                if after != ",":
                    self._fail(self.pos - 1, "Expecting ',' delimiter")
        if self._peek():
            self._fail(self.pos, "Extra data")

    def _value(self, number: int):
        self._peek()  # raw_decode does not skip leading whitespace
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if self._read_more_for_row():
                    continue  # the row may go on in the next chunk
                if len(self.buffer) - self.pos >= _ROW_MAX_CHARS:
                    raise CatalogFileError(f"{self.name}: row {number} is longer than {_ROW_MAX_CHARS} "
                                           "characters or not valid JSON") from None
                self._fail(exc.pos, exc.msg)
            except RecursionError:
                raise CatalogFileError(f"{self.name}: row {number}: nested too deeply to read") from None
            except _NotJson as exc:
                raise CatalogFileError(f"{self.name}: row {number}: {exc}") from None
            except ValueError:  # int() refuses literals past 4300 digits
                raise CatalogFileError(f"{self.name}: row {number}: a number too long to read") from None
            if end == len(self.buffer) and self._read_more_for_row():
                continue  # a number at the very end of the chunk may go on in the next one
            self.pos = end
            return value

    def _read_more_for_row(self) -> bool:
        return len(self.buffer) - self.pos < _ROW_MAX_CHARS and self._read_more()

    def _peek(self) -> str:
        """The next character that is not whitespace ('' at the end of the file)."""
        while True:
            blank = _JSON_WHITESPACE.match(self.buffer, self.pos)
            assert blank is not None  # the pattern also matches no whitespace at all
            self.pos = blank.end()
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._read_more():
                return ""

    def _read_more(self) -> bool:
        if self.eof:
            return False
        chunk = self.text.read(_CHUNK_CHARS)
        if not chunk:
            self.eof = True
            return False
        done = self.buffer[:self.pos]
        newlines = done.count("\n")
        if newlines:
            self.line += newlines
            self.column = len(done) - done.rfind("\n")
        else:
            self.column += len(done)
        self.buffer = self.buffer[self.pos:] + chunk
        self.pos = 0
        return True

    def _fail(self, pos: int, message: str):
        newlines = self.buffer.count("\n", 0, pos)
        line = self.line + newlines
        column = pos - self.buffer.rfind("\n", 0, pos) if newlines else self.column + pos
        raise CatalogFileError(f"{self.name}: invalid JSON at line {line} column {column}: {message}")


_TOP_LEVEL = {"{": "an object", '"': "a string", "t": "a boolean", "f": "a boolean", "n": "null",
              "-": "a number", **{d: "a number" for d in "0123456789"}}
_TOP_LEVEL_START = {"t": "true", "f": "false", "n": "null"}


class _RepeatedKeys(dict):
    """A JSON object that named some key more than once (the json module keeps the last)."""
    repeated: tuple[str, ...] = ()


def _json_object(pairs: list) -> dict:
    row = dict(pairs)
    if len(row) == len(pairs):
        return row
    seen: set[object] = set()
    repeated = []
    for key, _ in pairs:
        if key in seen:
            repeated.append(key)
        seen.add(key)
    marked = _RepeatedKeys(row)
    marked.repeated = tuple(dict.fromkeys(repeated))
    return marked


class _NotJson(ValueError):
    """Python's json module reads NaN and Infinity; JSON has no such values."""


def _refuse_constant(name: str):
    raise _NotJson(f"{name} is not a JSON value")


# --- checking -------------------------------------------------------------------------
def validate_row(number: int, row) -> tuple[MediaItem | None, list[RowProblem]]:
    """One raw row as a media item, or the problems that keep it from being one."""
    if not isinstance(row, dict):
        return None, [RowProblem(number, None, f"expected an object, got {_json_type(row)}")]
    problems = [RowProblem(number, None, "has more cells than the header has columns") if key == EXTRA_CELLS
                else RowProblem(number, key, "unknown field (allowed: " + ", ".join(IMPORT_FIELDS) + ")")
                for key in row if key not in _KNOWN_FIELDS]
    problems += [RowProblem(number, key, "is given more than once") for key in getattr(row, "repeated", ())]
    values: dict = {}
    for field, convert in _CONVERTERS:
        raw = row.get(field)
        if raw is None:
            if field in REQUIRED_FIELDS:
                problems.append(RowProblem(number, field, "is required"))
            continue
        value, message = convert(field, raw)
        if message:
            problems.append(RowProblem(number, field, message))
        else:
            values[field] = value
    if values.get("media_type") is MediaType.IMAGE and "file_url" not in values and "file_url" not in {
            p.field for p in problems}:
        # HubSpot requires hs_file_url on IMAGE media objects.
        problems.append(RowProblem(number, "file_url", "is required for IMAGE media"))
    if values.get("media_type") not in (None, MediaType.VIDEO, MediaType.AUDIO):
        problems += [RowProblem(number, field, "is only for VIDEO and AUDIO media")
                     for field in PLAYER_ONLY_FIELDS if field in values]
    if values.get("media_type") in (MediaType.VIDEO, MediaType.AUDIO):
        problems += _check_timed_lists(number, values)
    if "gate" in values and (problem := at_problem(values["gate"], values.get("duration_ms"))):
        problems.append(RowProblem(number, "gate", problem))
    if problems:
        return None, problems
    return MediaItem(**values), []


def _convert_text(field: str, raw):
    if not isinstance(raw, str):
        return None, f"expected text, got {_json_type(raw)}"
    value = raw.strip()
    if not value:
        return (None, "must not be empty") if field in REQUIRED_FIELDS else (None, None)
    limit = _TEXT_LIMITS.get(field, _TEXT_MAX)
    if len(value) > limit:
        return None, f"longer than {limit} characters"
    if field in URL_FIELDS and (problem := url_character_problem(value)):
        return None, f"{_shorten(raw)!r} {problem}"
    if field in URL_FIELDS and not is_absolute_http_url(value):
        return None, f"{_shorten(raw)!r} is not an absolute http(s) URL"
    if _CONTROL_CHARACTERS.search(value):
        return None, "contains control characters"
    return value, None


def _convert_choice(choices: dict, normalise: Callable[[str], str]):
    def convert(field: str, raw):
        if not isinstance(raw, str):
            return None, f"expected text, got {_json_type(raw)}"
        found = choices.get(normalise(raw.strip()))
        return (found, None) if found else (None, f"{raw!r} is not one of " + ", ".join(choices))
    return convert


def _convert_captions(raw):
    """A list of caption tracks; CSV carries the same list as a JSON text cell."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            return None, f"is not a JSON list of tracks ({exc.msg} at column {exc.colno})"
    if not isinstance(raw, list):
        return None, f"expected a list of tracks, got {type(raw).__name__}"
    if len(raw) > _CAPTION_TRACKS_MAX:
        return None, f"more than {_CAPTION_TRACKS_MAX} tracks"
    tracks: list[CaptionTrack] = []
    messages: list[str] = []
    for position, entry in enumerate(raw, start=1):
        track, message = _caption_track(entry)
        if track is None:  # then message says why
            messages.append(f"track {position}: {message}")
        else:
            tracks.append(track)
    if sum(track.default for track in tracks) > 1:
        # A <video> can show one default track; more would leave the choice to the browser.
        messages.append("more than one track is marked default")
    return (None, "; ".join(messages)) if messages else (tuple(tracks), None)


def _caption_track(entry) -> tuple[CaptionTrack | None, str | None]:
    if not isinstance(entry, dict):
        return None, f"expected an object, got {type(entry).__name__}"
    if unknown := [key for key in entry if key not in _CAPTION_KEYS]:
        return None, f"unknown key {unknown[0]!r} (allowed: " + ", ".join(_CAPTION_KEYS) + ")"
    src, srclang, label = entry.get("src"), entry.get("srclang"), entry.get("label")
    kind, default = entry.get("kind", CaptionKind.SUBTITLES.value), entry.get("default", False)
    if not isinstance(src, str) or len(src) > _TEXT_MAX or not is_absolute_http_url(src.strip()):
        return None, f"src {src!r} is not an absolute http(s) URL"
    if problem := url_character_problem(src.strip()):
        return None, f"src {src!r} {problem}"
    if not isinstance(srclang, str) or not is_language_tag(srclang.strip()):
        return None, f"srclang {srclang!r} is not a BCP 47 language tag"
    if (not isinstance(label, str) or not label.strip() or len(label) > _CAPTION_LABEL_MAX
            or any(ord(c) < 32 or ord(c) == 127 for c in label)):
        return None, f"label must be text of 1..{_CAPTION_LABEL_MAX} characters without control characters"
    if kind not in [k.value for k in CaptionKind]:
        return None, f"kind {kind!r} is not one of " + ", ".join(k.value for k in CaptionKind)
    if not isinstance(default, bool):
        return None, f"default must be true or false, got {default!r}"
    return CaptionTrack(src.strip(), srclang.strip(), label.strip(), CaptionKind(kind), default), None


@dataclasses.dataclass(frozen=True)
class _TimedList:
    """A chapters or ctas value read but not yet checked: its times need the row's duration."""
    entries: list | None = None
    chapters_file: str | None = None


def _convert_timed_list(field: str, raw):
    """A list of chapters or CTAs (CSV carries it as a JSON text cell); chapters may also be
    the URL of a WebVTT chapters file among our own static files."""
    if isinstance(raw, str):
        if field == "chapters" and not raw.lstrip().startswith("["):
            return _TimedList(chapters_file=raw.strip()), None
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            return None, f"is not a JSON list ({exc.msg} at column {exc.colno})"
    if not isinstance(raw, list):
        wanted = "a list of chapters or a WebVTT file URL" if field == "chapters" else "a list of calls to action"
        return None, f"expected {wanted}, got {_json_type(raw)}"
    return _TimedList(entries=raw), None


def _check_timed_lists(number: int, values: dict) -> list[RowProblem]:
    """Chapters and CTAs checked against the row's duration, replaced in ``values`` by what
    they hold (or removed, with the problem)."""
    problems = []
    duration_ms = values.get("duration_ms")
    for field in ("chapters", "ctas"):
        pending = values.get(field)
        if not isinstance(pending, _TimedList):
            continue
        try:
            if pending.chapters_file is not None:
                values[field] = _chapters_file(pending.chapters_file, duration_ms)
            elif field == "chapters":
                values[field] = check_chapters(pending.entries, duration_ms)
            else:
                values[field] = check_ctas(pending.entries, duration_ms)
        except (ChaptersError, CallsToActionError) as exc:
            del values[field]
            problems.append(RowProblem(number, field, str(exc)))
    return problems


# A chapters file is a few lines per chapter; anything this large is something else.
CHAPTERS_FILE_MAX_BYTES = 256 * 1024


def _chapters_file(url: str, duration_ms: int | None):
    """The chapters of a WebVTT file we serve under /static/, read once at import: only our
    own files, so an import never fetches a URL from elsewhere."""
    relative = chapters_file_path(url)
    if relative is None:
        raise ChaptersError(f"{_shorten(url)!r} is not a WebVTT file (.vtt) among this server's /static/ files")
    text = _static_text(relative)
    if text is None:
        raise ChaptersError(f"{_shorten(url)!r}: no readable UTF-8 file {relative!r} among this server's "
                            f"static files (at most {CHAPTERS_FILE_MAX_BYTES} bytes)")
    try:
        return chapters_from_vtt(text, duration_ms)
    except ChaptersError as exc:
        raise ChaptersError(f"{_shorten(url)!r}: {exc}") from None


def _static_text(relative: str) -> str | None:
    root = WEB_STATIC_DIR.resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        return None  # a symlink out of the static folder
    try:
        if not path.is_file() or path.stat().st_size > CHAPTERS_FILE_MAX_BYTES:
            return None
        return Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _convert_named(problem_of: Callable[[str], str | None]):
    """A text field whose whole value follows one rule of media.py (ids, library names)."""
    def convert(field: str, raw):
        if not isinstance(raw, str):
            return None, f"expected text, got {_json_type(raw)}"
        value = raw.strip()
        problem = problem_of(value)
        return (None, problem) if problem else (value, None)
    return convert


def _convert_int(field: str, raw):
    low, limit = _INT_BOUNDS[field]
    if type(raw) is int:  # the usual case in JSON files, checked first
        number = raw
    elif isinstance(raw, str):
        parsed = parse_whole_number(raw.strip(), limit)
        if parsed is None:
            return None, f"{_shorten(raw)!r} is not a whole number"
        number = parsed
    elif isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    else:
        return None, f"expected a whole number, got {raw!r}"
    if not low <= number <= limit:
        shown = _shorten(str(raw).strip())
        return None, f"{shown} is outside {low}..{limit}"
    return number, None


# How each import field is checked: fields not named here are text (URLs when in URL_FIELDS),
# so a new field in media.IMPORT_FIELDS needs no change in this module.
_SPECIAL_CONVERTERS = {
    "external_id": _convert_named(external_id_problem),
    "media_type": _convert_choice({t.value: t for t in MediaType}, str.upper),
    "visibility": _convert_choice({v.value: v for v in Visibility}, str.lower),
    "library": _convert_named(library_problem),
    "captions": lambda field, raw: _convert_captions(raw),
    "chapters": _convert_timed_list,
    "ctas": _convert_timed_list,
    "gate": lambda field, raw: parse_gate(raw),
}
_CONVERTERS = tuple(
    (field, _convert_int if field in INT_FIELDS else _SPECIAL_CONVERTERS.get(field, _convert_text))
    for field in IMPORT_FIELDS
)


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    names: dict[type, str] = {dict: "an object", _RepeatedKeys: "an object", list: "an array", str: "text"}
    return names.get(type(value), "null")


def _shorten(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "..."
