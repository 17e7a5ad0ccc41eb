"""SQLite faults a user meets, for every FaceLens database (gallery, audit, attendance).

- Read-only data folder or medium: :func:`open_read_only` opens the file with SQLite's
  read-only mode, or its immutable mode where a WAL database cannot be read otherwise (no
  ``-shm`` file can be made there); writes then fail and :func:`fault_text` says the folder is
  read-only.
- Another process holds a lock: :func:`wait_if_locked` says "waiting for another FaceLens
  process..." (on stderr by default) and waits up to :func:`lock_wait_s` seconds
  (``$FACELENS_LOCK_WAIT_S``, default 60: far longer than any FaceLens write takes), then
  fails clearly.
- A full disk: "disk full: nothing was changed".
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from .errors import FaceLensError

T = TypeVar("T")
LOCK_WAIT_ENV = "FACELENS_LOCK_WAIT_S"
DEFAULT_LOCK_WAIT_S = 60.0
FIRST_TRY_S = 1.0  # how long a lock is waited for silently before the notice


class DatabaseLocked(FaceLensError):
    """Another process kept a database locked for longer than the stated limit."""


def _stderr_notice(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


lock_notice: Callable[[str], None] = _stderr_notice  # the app may route it elsewhere


_local = threading.local()


@contextmanager
def waiting_at_most(seconds: float,
                    notice: Callable[[str], None] | None = None) -> Iterator[None]:
    """Within this block (this thread), wait at most `seconds` for a lock, and say so with
    `notice` if given: the app uses it so its window never freezes, shows the wait itself
    and retries in the background."""
    old = getattr(_local, "limit", None), getattr(_local, "notice", None)
    _local.limit, _local.notice = seconds, notice
    try:
        yield
    finally:
        _local.limit, _local.notice = old


def lock_wait_s() -> float:
    """How long a reader waits for another process's lock ($FACELENS_LOCK_WAIT_S or 60 s)."""
    if getattr(_local, "limit", None) is not None:
        return _local.limit
    try:
        return max(0.0, float(os.environ.get(LOCK_WAIT_ENV, DEFAULT_LOCK_WAIT_S)))
    except ValueError:
        return DEFAULT_LOCK_WAIT_S


def is_locked(exc: BaseException) -> bool:
    low = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in low or "busy" in low)


def can_write(path: Path) -> bool:
    """Whether `path` (a database file, existing or not) and its folder can be written."""
    folder_ok = os.access(path.parent, os.W_OK)
    return folder_ok and (not path.exists() or os.access(path, os.W_OK))


def disk_is_full(path: Path, margin: int = 256 * 1024) -> bool:
    """Whether the disk holding `path` has (nearly) no space left: SQLite reports a full
    disk as "disk I/O error" when it cannot grow its shared-memory (-shm) file."""
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < margin


def fault_text(exc: BaseException, path: Path) -> str:
    """What a database error on `path` means for the user, and what to do."""
    low = str(exc).lower()
    if "full" in low or ("i/o error" in low and disk_is_full(path)):
        return (f"{path}: disk full: nothing was changed; free some space on that disk and "
                "try again")
    if "readonly" in low or "read-only" in low or "read only" in low:
        return (f"{path}: the data folder is read-only: nothing was changed; use a writable "
                "data folder (--home) to make changes")
    if "locked" in low or "busy" in low:
        return (f"{path}: locked by another FaceLens process: nothing was changed; close the "
                "other FaceLens window or command, or wait for it to finish, and try again")
    return f"{path}: {exc}"


def open_read_only(path: Path, timeout_s: float) -> sqlite3.Connection:
    """`path` opened for reading only (``mode=ro``, else ``immutable=1`` for a WAL database
    on a medium where its shared-memory file cannot be created)."""
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout_s,
                           isolation_level=None, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        if is_locked(exc):
            return conn  # the caller's first read waits for the lock (`wait_if_locked`)
        conn.close()
        if can_write(path):
            raise
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        lock_notice(f"{path}: read-only, and its journal {wal.name} holds changes not merged "
                    "yet: they are not shown; open the folder writable once to merge them")
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=timeout_s,
                           isolation_level=None, check_same_thread=False)


def wait_if_locked(conn: sqlite3.Connection, path: Path, fn: Callable[[], T],
                   busy_timeout_s: float,
                   error: Callable[[str], Exception] = DatabaseLocked) -> T:
    """Run `fn` (a first read); while another process holds the database locked, say so with
    :data:`lock_notice` and wait up to :func:`lock_wait_s`, then raise `error(message)`.
    The connection's busy timeout is `busy_timeout_s` again afterwards."""
    first = min(busy_timeout_s, FIRST_TRY_S)
    conn.execute(f"PRAGMA busy_timeout = {int(first * 1000)}")
    try:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not is_locked(exc):
                raise
        limit = lock_wait_s()
        notify = getattr(_local, "notice", None) or lock_notice
        notify(f"waiting for another FaceLens process to release {path} "
               f"(up to {limit:g} s; {LOCK_WAIT_ENV} sets the limit)...")
        conn.execute(f"PRAGMA busy_timeout = {int(max(0.0, limit - first) * 1000)}")
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not is_locked(exc):
                raise
            raise error(f"{path}: still locked by another FaceLens process after waiting "
                        f"{limit:g} s: nothing was read or changed; close the other FaceLens "
                        f"window or command and try again (or set {LOCK_WAIT_ENV} to wait "
                        "longer)") from None
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
