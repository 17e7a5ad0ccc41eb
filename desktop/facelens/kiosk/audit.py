"""The kiosk's audit log: one row per decision, in SQLite (WAL), ordered by a monotonic seq.

Thumbnails are off by default (privacy); when on, they are stored as JPEG, sealed with
:class:`~facelens.crypto.Sealer` if a passphrase is configured.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

from ..durable_db import open_log_db
from ..errors import FaceLensError
from ..sqlite_access import fault_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    policy TEXT NOT NULL,
    claimed TEXT,
    matched TEXT,
    similarity REAL,
    threshold REAL,
    antispoof REAL,
    antispoof_threshold REAL,
    temporal REAL,
    temporal_threshold REAL,
    sharpness INTEGER,
    granted INTEGER NOT NULL,
    reason TEXT NOT NULL,
    action TEXT,
    thumbnail BLOB
);
"""


class AuditFault(FaceLensError):
    """The audit log cannot be written (a decision without its audit row is refused)."""


@dataclass
class AuditRow:
    """What is recorded about one decision."""

    policy: str
    granted: bool
    reason: str
    claimed: str | None = None
    matched: str | None = None
    similarity: float | None = None
    threshold: float | None = None
    antispoof: float | None = None
    antispoof_threshold: float | None = None
    temporal: float | None = None
    temporal_threshold: float | None = None
    sharpness: int | None = None
    action: str | None = None
    thumbnail: bytes | None = None
    ts: str = ""
    seq: int = 0


class AuditLog:
    """Append decisions; list them back newest first."""

    def __init__(self, path: str | Path, sealer=None, busy_timeout_ms: int = 2000):
        self.path = Path(path)
        self.sealer = sealer
        try:
            self.conn = open_log_db(self.path, SCHEMA, busy_timeout_ms)
        except sqlite3.Error as exc:
            raise AuditFault(f"audit log: {fault_text(exc, self.path)}") from exc

    def append(self, row: AuditRow) -> int:
        """Commit one row; return its sequence number."""
        row.ts = datetime.now().astimezone().isoformat(timespec="milliseconds")
        thumb = row.thumbnail
        if thumb is not None and self.sealer is not None:
            thumb = self.sealer.seal(thumb, b"audit-thumbnail")
        names = [f.name for f in fields(AuditRow) if f.name != "seq"]
        values = [thumb if n == "thumbnail" else getattr(row, n) for n in names]
        try:
            cur = self.conn.execute(
                f"INSERT INTO decisions({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                values)
        except sqlite3.Error as exc:
            raise AuditFault(f"audit row not written: {fault_text(exc, self.path)}") from exc
        row.seq = int(cur.lastrowid)
        return row.seq

    def set_action(self, seq: int, text: str) -> None:
        """Record what the door action did for decision `seq`."""
        try:
            self.conn.execute("UPDATE decisions SET action = ? WHERE seq = ?", (text, seq))
        except sqlite3.Error as exc:
            raise AuditFault(f"door action result not recorded: {fault_text(exc, self.path)}") \
                from exc

    def recent(self, limit: int = 50) -> list[AuditRow]:
        names = [f.name for f in fields(AuditRow)]
        rows = self.conn.execute(
            f"SELECT {', '.join(names)} FROM decisions ORDER BY seq DESC LIMIT ?", (limit,))
        out = []
        for r in rows:
            row = AuditRow(**dict(zip(names, r, strict=True)))
            row.granted = bool(row.granted)
            out.append(row)
        return out

    def thumbnail(self, row: AuditRow) -> bytes | None:
        """The row's JPEG thumbnail, decrypted when sealed."""
        if row.thumbnail is None or self.sealer is None:
            return row.thumbnail
        return self.sealer.open(row.thumbnail, b"audit-thumbnail")

    def close(self) -> None:
        self.conn.close()
