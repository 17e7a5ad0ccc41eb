"""Attendance store: once per window, unknown counting, clock jumps, faults, CSV export."""

from __future__ import annotations

import csv
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from facelens.attendance import AttendanceFault, AttendanceStore
from facelens.attendance.export import export_csv


class Clocks:
    """A monotonic clock and a wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


def _store(tmp_path, clocks: Clocks, **kw) -> AttendanceStore:
    return AttendanceStore(tmp_path / "att.db", clock=lambda: clocks.mono,
                           wallclock=lambda: clocks.wall, **kw)


def test_once_per_window_and_first_last_seen(tmp_path):
    c = Clocks()
    st = _store(tmp_path, c, window_s=300)
    assert st.log("amy", 0.71) is not None
    c.advance(60)
    assert st.log("amy", 0.70) is None  # inside the window
    assert st.log("raj", 0.66) is not None
    c.advance(300)
    assert st.log("amy", 0.75) is not None
    s = {x.person: x for x in st.summary()}
    assert s["amy"].entries == 2
    assert s["amy"].first_seen.startswith("2026-03-02T08:00:00")
    assert s["amy"].last_seen.startswith("2026-03-02T08:06:00")
    assert st.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_window_survives_restart(tmp_path):
    c = Clocks()
    st = _store(tmp_path, c, window_s=300)
    st.log("amy", 0.7)
    st.close()
    c.advance(30)
    st = _store(tmp_path, c, window_s=300)
    assert st.log("amy", 0.7) is None
    c.advance(300)
    assert st.log("amy", 0.7) is not None


def test_unknown_counted_not_stored_unless_enabled(tmp_path):
    c = Clocks()
    st = _store(tmp_path, c)
    for _ in range(3):
        assert st.log(None, 0.2) is None
    assert st.unknown_counts() == {"2026-03-02": 3}
    assert st.entries() == []
    st2 = AttendanceStore(tmp_path / "b.db", store_unknown=True, clock=lambda: c.mono,
                          wallclock=lambda: c.wall)
    assert st2.log(None, 0.2).person is None


def test_clock_jump_back_keeps_sequence_order(tmp_path):
    c = Clocks()
    st = _store(tmp_path, c, window_s=0)
    st.log("amy")
    c.advance(10)
    st.log("raj")
    c.wall -= timedelta(minutes=30)  # NTP step backwards; monotonic time goes on
    c.mono += 10
    st.log("penny")
    seqs = [e.seq for e in st.entries()]
    assert seqs == sorted(seqs)
    assert [e.person for e in st.entries()] == ["amy", "raj", "penny"]
    c.advance(5)
    st.log("amy")
    amy = [s for s in st.summary() if s.person == "amy"][0]
    # first/last by sequence, even though the later entry has an earlier wall time
    assert amy.first_seen.startswith("2026-03-02T08:00:00")
    assert amy.last_seen.startswith("2026-03-02T07:30:15")


def test_locked_database_is_a_fault_not_a_crash(tmp_path):
    c = Clocks()
    st = AttendanceStore(tmp_path / "att.db", busy_timeout_ms=100, clock=lambda: c.mono,
                         wallclock=lambda: c.wall)
    other = sqlite3.connect(tmp_path / "att.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(AttendanceFault, match="locked"):
        st.log("amy")
    other.execute("ROLLBACK")
    assert st.log("amy") is not None  # recovers once the lock is gone


def test_full_disk_is_a_fault_not_a_crash(tmp_path):
    c = Clocks()
    st = _store(tmp_path, c, window_s=0)
    st.log("amy")
    pages = st.conn.execute("PRAGMA page_count").fetchone()[0]
    st.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own 'disk full' path
    with pytest.raises(AttendanceFault, match="full"):
        for i in range(2000):
            st.log(f"person{i}")
    assert st.integrity_ok()


def test_export_csv_date_range(tmp_path):
    c = Clocks()
    st = _store(tmp_path, c, window_s=300)
    st.log("amy", 0.7)
    c.advance(3600)
    st.log("amy", 0.7)
    st.log("raj", 0.6)
    c.advance(86400)  # next day
    st.log("penny", 0.8)
    c.advance(86400)
    st.log("amy", 0.7)
    out = tmp_path / "out.csv"
    n = export_csv(st, out, "2026-03-02", "2026-03-03")
    rows = list(csv.reader(out.open()))
    assert n == 3
    assert rows == [
        ["day", "person", "first_seen", "last_seen", "entries"],
        ["2026-03-02", "amy", "2026-03-02T08:00:00+00:00", "2026-03-02T09:00:00+00:00", "2"],
        ["2026-03-02", "raj", "2026-03-02T09:00:00+00:00", "2026-03-02T09:00:00+00:00", "1"],
        ["2026-03-03", "penny", "2026-03-03T09:00:00+00:00", "2026-03-03T09:00:00+00:00", "1"],
    ]
