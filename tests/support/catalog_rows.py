"""Test shorthands over the streamed import: whole files and row lists in one call."""
from __future__ import annotations

import io

from oembed_server.usecases.catalog_import import read_catalog_rows, validate_row

# A video row and two caption tracks, as a catalog file gives them.
VIDEO = {"external_id": "talk", "media_type": "VIDEO", "title": "Talk",
         "file_url": "https://cdn.example.com/talk.webm"}
EN = {"src": "https://cdn.example.com/talk.en.vtt", "srclang": "en", "label": "English", "default": True}
PT = {"src": "https://subs.example.org/talk.pt-BR.vtt", "srclang": "pt-BR", "label": "Português",
      "kind": "captions"}


def read_catalog_file(name: str, data: bytes) -> list:
    return list(read_catalog_rows(name, io.BytesIO(data)))


def validate_rows(rows) -> tuple[list, list]:
    """(valid items, problems of every row), rows numbered from 1 as the import does."""
    items, problems = [], []
    for number, row in enumerate(rows, start=1):
        item, row_problems = validate_row(number, row)
        problems += row_problems
        if item is not None:
            items.append(item)
    return items, problems
