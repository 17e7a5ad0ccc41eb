"""CSV export of the attendance log for a date range."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import TextIO

from ..errors import FaceLensError
from .store import AttendanceStore

SUMMARY_HEADER = ["day", "person", "first_seen", "last_seen", "entries"]
ENTRY_HEADER = ["seq", "time", "day", "person", "similarity"]


def export_csv(store: AttendanceStore, out: str | Path, day_from: str | None = None,
               day_to: str | None = None, entries: bool = False) -> int:
    """Write one row per day and person (or per entry with `entries`); return the row count.

    `out` ``"-"`` writes to standard output; a file is written whole or not at all.
    """
    if str(out) == "-":
        n = write_csv(store, sys.stdout, day_from, day_to, entries)
        sys.stdout.flush()
        return n
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            n = write_csv(store, fh, day_from, day_to, entries)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FaceLensError(f"{out}: cannot write the CSV ({exc.strerror or exc}); check that "
                            "the folder exists and can be written, or give - for standard "
                            "output") from None
    return n


def write_csv(store: AttendanceStore, fh: TextIO, day_from: str | None = None,
              day_to: str | None = None, entries: bool = False) -> int:
    """The CSV of :func:`export_csv` written to the open text stream `fh`; the row count."""
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
    return len(rows)
