"""Provisioning marks are written by every worker that starts: two starting together must
not fail on each other's insert of the same new mark."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from oembed_server.storage.provisioning_marks import StoredPushRecord, get_mark, set_mark


def test_a_mark_is_set_then_replaced(database_url):
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        set_mark(conn, "modules", "v1")
    with engine.begin() as conn:
        set_mark(conn, "modules", "v2")
        assert get_mark(conn, "modules") == "v2"
    records = StoredPushRecord(engine)
    records.put("portal:1/a.html", "aa", 1700000000000)
    records.put("portal:1/a.html", "bb", None)
    assert records.get("portal:1/a.html") == {"sha256": "bb", "updatedAt": None}
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_transactions_setting_one_new_mark_both_commit(database_url):
    # Update-then-insert lost this race: both updates found no row, and the second insert
    # failed on the primary key once the first committed.
    engine = sa.create_engine(database_url)
    first, second = engine.connect(), engine.connect()
    first.begin()
    second.begin()
    set_mark(first, "modules", "from the first")
    failures: list[BaseException] = []

    def second_writer():
        try:
            set_mark(second, "modules", "from the second")  # waits on the first's row
            second.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    writer = threading.Thread(target=second_writer)
    writer.start()
    writer.join(0.5)
    assert writer.is_alive(), "the second writer did not wait for the first's uncommitted mark"
    first.commit()
    writer.join(10)
    assert not failures, failures
    with engine.connect() as conn:
        assert get_mark(conn, "modules") == "from the second"
    first.close()
    second.close()
    engine.dispose()
