"""The app's one RefusalTally (storage.refusal_tally): intake refusals by reason, counted
in memory and added to the database at most once per flush period."""
from __future__ import annotations

from flask import current_app

from oembed_server.storage.refusal_tally import RefusalTally
from oembed_server.web.app_state import app_owned, current_catalog


def count_refusal(reason: str) -> None:
    tally = app_owned("intake_refusal_tally", lambda: RefusalTally(
        current_catalog().engine, current_app.config.get("REFUSAL_FLUSH_EVERY_S", 5.0)))
    tally.count(reason)
