"""Write transactions on SQLite: writers queue on a file lock instead of sleeping in
SQLite's busy handler."""
from __future__ import annotations

import fcntl
import os
import threading

import pytest

from oembed_server.catalog_store import create_catalog_engine
from oembed_server.write_transaction import write_transaction


@pytest.fixture
def engine(tmp_path):
    engine = create_catalog_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    yield engine
    engine.dispose()


def synchronous(conn) -> int:
    cursor = conn.connection.cursor()
    try:
        return cursor.execute("PRAGMA synchronous").fetchone()[0]
    finally:
        cursor.close()


def test_the_writer_lock_is_an_flock_other_processes_wait_on(engine, tmp_path):
    lock_path = f"{tmp_path / 'db.sqlite3'}-write.lock"
    # Another process's descriptor of the file: an flock it cannot take while we write.
    other = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    try:
        with write_transaction(engine) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again after the commit
        fcntl.flock(other, fcntl.LOCK_UN)
    finally:
        os.close(other)


def test_threads_take_turns_and_every_write_lands(engine):
    def write(n):
        for i in range(50):
            with write_transaction(engine) as conn:
                conn.exec_driver_sql(f"INSERT INTO t VALUES ({n * 100 + i})")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*), count(DISTINCT n) FROM t").one() == (200, 200)


def test_the_lock_file_takes_the_databases_permissions(tmp_path):
    path = tmp_path / "perm.sqlite3"
    engine = create_catalog_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        os.chmod(path, 0o640)
        with write_transaction(engine) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert os.stat(f"{path}-write.lock").st_mode & 0o777 == 0o640
    finally:
        engine.dispose()


def test_an_unusable_lock_file_falls_back_to_sqlites_own_waiting(tmp_path, caplog):
    path = tmp_path / "nolock.sqlite3"
    os.mkdir(f"{path}-write.lock")  # cannot be opened as a file
    engine = create_catalog_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        with write_transaction(engine) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
        assert "cannot use the SQLite writer lock" in caplog.text
    finally:
        engine.dispose()
