"""Offline first: a station's local replica of the central gallery, and its outbox.

A station (an app or a kiosk with its own data folder) recognises against a local SQLite
replica of the central gallery (`REPLICA_FILE`, searched through FAISS like any local
gallery), so doors keep opening while the server is away. Every `sync` it

- delivers its outbox: the attendance log (``attendance.db``) and kiosk audit log
  (``kiosk_audit.db``) are append-only with a monotonic ``seq``, so the outbox is each log
  past a durable "delivered up to" mark (kept in `STATE_FILE`). Rows are sent in ``seq``
  order under (station id, seq), which the server's UNIQUE key turns into exactly once: a row
  re-sent after a crash between the server's commit and the mark's update is ignored;
- polls the server's change number and, when it moved (an enrolment, rename, removal or
  correction on any station), copies the people those changes name (their templates, face
  crops and negatives) into the replica, read in one snapshot; see `_refresh`.

Enrolments, renames and removals go to the server (they need it) and then to the replica.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import GalleryError
from ..openset import negatives as negative_store
from . import db, sealing
from .central_limits import LEARNING, PACK_SWITCH, not_on_central
from .central_status import REPLICA_FILE, STATE_FILE, describe, queued_rows
from .crops import ReembedProgress, ReembedReport
from .gallery import Gallery
from .records import Match, Person, Template
from .station import station_id

ATTENDANCE_DB = "attendance.db"  # kiosk.factory's names (the engine imports no kiosk)
AUDIT_DB = "kiosk_audit.db"
BATCH = 500  # rows per delivery transaction

STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivered (log TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

ATTENDANCE_SQL = ("SELECT seq, ts, day, person, person_id, similarity, source FROM entries "
                  "WHERE seq > ? ORDER BY seq LIMIT ?")
AUDIT_COLUMNS = ["ts", "policy", "claimed", "matched", "similarity", "threshold", "antispoof",
                 "antispoof_threshold", "temporal", "temporal_threshold", "sharpness",
                 "granted", "reason", "action"]  # thumbnails stay on the station
AUDIT_SQL = (f"SELECT seq, {', '.join(AUDIT_COLUMNS)} FROM decisions WHERE seq > ? "
             "ORDER BY seq LIMIT ?")


class Outbox:
    """The station's logs past their delivered marks: what the server has not got yet."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.station = station_id(home)
        self._state = sqlite3.connect(self.home / STATE_FILE, isolation_level=None,
                                      check_same_thread=False, timeout=5)
        self._state.execute("PRAGMA journal_mode = WAL")
        self._state.execute("PRAGMA synchronous = FULL")
        self._state.executescript(STATE_SCHEMA)

    def close(self) -> None:
        self._state.close()

    def mark(self, log: str) -> int:
        row = self._state.execute("SELECT seq FROM delivered WHERE log = ?", (log,)).fetchone()
        return row[0] if row else 0

    def _set_mark(self, log: str, seq: int) -> None:
        self._state.execute("INSERT INTO delivered (log, seq) VALUES (?, ?) ON CONFLICT(log) "
                            "DO UPDATE SET seq = excluded.seq", (log, seq))

    def get(self, key: str) -> str | None:
        row = self._state.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, value: str) -> None:
        self._state.execute("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) "
                            "DO UPDATE SET value = excluded.value", (key, value))

    def _rows(self, log: str, sql: str, limit: int | None = None) -> list[tuple]:
        """`sql` on the log file `log` with (its mark[, limit]); [] while it does not exist."""
        path = self.home / log
        if not path.exists():
            return []
        params = (self.mark(log),) if limit is None else (self.mark(log), limit)
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []  # the log exists but has no table yet
            raise
        finally:
            conn.close()

    def queued(self) -> int:
        """Rows logged here and not yet delivered."""
        return queued_rows(self.home, self.mark)

    def deliver(self, central) -> int:
        """Send everything queued, in order, `BATCH` rows per server transaction."""
        sent = 0
        for log, sql, insert in ((ATTENDANCE_DB, ATTENDANCE_SQL, self._insert_attendance),
                                 (AUDIT_DB, AUDIT_SQL, self._insert_audit)):
            while rows := self._rows(log, sql, BATCH):
                def write(rows: list[tuple] = rows, insert: Callable = insert) -> None:
                    c = central._db
                    with c.transaction():
                        for row in rows:
                            insert(c, row)
                with central._lock:
                    central._guard(write)
                self._set_mark(log, rows[-1][0])  # after the server's commit
                sent += len(rows)
        return sent

    def _insert_attendance(self, c, row: tuple) -> None:
        seq, ts, day, person, person_id, similarity, source = row
        c.execute("INSERT INTO attendance (station, station_seq, ts, day, person, person_id, "
                  "similarity, source) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                  "ON CONFLICT (station, station_seq) DO NOTHING",
                  (self.station, seq, ts, day, person, person_id, similarity, source))

    def _insert_audit(self, c, row: tuple) -> None:
        detail = dict(zip(AUDIT_COLUMNS, row[1:], strict=True))
        c.execute("INSERT INTO audit (station, station_seq, ts, kind, detail) VALUES "
                  "(%s, %s, %s, 'decision', %s) ON CONFLICT (station, station_seq) DO NOTHING",
                  (self.station, row[0], detail["ts"], json.dumps(detail)))


