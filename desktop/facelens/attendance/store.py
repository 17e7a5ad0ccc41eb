"""The attendance log: SQLite in WAL mode, each entry committed (and fsynced) as it happens.

Entries are ordered by ``seq``, a monotonic AUTOINCREMENT key, so a wall-clock jump never
reorders them. A person is logged at most once per ``window_s`` seconds, measured on the
monotonic clock; unknown faces only bump a per-day counter unless ``store_unknown`` is set.
Database faults (disk full, database locked) surface as :class:`AttendanceFault`.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..durable_db import open_log_db
from ..errors import FaceLensError
from ..sqlite_access import fault_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,            -- local wall-clock time, ISO 8601 with offset
    day TEXT NOT NULL,           -- YYYY-MM-DD of ts
    person TEXT,                 -- NULL for an unknown face (only with store_unknown)
    person_id INTEGER,
    similarity REAL,
    source TEXT
);
CREATE INDEX IF NOT EXISTS entries_day ON entries(day, person);
CREATE TABLE IF NOT EXISTS unknown_counts (
    day TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
"""


class AttendanceFault(FaceLensError):
    """The attendance database cannot be written now (disk full, locked, read-only...)."""


@dataclass(frozen=True)
class Entry:
    """One committed attendance entry."""

    seq: int
    ts: str
    day: str
    person: str | None
    similarity: float | None


@dataclass(frozen=True)
class DaySummary:
    """First and last sighting of one person on one day (by sequence, not by clock)."""

    day: str
    person: str
    first_seen: str
    last_seen: str
    entries: int


def _now_local() -> datetime:
    return datetime.now().astimezone()


def _days(day_from: str | None, day_to: str | None) -> tuple[str, str]:
    """SQL bounds of a day range; a missing end is open."""
    return day_from or "0000-00-00", day_to or "9999-99-99"


class AttendanceStore:
    """Log attendance durably; read it back per day and per person."""

    def __init__(self, path: str | Path, window_s: float = 300.0, store_unknown: bool = False,
                 busy_timeout_ms: int = 2000, clock=time.monotonic, wallclock=_now_local):
        self.path = Path(path)
        self.window_s = float(window_s)
        self.store_unknown = store_unknown
        self._clock = clock
        self._wall = wallclock
        self._last: dict[str, float] = {}  # person -> monotonic time of the last entry
        try:
            self.conn = open_log_db(self.path, SCHEMA, busy_timeout_ms)
        except sqlite3.Error as exc:
            raise AttendanceFault(f"attendance database: {fault_text(exc, self.path)}") from exc

    def close(self) -> None:
        self.conn.close()

    # -- writing ----------------------------------------------------------------------------

    def _due(self, person: str, now: float) -> bool:
        last = self._last.get(person)
        if last is None:
            last = self._last_from_db(person, now)
            if last is not None:  # kept: not asked again on every sighting in the window
                self._last[person] = last
        return last is None or now - last >= self.window_s

    def _last_from_db(self, person: str, now: float) -> float | None:
        """After a restart: the newest entry's age by wall clock, if it is plausible."""
        row = self.conn.execute(
            "SELECT ts FROM entries WHERE person = ? ORDER BY seq DESC LIMIT 1", (person,)
        ).fetchone()
        if row is None:
            return None
        age = (self._wall() - datetime.fromisoformat(row[0])).total_seconds()
        return now - age if 0 <= age < self.window_s else None

    def log(self, person: str | None, similarity: float | None = None,
            person_id: int | None = None, source: str = "") -> Entry | None:
        """Record a sighting. Returns the committed entry, or None when none was due.

        Raises :class:`AttendanceFault` when the database cannot be written.
        """
        now = self._clock()
        if person is None:
            return self._log_unknown(similarity, source)
        if not self._due(person, now):
            return None
        entry = self._insert(person, person_id, similarity, source)
        self._last[person] = now
        return entry

    def _log_unknown(self, similarity: float | None, source: str) -> Entry | None:
        day = self._wall().date().isoformat()
        try:
            self.conn.execute(
                "INSERT INTO unknown_counts(day, count) VALUES (?, 1) "
                "ON CONFLICT(day) DO UPDATE SET count = count + 1", (day,))
        except sqlite3.Error as exc:
            raise AttendanceFault(f"attendance not recorded: {fault_text(exc, self.path)}") \
                from exc
        return self._insert(None, None, similarity, source) if self.store_unknown else None

    def _insert(self, person: str | None, person_id: int | None, similarity: float | None,
                source: str) -> Entry:
        wall = self._wall()
        ts, day = wall.isoformat(timespec="seconds"), wall.date().isoformat()
        try:
            cur = self.conn.execute(
                "INSERT INTO entries(ts, day, person, person_id, similarity, source) "
                "VALUES (?, ?, ?, ?, ?, ?)", (ts, day, person, person_id, similarity, source))
        except sqlite3.Error as exc:  # autocommit: the row is durable once this returns
            raise AttendanceFault(f"attendance not recorded: {fault_text(exc, self.path)}") \
                from exc
        return Entry(int(cur.lastrowid), ts, day, person, similarity)

    # -- reading ----------------------------------------------------------------------------

    def entries(self, day_from: str | None = None, day_to: str | None = None) -> list[Entry]:
        """Entries between two days (inclusive, YYYY-MM-DD), in sequence order."""
        rows = self.conn.execute(
            "SELECT seq, ts, day, person, similarity FROM entries "
            "WHERE day >= ? AND day <= ? ORDER BY seq",
            _days(day_from, day_to)).fetchall()
        return [Entry(*r) for r in rows]

    def summary(self, day_from: str | None = None, day_to: str | None = None) -> list[DaySummary]:
        """First/last seen per day and person; first and last by sequence (clock-jump safe)."""
        rows = self.conn.execute(
            "SELECT g.day, g.person, f.ts, l.ts, g.n FROM "
            "(SELECT day, person, MIN(seq) AS a, MAX(seq) AS b, COUNT(*) AS n FROM entries "
            " WHERE person IS NOT NULL AND day >= ? AND day <= ? GROUP BY day, person) g "
            "JOIN entries f ON f.seq = g.a JOIN entries l ON l.seq = g.b "
            "ORDER BY g.day, g.person",
            _days(day_from, day_to)).fetchall()
        return [DaySummary(*r) for r in rows]

    def unknown_counts(self, day_from: str | None = None,
                       day_to: str | None = None) -> dict[str, int]:
        """Unknown faces counted per day."""
        rows = self.conn.execute(
            "SELECT day, count FROM unknown_counts WHERE day >= ? AND day <= ? ORDER BY day",
            _days(day_from, day_to)).fetchall()
        return dict(rows)

    def integrity_ok(self) -> bool:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
