"""Notice when another connection (another process: the CLI, a kiosk) commits to a gallery.

SQLite's ``PRAGMA data_version`` changes, for one connection, whenever any *other* connection
has committed to the file. A thread polls it on a connection of its own, so the caller's
thread and the gallery's lock are never involved.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path


class ChangeWatcher:
    """Calls ``on_change()`` from its own thread after a commit by another connection."""

    def __init__(self, path: Path, on_change: Callable[[], None], interval_s: float = 1.0):
        self.path = Path(path)
        self.on_change = on_change
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ChangeWatcher:
        self._thread = threading.Thread(target=self._run, name="facelens-gallery-watch",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        seen: int | None = None
        lost = False  # the file could not be read: changes may have been missed meanwhile
        try:
            first = True  # the first look is taken at once: it is what later looks compare to
            while first or not self._stop.wait(self.interval_s):
                first = False
                try:
                    if conn is None:  # read-only: the watcher never writes or creates the file
                        conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro",
                                               uri=True, timeout=1.0,
                                               check_same_thread=False)
                    version = conn.execute("PRAGMA data_version").fetchone()[0]
                except sqlite3.Error:  # missing, locked or replaced: look again next time
                    if conn is not None:
                        conn.close()
                    conn, seen, lost = None, None, True
                    continue
                if (seen is not None and version != seen) or (seen is None and lost):
                    self.on_change()
                seen, lost = version, False
        finally:
            if conn is not None:
                conn.close()