class ReplicatedGallery:
    """The central gallery as a station sees it: searched locally, kept fresh by `sync`.

    Offers what `Gallery` offers (see `backend.GalleryBackend`); `status` says whether the
    server is reachable and how many rows wait in the outbox. Learning an adapter and
    re-embedding for another pack are refused (`central_limits`).
    """

    central = True  # see central_limits.is_central

    def __init__(self, url: str, home: Path, model_id: str, dim: int,
                 connect_timeout_s: int = 2, passphrase: sealing.Passphrase = None) -> None:
        from .pg.url import mask_url

        self.url = url
        self.masked_url = mask_url(url)
        self.home = Path(home)
        self.model_id = model_id
        self.dim = int(dim)
        self._timeout = connect_timeout_s
        self._lock = threading.RLock()
        self._passphrase = passphrase
        self.replica = Gallery.open(self.home / REPLICA_FILE, model_id, self.dim,
                                    passphrase=passphrase)
        self.outbox = Outbox(self.home)
        self._central = None
        self.offline_since: datetime | None = None
        self.last_error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def open(cls, url: str, home: Path, model_id: str, dim: int, *,
             passphrase: sealing.Passphrase = None, **_: object) -> ReplicatedGallery:
        """The station's replica of `url`, synced once now if the server is reachable.

        An encrypted central gallery needs `passphrase`; its replica is encrypted too.
        """
        gallery = cls(url, home, model_id, dim, passphrase=passphrase)
        gallery.sync()
        return gallery

    # -- the link to the server ------------------------------------------------------------

    def _connected(self):
        from .pg.store import PgGallery

        if self._central is None:
            self._central = PgGallery.open(self.url, self.model_id, self.dim,
                                           connect_timeout_s=self._timeout,
                                           passphrase=self._passphrase)
        return self._central

    def _went_offline(self, exc: GalleryError) -> None:
        if self._central is not None:
            self._central.close()
            self._central = None
        if self.offline_since is None:
            self.offline_since = datetime.now().astimezone()
        self.last_error = str(exc)

    def sync(self) -> bool:
        """Deliver the outbox, then refresh the replica if the server's gallery changed.

        Returns whether the server was reached; never raises for an unreachable server.
        """
        from .pg.store import CentralUnreachable

        with self._lock:
            try:
                self._with_server(lambda central: (self.outbox.deliver(central),
                                                   self._refresh(central)))
            except CentralUnreachable as exc:
                self._went_offline(exc)
                return False
            self.offline_since = None
            self.last_error = ""
            self.outbox.put("synced_at", datetime.now().astimezone().isoformat())
            return True

    def _with_server(self, fn: Callable):
        """`fn(server)`; a connection that broke since last time is replaced once."""
        from .pg.store import CentralUnreachable

        had = self._central is not None
        try:
            return fn(self._connected())
        except CentralUnreachable:
            if not had:
                raise
            self._central.close()
            self._central = None
            return fn(self._connected())

    def _refresh(self, central, force: bool = False) -> None:
        """Bring the replica up to the server's change number.

        Only the people named by the changes since the replica's number are copied again
        (with their templates, crops and negatives); everything is copied the first time,
        for another server gallery (its ``gallery_id``), after an encryption change, or when
        `force`. The server's change numbers become visible in order (`schema.log_change`),
        so nothing committed at or below the number seen is missed.
        """
        seen, seen_gallery = replica_change(self.replica)
        with central._lock:
            snap = central._guard(lambda: _read_changes(central, seen, seen_gallery, force))
        if snap is None:
            return
        if central.encrypted and not self.replica.encrypted:  # sealed here too
            phrase = self._passphrase() if callable(self._passphrase) else self._passphrase
            self.replica.encrypt(phrase)
        _apply(self.replica, snap)

    def status(self) -> str:
        """ "central gallery: connected" or "...: offline since HH:MM, N rows queued"."""
        if self._stop.is_set():
            return "central gallery: closed"
        queued = self.outbox.queued()
        if self.offline_since is None:
            state = "connected"
        else:
            state = f"offline since {self.offline_since:%H:%M}"
        if not queued and self.offline_since is None:
            return f"central gallery: {state}"
        return f"central gallery: {state}, {queued} row{'s' if queued != 1 else ''} queued"

    def describe(self) -> dict:
        """Server (user@host/db, no password), replica counts and age, rows queued: what
        `central_status.describe` says, from this station's last sync (no server query)."""
        return describe(self.url, self.home, self.model_id, self.dim, ask_server=False,
                        connected=self.offline_since is None, offline_since=self.offline_since)

    def start(self, every_s: float = 2.0) -> None:
        """Sync in a background thread every `every_s` seconds until `close`."""
        def loop() -> None:
            while not self._stop.wait(every_s):
                try:
                    self.sync()
                except GalleryError as exc:  # e.g. a local disk fault: say so, keep going
                    self.last_error = str(exc)

        self._thread = threading.Thread(target=loop, name="central-sync", daemon=True)
        self._thread.start()

    # -- reading: the replica --------------------------------------------------------------

    @property
    def encrypted(self) -> bool:
        return self.replica.encrypted

    @property
    def warnings(self) -> list[str]:
        return self.replica.warnings

    @property
    def path(self) -> Path:
        """The local replica's file (what this station reads; the app watches it)."""
        return self.replica.path

    @property
    def _codec(self) -> sealing.Codec:
        """The replica's key (the server's): what the station's unknown-face store seals
        with (`openset.unknowns.UnknownStore.for_home` reads it off the gallery)."""
        return self.replica._codec

    @property
    def damaged(self) -> list:
        """The replica's unreadable templates (left out of search), as `Gallery.damaged`."""
        return self.replica.damaged

    def identify(self, embeddings: np.ndarray, threshold: float) -> list[Match]:
        return self.replica.identify(embeddings, threshold)

    def verify(self, name: str, embedding: np.ndarray, threshold: float) -> Match:
        return self.replica.verify(name, embedding, threshold)

    def people(self) -> list[Person]:
        return self.replica.people()

    def count_templates(self) -> int:
        return self.replica.count_templates()

    # -- writing: the server, then the replica ---------------------------------------------

    def _write(self, what: str, fn: Callable):
        from .pg.store import CentralUnreachable

        with self._lock:
            try:
                result = self._with_server(fn)
                self._refresh(self._central)
            except CentralUnreachable as exc:
                self._went_offline(exc)
                raise GalleryError(f"{what}: the central gallery {self.masked_url} is offline "
                                   f"since {self.offline_since:%H:%M}; nothing was changed. "
                                   "Try again when it is back (recognition goes on meanwhile)"
                                   ) from exc
        return result

    def enrol(self, name: str, embeddings: np.ndarray,
              thumbnails: list[bytes | None] | None = None,
              sources: list[str] | None = None,
              crops: list[np.ndarray | None] | None = None) -> int:
        return self._write(f"enrol {name!r}",
                           lambda c: c.enrol(name, embeddings, thumbnails, sources, crops))

    def add_negative(self, name: str, embedding: np.ndarray, source: str | None = None) -> int:
        """ "This is not `name`", stored on the server (every station's replica gets it)."""
        return self._write(f"not {name!r}", lambda c: c.add_negative(name, embedding, source))

    def count_negatives(self, name: str) -> int:
        return self.replica.count_negatives(name)

    def rename(self, old: str, new: str) -> str:
        return self._write(f"rename {old!r}", lambda c: c.rename(old, new))

    def remove(self, name: str) -> int:
        return self._write(f"remove {name!r}", lambda c: c.remove(name))

    def remove_person(self, name: str) -> tuple[str, int]:
        """Delete `name` on the server; returns (the name as stored, templates gone)."""
        return self._write(f"remove {name!r}", lambda c: c.remove_person(name))

    def templates(self, name: str) -> list[Template]:
        """`name`'s templates as last synced (the People tab's photo strip)."""
        return self.replica.templates(name)

    def remove_template(self, name: str, template_id: int) -> Template:
        """Delete one photo (template) of `name` on the server; every station follows."""
        return self._write(f"delete a photo of {name!r}",
                           lambda c: c.remove_template(name, template_id))

    # -- refused on a central gallery (central_limits) ---------------------------------------

    def pending_reembed(self) -> int:
        """Face crops in the replica without a template of this model (read only)."""
        return self.replica.pending_reembed()

    def reembed(self, embed: Callable, progress: ReembedProgress | None = None,
                batch: int = 16) -> ReembedReport:
        """Refused: the server's templates belong to the pack every station runs."""
        raise not_on_central(PACK_SWITCH)

    def set_adapter(self, w: np.ndarray | None) -> None:
        """None is accepted (no adapter is ever applied here); a learned map is refused."""
        if w is not None:
            raise not_on_central(LEARNING)

    def learning_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The replica's vectors, owners and negatives (read only; site calibration uses
        them). Training an adapter on them is refused by `set_adapter` and up front."""
        with self._lock:
            return self.replica.learning_data()

    def export(self, path: Path) -> None:
        """Write this station's replica (the central gallery as last synced) to `path`."""
        with self._lock:
            self.replica.export(path)

    def import_(self, path: Path, merge: bool = True, passphrase: sealing.Passphrase = None
                ) -> int:
        raise GalleryError(f"import into the central gallery {self.masked_url}: not done from "
                           "a station; nothing was changed. Import the file into a local "
                           "gallery and run `facelens gallery push URL` from there")

    def encrypt(self, passphrase: str) -> int:
        """Encrypt the central gallery (and then this replica) with `passphrase`."""
        self._passphrase = passphrase
        return self._write("encrypt", lambda c: c.encrypt(passphrase))

    def decrypt(self) -> int:
        """Store the central gallery's templates (and this replica's) in clear again."""
        count = self._write("decrypt", lambda c: c.decrypt())
        with self._lock:
            self.replica.decrypt()
        return count

    # -- lifetime --------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def close(self) -> None:
        self._stop.set()  # also tells `status` not to read the closed outbox
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            if self._central is not None:
                self._central.close()
                self._central = None
            self.replica.close()
            self.outbox.close()

    def __enter__(self) -> ReplicatedGallery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


