"""Reading and validating catalog import files (JSON array or CSV), without touching storage.

Validation collects every problem before anything is written, so an import either
takes the whole file or nothing, and the integrator sees all mistakes at once.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json

from .media import (
    IMPORT_FIELDS,
    INT_FIELDS,
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
)

# Large enough for any real dimension or a multi-day recording, small enough for BIGINT/INT columns.
_INT_LIMITS = {"duration_ms": 2**53 - 1}
_DEFAULT_INT_LIMIT = 2**31 - 1
_TEXT_MAX = 2000
_CAPTION_TRACKS_MAX = 50
_CAPTION_LABEL_MAX = 200
_CAPTION_KEYS = ("src", "srclang", "label", "kind", "default")
# Stands in a CSV row's dict for cells beyond the header, so validation can name the row.
EXTRA_CELLS = "(cells beyond the header)"


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


def read_catalog_file(name: str, data: bytes) -> list[dict]:
    """Parse the raw bytes of an import file into a list of row dicts.

    The format follows the file extension: ``.csv`` is CSV, anything else JSON.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogFileError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if name.lower().endswith(".csv"):
        return _read_csv(name, text)
    return _read_json(name, text)


def _read_json(name: str, text: str) -> list[dict]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogFileError(f"{name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(value, list):
        raise CatalogFileError(f"{name}: expected a JSON array of media objects, got {type(value).__name__}")
    return value


def _read_csv(name: str, text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise CatalogFileError(f"{name}: empty CSV file (a header row is required)")
    rows = []
    for record in reader:
        if None in record:
            # DictReader files surplus cells under the None key.
            record = {k: v for k, v in record.items() if k is not None} | {EXTRA_CELLS: "x"}
        # An empty CSV cell means "no value"; JSON says that with null or by leaving the key out.
        rows.append({k: (v if v != "" else None) for k, v in record.items()})
    return rows


def validate_rows(rows: list) -> tuple[list[MediaItem], list[RowProblem]]:
    """Turn raw rows into media items; any problem anywhere means no items are returned."""
    items: list[MediaItem] = []
    problems: list[RowProblem] = []
    first_row_of: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        item, row_problems = _validate_row(number, row)
        problems.extend(row_problems)
        if item is None:
            continue
        if item.external_id in first_row_of:
            problems.append(RowProblem(number, "external_id",
                                       f"duplicate of row {first_row_of[item.external_id]} ({item.external_id!r})"))
            continue
        first_row_of[item.external_id] = number
        items.append(item)
    return ([] if problems else items), problems


def _validate_row(number: int, row) -> tuple[MediaItem | None, list[RowProblem]]:
    if not isinstance(row, dict):
        return None, [RowProblem(number, None, f"expected an object, got {type(row).__name__}")]
    problems = [RowProblem(number, None, "has more cells than the header has columns") if key == EXTRA_CELLS
                else RowProblem(number, key, "unknown field (allowed: " + ", ".join(IMPORT_FIELDS) + ")")
                for key in row if key not in IMPORT_FIELDS]
    values: dict = {}
    for field in IMPORT_FIELDS:
        raw = row.get(field)
        if raw is None:
            if field in REQUIRED_FIELDS:
                problems.append(RowProblem(number, field, "is required"))
            continue
        value, message = _convert(field, raw)
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
    if problems:
        return None, problems
    return MediaItem(**values), []


def _convert(field: str, raw):
    if field in INT_FIELDS:
        return _convert_int(field, raw)
    if field == "captions":
        return _convert_captions(raw)
    if not isinstance(raw, str):
        return None, f"expected text, got {type(raw).__name__}"
    value = raw.strip()
    if field == "media_type":
        try:
            return MediaType(value.upper()), None
        except ValueError:
            return None, f"{raw!r} is not one of " + ", ".join(t.value for t in MediaType)
    if field == "visibility":
        try:
            return Visibility(value.lower()), None
        except ValueError:
            return None, f"{raw!r} is not one of " + ", ".join(v.value for v in Visibility)
    if field == "external_id":
        return _check_external_id(value)
    if not value:
        return (None, "must not be empty") if field in REQUIRED_FIELDS else (None, None)
    if len(value) > _TEXT_MAX:
        return None, f"longer than {_TEXT_MAX} characters"
    if field in URL_FIELDS and not is_absolute_http_url(value):
        return None, f"{raw!r} is not an absolute http(s) URL"
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        return None, "contains control characters"
    return value, None


def _convert_int(field: str, raw):
    if isinstance(raw, bool):
        return None, f"expected a whole number, got {raw!r}"
    if isinstance(raw, str):
        try:
            raw = int(raw.strip())
        except ValueError:
            return None, f"{raw!r} is not a whole number"
    elif isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if not isinstance(raw, int):
        return None, f"expected a whole number, got {raw!r}"
    limit = _INT_LIMITS.get(field, _DEFAULT_INT_LIMIT)
    if field == "duration_ms":
        if raw < 0 or raw > limit:
            return None, f"{raw} is outside 0..{limit}"
    elif raw <= 0 or raw > limit:
        return None, f"{raw} is outside 1..{limit}"
    return raw, None


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
    tracks, messages = [], []
    for position, entry in enumerate(raw, start=1):
        track, message = _caption_track(entry)
        if message:
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


def _check_external_id(value: str):
    problem = external_id_problem(value)
    return (None, problem) if problem else (value, None)
