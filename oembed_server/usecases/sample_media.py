"""The sample media that ship with the project, so a fresh checkout has something to embed."""
from __future__ import annotations

import json

from oembed_server.package_data import SAMPLE_CATALOG
from oembed_server.storage.catalog_store import CatalogStore, UpsertReport
from oembed_server.usecases.catalog_import import import_catalog


def sample_rows(public_url: str) -> list[dict]:
    # The files are served by this app, so their URLs follow wherever it is published.
    text = SAMPLE_CATALOG.read_text("utf-8")
    return json.loads(text.replace("{public_url}", public_url))


def load_sample_media(store: CatalogStore, public_url: str) -> UpsertReport:
    problems: list = []
    outcome = import_catalog(store, sample_rows(public_url), problems.append)
    if outcome.report is None:  # a packaging mistake, not user input
        raise RuntimeError("sample catalog is invalid: " + "; ".join(map(str, problems)))
    return outcome.report
