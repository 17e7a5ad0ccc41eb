"""Offline attendance: a durable SQLite log of who was seen, once per window (Qt-free)."""

from .store import AttendanceFault, AttendanceStore, DaySummary, Entry

__all__ = ["AttendanceFault", "AttendanceStore", "DaySummary", "Entry"]
