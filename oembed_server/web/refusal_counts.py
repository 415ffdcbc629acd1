"""The app's one RefusalTally (storage.refusal_tally): intake refusals by reason, counted
in memory and added to the database at most once per flush period."""
from __future__ import annotations

from flask import current_app

from oembed_server.storage.refusal_tally import RefusalTally
from oembed_server.web.app_state import current_catalog


def count_refusal(reason: str) -> None:
    tally = current_app.extensions.get("intake_refusal_tally")
    if tally is None:
        tally = current_app.extensions.setdefault(
            "intake_refusal_tally",
            RefusalTally(current_catalog().engine, current_app.config.get("REFUSAL_FLUSH_EVERY_S", 5.0)))
    tally.count(reason)
