"""The gallery's SQLite file: schema, safe opening, transactions and readable errors."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..atomic_write import temp_beside, write_error
from ..errors import GalleryError
from ..sqlite_access import can_write, disk_is_full, open_read_only, wait_if_locked

DEFAULT_FILENAME = "gallery.db"  # the gallery inside a FaceLens data folder
SCHEMA_VERSION = 3  # PRAGMA user_version this version reads up to
CREATED_VERSION = 1  # what a new gallery gets: plain galleries stay readable by older FaceLens
# New galleries are created at version 1. Version 2 (written by `upgrade`, when a gallery is
# first encrypted) adds the `meta` table and lets `vector` hold a sealed (encrypted) template.
APPLICATION_ID = 0x464C4753  # "FLGS": PRAGMA application_id marks a FaceLens gallery
SQLITE_MAGIC = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE people (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE templates (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    model_id  TEXT NOT NULL,
    dim       INTEGER NOT NULL CHECK (dim > 0),
    vector    BLOB NOT NULL CHECK (length(vector) = 4 * dim),  -- float32, little-endian
    thumbnail BLOB,                                             -- JPEG of the face crop
    source    TEXT,
    created   TEXT NOT NULL
);
CREATE INDEX templates_person ON templates(person_id, model_id, dim);
"""

UPGRADE_2 = """
CREATE TABLE templates_v2 (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    model_id  TEXT NOT NULL,
    dim       INTEGER NOT NULL CHECK (dim > 0),
    vector    BLOB NOT NULL CHECK (length(vector) IN (4 * dim, 4 * dim + 32)),  -- or sealed
    thumbnail BLOB,
    source    TEXT,
    created   TEXT NOT NULL
);
INSERT INTO templates_v2 SELECT id, person_id, model_id, dim, vector, thumbnail, source, created
    FROM templates;
DROP TABLE templates;
ALTER TABLE templates_v2 RENAME TO templates;
CREATE INDEX templates_person ON templates(person_id, model_id, dim);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
PRAGMA user_version = 2
"""


class GalleryLocked(GalleryError):
    """Another process kept the gallery locked for longer than the wait allowed."""


def damaged(path: Path, detail: str) -> GalleryError:
    return GalleryError(
        f"the gallery database {path} is damaged or is not a FaceLens gallery ({detail}). "
        "FaceLens has left the file untouched. Move it elsewhere to start an empty gallery, "
        "or restore a gallery export (backup) in its place.")


def translate(exc: sqlite3.Error, path: Path) -> GalleryError:
    """A GalleryError that says what happened to `path` and what to do."""
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return GalleryError(f"{path}: database is locked by another FaceLens process; nothing "
                            "was changed. Close the other FaceLens window or command, or wait "
                            "for it to finish, and try again.")
    if "full" in low or ("i/o error" in low and disk_is_full(path)):
        return GalleryError(f"{path}: disk full: nothing was changed ({text}); free some disk "
                            "space and try again")
    if "readonly" in low or "read-only" in low or "permission" in low:
        return GalleryError(f"{path}: the gallery cannot be written: the data folder is "
                            f"read-only ({text}): nothing was changed; use a writable data "
                            "folder (--home) or check the file's permissions")
    if "malformed" in low or "not a database" in low or "corrupt" in low:
        return damaged(path, text)
    if "unable to open" in low:
        return GalleryError(f"{path}: cannot open the gallery database ({text}); check that "
                            "the folder exists and can be written.")
    return GalleryError(f"{path}: gallery database error: {text}")


def check_header(path: Path) -> None:
    """Refuse, before SQLite touches it, a file that is not an SQLite database."""
    if not path.exists():
        return
    if not path.is_file():
        raise GalleryError(f"{path} is not a file; the gallery must be an SQLite file")
    with path.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head and head != SQLITE_MAGIC:
        raise damaged(path, "not an SQLite file")


