"""Append-only SQLite logs that survive a crash: WAL journal, synchronous commits."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .sqlite_access import can_write, open_read_only, wait_if_locked


def open_log_db(path: Path, schema: str, busy_timeout_ms: int = 2000) -> sqlite3.Connection:
    """Open (creating) a WAL database at `path`, in autocommit mode, and apply `schema`.

    Every committed row is on disk when the commit returns (``synchronous=FULL``), so a
    process killed at any moment loses nothing it reported committed. In a read-only folder
    the file is opened for reading only (no file yet: an empty, read-only log), so reports
    work and writes fail with "read-only". A lock held by another process is waited for,
    with a notice (see :mod:`facelens.sqlite_access`).
    """
    timeout_s = busy_timeout_ms / 1000
    if path.parent.is_dir() and not can_write(path):
        if path.exists():
            return open_read_only(path, timeout_s)
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.executescript(schema)
        conn.execute("PRAGMA query_only = ON")  # writes fail as on the read-only folder
        return conn
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None,
                           check_same_thread=False)
    try:
        wait_if_locked(conn, path, lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone(),
                       timeout_s)
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(schema)
    except BaseException:
        conn.close()
        raise
    return conn