CHANGE_KEY, GALLERY_KEY = "central_change", "central_gallery_id"  # in the replica's meta


def replica_change(replica: Gallery) -> tuple[str | None, str | None]:
    """(change number, server gallery id) the replica holds, kept in its own meta table
    (written with its rows, so a replaced or restored replica file is copied again whole)."""
    with replica._lock:
        c = replica._db
        if not db.has_meta(c):
            return None, None
        kept = dict(c.execute("SELECT key, value FROM meta WHERE key IN (?, ?)",
                              (CHANGE_KEY, GALLERY_KEY)).fetchall())
    return kept.get(CHANGE_KEY), kept.get(GALLERY_KEY)


@dataclass
class Snapshot:
    """What a replica needs from the server at change `number` (one consistent read):
    every person (`person_ids` None) or those changed, with their rows, in clear."""

    number: int
    gallery_id: str
    person_ids: list[int] | None
    people: list[tuple] = field(default_factory=list)
    templates: list[tuple] = field(default_factory=list)
    crops: list[tuple] = field(default_factory=list)
    negatives: list[tuple] = field(default_factory=list)


def _read_changes(central, seen: str | None, seen_gallery: str | None, force: bool
                  ) -> Snapshot | None:
    """The server's rows a replica at change `seen` of gallery `seen_gallery` lacks; None when
    it is up to date. One REPEATABLE READ transaction: a consistent snapshot."""
    c = central._db
    with c.transaction():
        c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        number = c.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
        gallery = c.execute("SELECT value FROM meta WHERE key = 'gallery_id'").fetchone()
        gallery = gallery[0] if gallery else ""
        same = not force and seen is not None and gallery == seen_gallery
        if same and int(seen) == number:
            return None
        pids = None
        if same and int(seen) < number:
            changed = c.execute("SELECT person_id FROM changes WHERE seq > %s",
                                (int(seen),)).fetchall()
            if all(pid is not None for (pid,) in changed):  # else e.g. encryption: all
                pids = sorted({pid for (pid,) in changed})
        where, args = ("", ()) if pids is None else (" WHERE {} = ANY(%s)", (pids,))
        snap = Snapshot(number, gallery, pids)
        snap.people = c.execute("SELECT id, name, created, updated FROM people"
                                + where.format("id"), args).fetchall()
        snap.templates = [
            (tid, pid, model, dim, central.open_template(tid, pid, model, dim, vec, sealed),
             central.open_thumbnail(tid, pid, thumb), src, created, cid)
            for tid, pid, model, dim, vec, sealed, thumb, src, created, cid in c.execute(
                "SELECT id, person_id, model_id, dim, embedding::real[], sealed, thumbnail, "
                "source, created, crop_id FROM templates" + where.format("person_id"), args)]
        snap.crops = [(cid, pid, central.open_crop(cid, pid, blob), created)
                      for cid, pid, blob, created in c.execute(
                          "SELECT id, person_id, crop, created FROM crops"
                          + where.format("person_id"), args)]
        snap.negatives = [
            (nid, pid, model, dim, central.open_negative(nid, pid, model, dim, blob), src,
             created)
            for nid, pid, model, dim, blob, src, created in c.execute(
                "SELECT id, person_id, model_id, dim, vector, source, created FROM negatives"
                + where.format("person_id"), args)]
    return snap


