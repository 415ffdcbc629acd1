"""The PostgreSQL-kept rate budget: two limiters (as two worker processes would hold) spend
one window between them, and HubSpot's "window spent" header holds both."""
from __future__ import annotations

import pytest

from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.storage.shared_rate_budget import SharedRateLimiter


class WouldWait(Exception):
    pass


def refuse_to_sleep(seconds: float) -> None:
    raise WouldWait(seconds)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_processes_share_one_window_and_one_block(database_url):
    store = CatalogStore.from_url(database_url)
    # A 30 s window: long enough that no test machine's slowness reopens it mid-test.
    first, second = (SharedRateLimiter(store.engine, 3, 30.0, sleep=refuse_to_sleep) for _ in range(2))
    for limiter in (first, second, first):
        assert limiter.acquire("portal:1") == 0.0
        limiter.observe("portal:1", {"X-HubSpot-RateLimit-Remaining": "5"})
    assert second.acquire("portal:2") == 0.0  # another portal, its own budget
    second.observe("portal:2", {})
    # The window of portal:1 is full across both: the next slot waits for it to reopen.
    with pytest.raises(WouldWait) as wait:
        second.acquire("portal:1")
    assert 0 < wait.value.args[0] <= 30.0
    # HubSpot says portal:2's window is spent, and our one slot there does not explain it
    # (another app process, a script): both limiters hold back for the window it names.
    first.observe("portal:2", {"X-HubSpot-RateLimit-Remaining": "0",
                               "X-HubSpot-RateLimit-Interval-Milliseconds": "20000"})
    with pytest.raises(WouldWait) as wait:
        second.acquire("portal:2")
    assert 10.0 < wait.value.args[0] <= 20.0
    store.dispose()


def test_sqlite_is_refused(sqlite_url):
    store = CatalogStore.from_url(sqlite_url)
    with pytest.raises(ValueError, match="PostgreSQL"):
        SharedRateLimiter(store.engine)
    store.dispose()
