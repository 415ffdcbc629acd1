"""Write transactions on SQLite: writers queue on a file lock instead of sleeping in
SQLite's busy handler, and the intake's commits reach the disk within their bound."""
from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest

from oembed_server.storage import wal_sync
from oembed_server.storage.catalog_store import create_catalog_engine
from oembed_server.storage.write_transaction import write_transaction


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


def test_a_bounded_flush_commits_without_waiting_then_flushes(engine, monkeypatch):
    flushed = []
    real = os.fdatasync
    wal_inode = []

    def record(fd):
        flushed.append(os.fstat(fd).st_ino)
        real(fd)

    monkeypatch.setattr(wal_sync.os, "fdatasync", record)
    with write_transaction(engine) as conn:
        assert synchronous(conn) == 2  # FULL: the commit waits for the disk
    for n in range(20):
        with write_transaction(engine, flush_within=0.2) as conn:
            assert synchronous(conn) == 1  # NORMAL: SQLite does not wait ...
            conn.exec_driver_sql(f"INSERT INTO t VALUES ({n})")
    wal_inode.append(os.stat(f"{engine.url.database}-wal").st_ino)
    # ... the syncer does: at once for the first commit, then once per interval at most.
    syncer = wal_sync.syncer_for(engine.url.database, 0.2)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (syncer.pending or not flushed):
        time.sleep(0.02)
    time.sleep(0.05)  # a flush that has just taken the pending commits finishes
    assert 1 <= len(flushed) <= 3, flushed
    assert set(flushed) == set(wal_inode)  # the log file, not the database
    # The pooled connection went back with its flush on commit restored.
    with engine.connect() as conn:
        assert synchronous(conn) == 2
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 20


def test_a_failed_transaction_leaves_nothing_and_restores_the_setting(engine):
    with pytest.raises(RuntimeError):
        with write_transaction(engine, flush_within=0.05) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            raise RuntimeError("refused")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
        assert synchronous(conn) == 2


def test_a_flush_with_no_log_file_is_nothing_to_do(tmp_path):
    syncer = wal_sync.WalSyncer(str(tmp_path / "gone.sqlite3"), 0.01)
    syncer.flush_now()  # the log was checkpointed and removed: no error
    assert syncer.flushes == 0


def test_the_bound_is_for_sqlite_postgresql_commits_as_configured(database_url):
    engine = create_catalog_engine(database_url)
    try:
        with write_transaction(engine, flush_within=0.05) as conn:
            if engine.dialect.name == "sqlite":
                assert synchronous(conn) == 1
            else:  # this transaction only; pg_commit_flush.CommitFlusher makes it durable within the bound
                assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        with engine.connect() as conn:  # the pooled connection keeps its durable commits
            assert engine.dialect.name == "sqlite" or conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        engine.dispose()


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


def test_a_refused_flush_is_logged_and_tried_again(tmp_path, monkeypatch, caplog):
    wal = tmp_path / "db.sqlite3-wal"
    wal.write_bytes(b"frames")
    syncer = wal_sync.WalSyncer(str(tmp_path / "db.sqlite3"), 0.01)

    def refuse(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(wal_sync.os, "fdatasync", refuse)
    syncer.flush_now()
    assert "could not flush the SQLite write-ahead log" in caplog.text
    assert syncer.pending and syncer.flushes == 0  # the thread tries again after the interval