def _apply(replica: Gallery, snap: Snapshot) -> None:
    """Make `replica` hold the server's rows of `snap` (ids kept), in one transaction: the
    people it names (or everyone) are replaced, sealed the way the replica stores them."""
    codec = replica._codec
    with replica._lock:
        def write() -> None:
            with db.transaction(replica._db) as c:
                replica._check_codec(c)
                db.upgrade_crops(c)
                c.execute(negative_store.TABLE)
                if snap.person_ids is None:
                    gone, args = "", ()
                else:
                    marks = ",".join("?" * len(snap.person_ids))
                    gone, args = f" WHERE person_id IN ({marks})", tuple(snap.person_ids)
                for table in ("negatives", "templates", "crops"):
                    c.execute(f"DELETE FROM {table}{gone}", args)
                c.execute(f"DELETE FROM people{gone.replace('person_id', 'id')}", args)
                c.executemany("INSERT INTO people (id, name, created, updated) VALUES "
                              "(?, ?, ?, ?)", snap.people)
                c.executemany("INSERT INTO crops (id, person_id, crop, created) VALUES "
                              "(?, ?, ?, ?)", [(cid, pid, codec.seal_crop(cid, pid, png), cr)
                                               for cid, pid, png, cr in snap.crops])
                c.executemany(
                    "INSERT INTO templates (id, person_id, model_id, dim, vector, thumbnail, "
                    "source, created, crop_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(tid, pid, model, dim,
                      codec.seal_vector(tid, pid, model, dim, np.frombuffer(raw, "<f4")),
                      codec.seal_thumbnail(tid, pid, thumb), src, created, cid)
                     for tid, pid, model, dim, raw, thumb, src, created, cid in snap.templates])
                for nid, pid, model, dim, raw, src, created in snap.negatives:
                    negative_store.insert(c, codec, nid, pid, model, dim,
                                          np.frombuffer(raw, "<f4"), src, created)
                c.executemany("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) "
                              "DO UPDATE SET value = excluded.value",
                              [(CHANGE_KEY, str(snap.number)), (GALLERY_KEY, snap.gallery_id)])

        replica._guard(write)
        replica._guard(replica._reload)
