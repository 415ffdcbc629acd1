"""Following HubSpot's paging cursors without following them forever.

A paged read stops with a HubSpotError when an answer repeats a cursor already followed
(a loop), names a next page after a page without results, repeats an object of the page
before, or asks for more pages than its own ``total`` (or a hard ceiling) allows. Only
cursors and the previous page's ids are kept, so a read of millions of objects stays small."""
from __future__ import annotations

import math
from typing import Any

from oembed_server.hubspot.api_call import ApiCall
from oembed_server.hubspot.api_error import HubSpotError

ENDLESS = "ENDLESS_PAGING"
# 20 million objects at 100 a page: far beyond any catalog this toolkit syncs.
MAX_PAGES = 200_000


class PageFollower:
    def __init__(self, page_size: int, max_pages: int = MAX_PAGES):
        self.page_size = page_size
        self.ceiling = max_pages
        self.max_pages = max_pages
        self.pages = 0
        self._cursors: set[str] = set()
        self._previous_ids: set[str] = set()

    def next_cursor(self, body: dict[str, Any], call: ApiCall, status: int) -> str | None:
        """The cursor of the page after ``body`` (an answer already checked against
        response_shapes.PAGE), or None when it was the last page."""
        self.pages += 1
        ids = {str(o["id"]) for o in body["results"]}
        repeated = ids & self._previous_ids
        if repeated:
            raise self._error(f"page {self.pages} repeats {len(repeated)} object(s) of the page before "
                              f"(e.g. {min(repeated)})", call, status)
        self._previous_ids = ids
        if isinstance(body.get("total"), (int, float)) and self.page_size > 0:
            # One page of slack: objects created while we read move the total.
            self.max_pages = min(self.ceiling, math.ceil(body["total"] / self.page_size) + 1)
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if after is None or after == "":
            return None
        after = str(after)
        if not body["results"]:
            raise self._error(f"page {self.pages} has no results yet names a next page", call, status)
        if after in self._cursors:
            raise self._error(f"the paging cursor {after!r} came back after {self.pages} page(s)", call, status)
        if self.pages >= self.max_pages:
            raise self._error(f"more than {self.max_pages} page(s) for this read", call, status)
        self._cursors.add(after)
        return after

    @staticmethod
    def _error(problem: str, call: ApiCall, status: int) -> HubSpotError:
        return HubSpotError(status, f"HubSpot's paging does not end: {problem}", ENDLESS,
                            method=call.method, path=call.path)
