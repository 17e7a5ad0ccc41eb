"""CSV export of the attendance log for a date range."""

from __future__ import annotations

import csv
from pathlib import Path

from .store import AttendanceStore

SUMMARY_HEADER = ["day", "person", "first_seen", "last_seen", "entries"]
ENTRY_HEADER = ["seq", "time", "day", "person", "similarity"]


def export_csv(store: AttendanceStore, out: str | Path, day_from: str | None = None,
               day_to: str | None = None, entries: bool = False) -> int:
    """Write one row per day and person (or per entry with `entries`); return the row count."""
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        if entries:
            rows = [[e.seq, e.ts, e.day, e.person or "", "" if e.similarity is None
                     else f"{e.similarity:.4f}"] for e in store.entries(day_from, day_to)]
            writer.writerow(ENTRY_HEADER)
        else:
            rows = [[s.day, s.person, s.first_seen, s.last_seen, s.entries]
                    for s in store.summary(day_from, day_to)]
            writer.writerow(SUMMARY_HEADER)
        writer.writerows(rows)
    tmp.replace(out)
    return len(rows)
