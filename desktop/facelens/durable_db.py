"""Append-only SQLite logs that survive a crash: WAL journal, synchronous commits."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_log_db(path: Path, schema: str, busy_timeout_ms: int = 2000) -> sqlite3.Connection:
    """Open (creating) a WAL database at `path`, in autocommit mode, and apply `schema`.

    Every committed row is on disk when the commit returns (``synchronous=FULL``), so a
    process killed at any moment loses nothing it reported committed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(schema)
    return conn