def connect(path: Path, busy_timeout_s: float, read_only: bool = False) -> sqlite3.Connection:
    """Open `path` (checking it first) in autocommit mode; writes go through `transaction`.

    A new gallery is created whole (see `_create_atomically`): a second process opening it at
    the same moment waits and then opens the finished file. A gallery in a read-only folder
    or medium is opened for reading (writes then say "read-only"); a lock held by another
    process is waited for with a notice (see :mod:`facelens.sqlite_access`).
    """
    check_header(path)
    if not read_only and not _has_content(path):
        if not can_write(path):
            raise GalleryError(f"{path}: the data folder is read-only and holds no gallery: "
                               "nothing can be enrolled here; use a writable data folder "
                               "(--home)")
        _create_atomically(path, busy_timeout_s)
    existed = _has_content(path)
    read_only = read_only or not can_write(path)
    try:
        if read_only:
            conn = open_read_only(path, busy_timeout_s)
        else:
            conn = sqlite3.connect(str(path), timeout=busy_timeout_s, isolation_level=None,
                                   check_same_thread=False)
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        first = "PRAGMA quick_check" if existed else "SELECT count(*) FROM sqlite_master"
        verdict = wait_if_locked(conn, path, lambda: conn.execute(first).fetchone()[0],
                                 busy_timeout_s, GalleryLocked)
        if existed and verdict != "ok":
            raise damaged(path, f"quick_check: {verdict}")
        empty = _check_schema(conn, path)  # before any write: a foreign file stays as it was
        if empty and read_only:
            raise damaged(path, "an empty database, not a gallery")
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
        if empty and not read_only:
            _create_schema(conn)
    except sqlite3.DatabaseError as exc:  # includes "file is not a database", "malformed"
        conn.close()
        raise translate(exc, path) from exc
    except GalleryError:
        conn.close()
        raise
    return conn


def _has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def _create_atomically(path: Path, busy_timeout_s: float) -> None:
    """Create a complete, empty gallery at `path` unless one appeared meanwhile.

    The schema is written to a temporary file that is then renamed into place, under a lock
    on the folder: two processes creating the gallery at the same moment never see a
    half-initialised file, and the second one waits for the first.
    """
    folder = os.open(path.parent, os.O_RDONLY)
    tmp = None
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        if _has_content(path):
            return  # another process created it while we waited
        fd, name = temp_beside(path, ".new")
        os.close(fd)
        tmp = Path(name)
        conn = sqlite3.connect(tmp, timeout=busy_timeout_s, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            _create_schema(conn)
        finally:
            conn.close()
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise GalleryError(write_error(path, exc).args[0]) from exc
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        os.close(folder)  # releases the lock


def _check_schema(conn: sqlite3.Connection, path: Path) -> bool:
    """True for an empty database; GalleryError for one that is not (or not yet) ours."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id == 0 and version == 0 and tables == 0:
        return True
    if app_id != APPLICATION_ID:
        raise damaged(path, "an SQLite database of some other program")
    if version > SCHEMA_VERSION:
        raise GalleryError(f"{path} was written by a newer FaceLens (gallery schema {version}, "
                           f"this version reads up to {SCHEMA_VERSION}); update FaceLens")
    return False


def _create_schema(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            return  # another process created it while we waited for the lock
        _run_script(conn, SCHEMA)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {CREATED_VERSION}")


def upgrade(conn: sqlite3.Connection) -> None:
    """Bring a version 1 gallery to version 2; call inside `transaction` (all or nothing)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= 2:
        return
    _run_script(conn, UPGRADE_2)


UPGRADE_3 = """
CREATE TABLE crops (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    crop      BLOB NOT NULL,                  -- PNG of the aligned 112x112 face, or sealed
    created   TEXT NOT NULL
);
CREATE INDEX crops_person ON crops(person_id);
ALTER TABLE templates ADD COLUMN crop_id INTEGER REFERENCES crops(id) ON DELETE SET NULL;
CREATE INDEX templates_crop ON templates(crop_id, model_id, dim);
PRAGMA user_version = 3
"""


def upgrade_crops(conn: sqlite3.Connection) -> None:
    """Bring a gallery to version 3 (aligned face crops kept for re-embedding on a pack
    switch), through version 2 first; call inside `transaction` (all or nothing)."""
    upgrade(conn)
    if conn.execute("PRAGMA user_version").fetchone()[0] >= 3:
        return
    _run_script(conn, UPGRADE_3)


def has_crops(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                        "AND name = 'crops'").fetchone() is not None


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Execute `script` statement by statement (executescript() would commit early)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def has_meta(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                        "AND name = 'meta'").fetchone() is not None


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: nothing is ever half written.

    IMMEDIATE takes the write lock up front, so a lock held elsewhere waits for the busy
    timeout and then fails before anything is written.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
            conn.execute("ROLLBACK")
        raise
