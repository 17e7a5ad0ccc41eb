"""The gallery: enrolled people and their face templates.

SQLite is the single source of truth; `TemplateIndex` (FAISS) is an in-memory cache of the
templates made by the current model, rebuilt from SQLite on open and whenever another process
has changed the file, and updated in place after this process's own writes.

A gallery may be encrypted at rest (`encrypt`, `decrypt`; see `sealing`): its vectors and
thumbnails are then stored sealed and decrypted on load into the FAISS cache.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import numpy as np

from ..errors import GalleryError
from ..openset import negatives as negative_store
from . import crops as crop_store
from . import db, sealing
from .index import TemplateIndex
from .names import clean_name, lookup_name, name_key
from .names import find_person as _find_person
from .records import DamagedTemplate, Match, Person, Template

DEFAULT_FILENAME = db.DEFAULT_FILENAME
T = TypeVar("T")


def default_db_path(home: Path) -> Path:
    """Where the gallery lives inside a FaceLens data folder."""
    return Path(home) / DEFAULT_FILENAME


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Gallery:
    """People and templates in one SQLite file, searched through FAISS. Thread-safe.

    Templates made by another model (or with another size) are kept but never searched:
    `other_model_templates` counts them and `warnings` says so.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, model_id: str, dim: int,
                 codec: sealing.Codec | None = None,
                 passphrase: sealing.Passphrase = None) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._codec = codec or sealing.Codec()
        self._passphrase = passphrase  # to unlock again if another process re-keys the file
        self.path = path
        self.model_id = model_id
        self.dim = dim
        self._lock = threading.RLock()
        self._index = TemplateIndex(dim)
        self._owner: dict[int, int] = {}  # template id -> person id (searched templates)
        self._names: dict[int, str] = {}  # person id -> name
        self._negatives: dict[int, np.ndarray] = {}  # person id -> "not this person" vectors
        self._raw_negatives: dict[int, np.ndarray] = {}
        self._raw = (np.zeros((0, dim), np.float32), np.zeros(0, np.int64))  # unadapted
        self.adapter: np.ndarray | None = None  # learned linear map (facelens.openset.adapter)
        self._data_version = -1
        self.other_model_templates = 0
        self.damaged: list[DamagedTemplate] = []  # unreadable templates, left out of search
        self.warnings: list[str] = []

    @classmethod
    def open(cls, db_path: Path, model_id: str, dim: int, *,
             passphrase: sealing.Passphrase = None, busy_timeout_s: float = 5.0) -> Gallery:
        """Open (or create) the gallery at `db_path` for embeddings of `model_id`, `dim` long.

        `passphrase` (a string, or a function returning it, called only when needed) unlocks
        an encrypted gallery; without it, or with a wrong one, an encrypted gallery raises
        GalleryError and is left unchanged. It does not encrypt a gallery: see `encrypt`.
        """
        if not model_id or not isinstance(model_id, str):
            raise GalleryError("model_id must be a non-empty string, e.g. 'lite/mobilefacenet-192'")
        if int(dim) <= 0:
            raise GalleryError(f"embedding size must be positive, not {dim}")
        path = Path(db_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = db.connect(path, busy_timeout_s)
        try:
            codec = sealing.unlock(_guarded(lambda: sealing.read_state(conn), path),
                                   passphrase, path)
            if codec.encrypted:
                conn.execute("PRAGMA secure_delete = ON")  # freed space is zeroed
        except BaseException:
            conn.close()
            raise
        gallery = cls(conn, path, model_id, int(dim), codec, passphrase)
        with gallery._lock:
            gallery._guard(gallery._reload)
        return gallery

    # -- reading ---------------------------------------------------------------------------

    def identify(self, embeddings: np.ndarray, threshold: float) -> list[Match]:
        """One Match per embedding row: its best person, or name None below `threshold`."""
        queries = self._vectors(embeddings)
        threshold = _threshold(threshold)
        with self._lock:
            self._guard(self._sync)
            queries = self._adapt(queries)
            ids, sims = self._index.best(queries)
            matches = []
            for template_id, sim, q in zip(ids.tolist(), sims.tolist(), queries, strict=True):
                person_id = self._owner.get(template_id)
                if person_id is None or sim < threshold or self._vetoed(person_id, sim, q):
                    matches.append(Match(None, float(sim), None))
                else:
                    matches.append(Match(self._names[person_id], float(sim), person_id))
            return matches

    def verify(self, name: str, embedding: np.ndarray, threshold: float) -> Match:
        """1:1: does `embedding` match `name`'s best template? Unknown name -> GalleryError."""
        query = self._vectors(embedding)
        if len(query) != 1:
            raise GalleryError(f"verify takes one embedding, got {len(query)}")
        threshold = _threshold(threshold)
        with self._lock:
            self._guard(self._sync)
            person_id, stored_name = self._person(name)
            rows = self._guard(lambda: self._db.execute(
                "SELECT id, vector FROM templates WHERE person_id = ? AND model_id = ? "
                "AND dim = ?", (person_id, self.model_id, self.dim)).fetchall())
            raw = self._readable(person_id, stored_name, rows)
        if rows and not raw:
            raise GalleryError(f"no template of {stored_name!r} can be read (altered or "
                               f"damaged): remove {stored_name!r} and enrol them again, or "
                               "restore a backup (export)")
        if not rows:
            raise GalleryError(f"{stored_name!r} has no templates made by {self.model_id}; "
                               "enrol them again with this model")
        vectors = self._adapt(np.frombuffer(b"".join(raw), "<f4").reshape(-1, self.dim))
        query = self._adapt(query)
        sim = float(np.clip((vectors @ query[0]).max(), -1.0, 1.0))
        if sim < threshold or self._vetoed(person_id, sim, query[0]):
            return Match(None, sim, None)
        return Match(stored_name, sim, person_id)

    def people(self) -> list[Person]:
        """Everyone enrolled, by name, with their first thumbnail."""
        with self._lock:
            self._guard(self._sync)
            rows = self._guard(lambda: self._db.execute(
                """SELECT p.id, p.name, p.created, p.updated,
                       (SELECT count(*) FROM templates t WHERE t.person_id = p.id
                           AND t.model_id = ? AND t.dim = ?),
                       (SELECT t.id FROM templates t WHERE t.person_id = p.id
                           AND t.thumbnail IS NOT NULL ORDER BY t.id LIMIT 1),
                       (SELECT t.thumbnail FROM templates t WHERE t.person_id = p.id
                           AND t.thumbnail IS NOT NULL ORDER BY t.id LIMIT 1)
                   FROM people p ORDER BY p.name COLLATE NOCASE""",
                (self.model_id, self.dim)).fetchall())
            people = [Person(pid, name, count, created, updated,
                             self._thumbnail_or_none(tid, pid, name, thumb))
                      for pid, name, created, updated, count, tid, thumb in rows]
            return sorted(people, key=lambda p: (name_key(p.name), p.name))

    def count_templates(self) -> int:
        """Templates searched (made by this model); see `other_model_templates` for the rest."""
        with self._lock:
            self._guard(self._sync)
            return len(self._index)

    # -- writing ---------------------------------------------------------------------------

    def enrol(self, name: str, embeddings: np.ndarray,
              thumbnails: list[bytes | None] | None = None,
              sources: list[str] | None = None,
              crops: list[np.ndarray | None] | None = None) -> int:
        """Add templates (rows of `embeddings`) to `name`, creating the person if new.

        `crops` (the aligned 112x112 faces the rows were made from) are kept, so that another
        model pack can re-embed them (`reembed`). Returns the number of templates added. All
        of them are written, or none.
        """
        name = clean_name(name)
        vectors = self._vectors(embeddings)
        n = len(vectors)
        thumbnails = _per_row(thumbnails, n, "thumbnails")
        sources = _per_row(sources, n, "sources")
        pngs = [None if c is None else crop_store.encode(c) for c in _per_row(crops, n, "crops")]
        for thumb in thumbnails:
            if thumb is not None and not isinstance(thumb, bytes | bytearray | memoryview):
                raise GalleryError(f"a thumbnail must be JPEG bytes, not {type(thumb).__name__}")
        now = _now()
        with self._lock:
            def write() -> tuple[int, str, list[int]]:
                with db.transaction(self._db) as c:
                    self._check_codec(c)
                    row = _find_person(c.execute("SELECT id, name FROM people"), name)
                    if row is None:
                        pid = c.execute("INSERT INTO people (name, created, updated) "
                                        "VALUES (?, ?, ?)", (name, now, now)).lastrowid
                        stored = name
                    else:
                        pid, stored = row
                        c.execute("UPDATE people SET updated = ? WHERE id = ?", (now, pid))
                    if any(png is not None for png in pngs):
                        db.upgrade_crops(c)
                    first = _next_template_id(c)  # ids are known before sealing (AAD)
                    ids = []
                    for tid, vec, thumb, src in zip(range(first, first + n), vectors,
                                                    thumbnails, sources, strict=True):
                        c.execute(
                            "INSERT INTO templates (id, person_id, model_id, dim, vector, "
                            "thumbnail, source, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (tid, pid, self.model_id, self.dim,
                             self._codec.seal_vector(tid, pid, self.model_id, self.dim, vec),
                             self._codec.seal_thumbnail(tid, pid, thumb), src, now))
                        ids.append(tid)
                    for tid, png in zip(ids, pngs, strict=True):
                        if png is not None:
                            cid = crop_store.store(c, self._codec, pid, png, now)
                            c.execute("UPDATE templates SET crop_id = ? WHERE id = ?", (cid, tid))
                return pid, stored, ids

            self._guard(self._sync)
            pid, stored, ids = self._guard(write)
            self._names[pid] = stored
            self._owner.update((tid, pid) for tid in ids)
            self._index.add(np.array(ids), vectors)
        return n

    def rename(self, old: str, new: str) -> str:
        """Give `old` the name `new` (which must not belong to someone else).

        The person is looked up and renamed in one transaction, so a concurrent remove or
        rename by another process makes this fail with a GalleryError instead of renaming
        no one (or someone else). Returns the name `old` was stored under.
        """
        new = clean_name(new)
        with self._lock:
            def write() -> tuple[int, str]:
                with db.transaction(self._db) as c:
                    pid, stored = self._person(old, c)
                    clash = _find_person(c.execute("SELECT id, name FROM people WHERE id != ?",
                                                   (pid,)), new)
                    if clash:
                        raise GalleryError(f"cannot rename {stored!r}: {clash[1]!r} already "
                                           "exists")
                    c.execute("UPDATE people SET name = ?, updated = ? WHERE id = ?",
                              (new, _now(), pid))
                return pid, stored

            pid, stored = self._guard(write)
            self._names[pid] = new
            return stored

    def remove(self, name: str) -> int:
        """Delete `name` with all their templates (and index entries); returns templates gone."""
        return self.remove_person(name)[1]

    def remove_person(self, name: str) -> tuple[str, int]:
        """Delete `name` with all their templates; returns (the name as stored, templates gone).

        The person is looked up and deleted in one transaction: a person another process
        renamed or removed meanwhile is never deleted under their old name.
        """
        with self._lock:
            def write() -> tuple[int, str, list[int]]:
                with db.transaction(self._db) as c:
                    pid, stored = self._person(name, c)
                    ids = [r[0] for r in c.execute(
                        "SELECT id FROM templates WHERE person_id = ?", (pid,))]
                    c.execute("DELETE FROM people WHERE id = ?", (pid,))  # cascades
                return pid, stored, ids

            pid, stored, ids = self._guard(write)
            searched = [tid for tid in ids if self._owner.pop(tid, None) is not None]
            self._index.remove(np.array(searched, np.int64))
            self._names.pop(pid, None)
            return stored, len(ids)

    # -- switching model packs ---------------------------------------------------------------

    def pending_reembed(self) -> int:
        """Stored face crops that have no template of this gallery's model yet."""
        with self._lock:
            return len(self._guard(lambda: crop_store.pending(self._db, self.model_id,
                                                              self.dim)))

    def reembed(self, embed: Callable[[list[np.ndarray]], np.ndarray],
                progress: crop_store.ReembedProgress | None = None,
                batch: int = 16) -> crop_store.ReembedReport:
        """Make a template of this model from every stored crop that lacks one.

        `embed` is the new pack's embedder (``FaceEngine.embed``). Each batch is written in
        its own transaction, so an interrupted run keeps what it did and the next run goes on
        from there. People enrolled before crops were kept are listed, not lost.
        """
        with self._lock:
            self._guard(self._sync)
            todo = self._guard(lambda: crop_store.pending(self._db, self.model_id, self.dim))
            total_crops = self._guard(lambda: self._db.execute(
                "SELECT count(*) FROM crops").fetchone()[0] if db.has_crops(self._db) else 0)
            done = 0
            if progress:
                progress(0, len(todo))
            for i in range(0, len(todo), batch):
                chunk = todo[i:i + batch]
                faces = [crop_store.decode(self._codec.open_crop(cid, pid, blob), cid)
                         for cid, pid, blob in chunk]
                vectors = self._vectors(embed(faces))
                self._guard(lambda chunk=chunk, faces=faces, vectors=vectors:
                            self._write_reembedded(chunk, faces, vectors))
                done += len(chunk)
                if progress:
                    progress(done, len(todo))
            self._guard(self._reload)  # the index now holds the new templates
            people = self._guard(lambda: self._db.execute(
                "SELECT count(*) FROM people").fetchone()[0])
            missing = self._guard(lambda: crop_store.people_without_crops(
                self._db, self.model_id, self.dim))
        return crop_store.ReembedReport(self.model_id, len(todo), total_crops - len(todo),
                                        people, missing)

    def _write_reembedded(self, chunk: list[tuple[int, int, bytes]], faces: list[np.ndarray],
                          vectors: np.ndarray) -> int:
        """One transaction: templates of this model for `chunk`'s crops; returns how many."""
        from ..images import encode_jpeg

        now = _now()
        out = 0
        with db.transaction(self._db) as c:
            self._check_codec(c)
            tid = _next_template_id(c)
            for (cid, pid, _), face, vec in zip(chunk, faces, vectors, strict=True):
                if c.execute("SELECT 1 FROM templates WHERE crop_id = ? AND model_id = ? AND "
                             "dim = ?", (cid, self.model_id, self.dim)).fetchone():
                    continue  # another process made it meanwhile
                c.execute(
                    "INSERT INTO templates (id, person_id, model_id, dim, vector, thumbnail, "
                    "source, created, crop_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (tid, pid, self.model_id, self.dim,
                     self._codec.seal_vector(tid, pid, self.model_id, self.dim, vec),
                     self._codec.seal_thumbnail(tid, pid, encode_jpeg(face)),
                     f"re-embedded from crop {cid}", now, cid))
                out += 1
                tid += 1
        return out

    # -- backup ----------------------------------------------------------------------------

    def export(self, path: Path) -> None:
        """Write a complete copy of the gallery to `path`: one SQLite file to keep as a backup."""
        path = Path(path)
        if path.resolve() == self.path.resolve():
            raise GalleryError(f"cannot export the gallery onto itself ({path})")
        part = path.with_name(path.name + ".part")
        try:
            part.unlink(missing_ok=True)
            copy = sqlite3.connect(part)
            try:
                with self._lock:
                    self._db.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")  # self-contained: no -wal file
            finally:
                copy.close()
            os.replace(part, path)
        except sqlite3.Error as exc:
            part.unlink(missing_ok=True)
            raise db.translate(exc, path) from exc
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise GalleryError(f"cannot write the export {path}: {exc}") from exc

    def import_(self, path: Path, merge: bool = True,
                passphrase: sealing.Passphrase = None) -> int:
        """Load an export. merge=True adds its people and templates to this gallery (skipping
        templates already here); merge=False replaces the whole gallery with it.

        An encrypted export needs its passphrase: `passphrase`, else the one this gallery was
        opened with (enough when the export was made from this gallery). Imported templates
        are stored the way this gallery stores them (sealed when it is encrypted).
        Returns the number of templates added. The export file is only read.
        """
        path = Path(path)
        if not path.is_file():
            raise GalleryError(f"no gallery export at {path}")
        source = db.connect(path, busy_timeout_s=5.0, read_only=True)
        try:
            state = _guarded(lambda: sealing.read_state(source), path)
            codec = (self._codec if sealing.same_key(self._codec, state) else
                     sealing.unlock(state, passphrase or self._passphrase, path))
            with self._lock:
                added = self._guard(lambda: self._import_from(source, codec, merge))
                self._guard(self._reload)
        finally:
            source.close()
        return added

    def _import_from(self, source: sqlite3.Connection, codec: sealing.Codec,
                     merge: bool) -> int:
        now = _now()
        added = 0
        with db.transaction(self._db) as c:
            self._check_codec(c)
            if not merge:
                c.execute("DELETE FROM people")  # cascades to templates
            ids: dict[int, int] = {}  # person id in the export -> here
            for old_id, name, created in source.execute(
                    "SELECT id, name, created FROM people ORDER BY id"):
                name = clean_name(name)
                row = _find_person(c.execute("SELECT id, name FROM people"), name)
                if row is None:
                    ids[old_id] = c.execute("INSERT INTO people (name, created, updated) "
                                            "VALUES (?, ?, ?)", (name, created, now)).lastrowid
                else:
                    ids[old_id] = row[0]
            known: dict[int, set[tuple[str, bytes]]] = {}  # person -> (model, vector bytes)
            tid = _next_template_id(c)
            for old_tid, old_pid, model, dim, vector, thumb, src, created in source.execute(
                    "SELECT id, person_id, model_id, dim, vector, thumbnail, source, created "
                    "FROM templates ORDER BY id"):
                pid = ids[old_pid]
                raw = codec.open_vector(old_tid, old_pid, model, dim, vector)
                if merge:  # compare in clear: sealed blobs differ even for equal vectors
                    if pid not in known:
                        known[pid] = {(m, self._codec.open_vector(t, pid, m, d, v))
                                      for t, m, d, v in c.execute(
                                          "SELECT id, model_id, dim, vector FROM templates "
                                          "WHERE person_id = ?", (pid,))}
                    if (model, raw) in known[pid]:
                        continue
                    known[pid].add((model, raw))
                thumb = codec.open_thumbnail(old_tid, old_pid, thumb)
                c.execute("INSERT INTO templates (id, person_id, model_id, dim, vector, "
                          "thumbnail, source, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          (tid, pid, model, dim,
                           self._codec.seal_vector(tid, pid, model, dim,
                                                   np.frombuffer(raw, "<f4")),
                           self._codec.seal_thumbnail(tid, pid, thumb), src, created))
                c.execute("UPDATE people SET updated = ? WHERE id = ?", (now, pid))
                tid += 1
                added += 1
        return added

    # -- encryption at rest ----------------------------------------------------------------

    @property
    def encrypted(self) -> bool:
        """Whether templates and thumbnails are stored sealed (AES-256-GCM)."""
        return self._codec.encrypted

    def encrypt(self, passphrase: str) -> int:
        """Seal every template and thumbnail with a key made from `passphrase` (new salt).

        On an encrypted gallery this changes the passphrase. One transaction: everything is
        re-sealed or nothing is. Afterwards the file is rewritten (VACUUM) so that no
        unencrypted copy is left in its free space. Returns the number of templates.
        """
        codec = sealing.new_codec(passphrase)
        with self._lock:
            self._db.execute("PRAGMA secure_delete = ON")
            count = self._reseal(codec)
            self._passphrase = passphrase
            try:
                self._db.execute("VACUUM")
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                self.warnings.append(f"the gallery is encrypted, but its file could not be "
                                     f"compacted ({exc}): unencrypted leftovers may remain in "
                                     "free space until FaceLens next compacts it")
        return count

    def decrypt(self) -> int:
        """Store every template and thumbnail in clear again (the gallery must be unlocked).

        One transaction; returns the number of templates (0 when it was not encrypted).
        """
        with self._lock:
            if not self._codec.encrypted:
                return 0
            count = self._reseal(sealing.Codec())
            self._passphrase = None
            return count

    def _reseal(self, new: sealing.Codec) -> int:
        self._guard(self._sync)
        if self.damaged:  # what cannot be read cannot be sealed again
            raise GalleryError("nothing was changed: the gallery holds damaged templates; "
                               + "; ".join(d.message() for d in self.damaged))
        old = self._codec

        def write() -> int:
            with db.transaction(self._db) as c:
                self._check_codec(c)
                db.upgrade(c)
                rows = c.execute("SELECT id, person_id, model_id, dim, vector, thumbnail "
                                 "FROM templates").fetchall()
                for tid, pid, model, dim, vector, thumb in rows:
                    raw = np.frombuffer(old.open_vector(tid, pid, model, dim, vector), "<f4")
                    c.execute("UPDATE templates SET vector = ?, thumbnail = ? WHERE id = ?",
                              (new.seal_vector(tid, pid, model, dim, raw),
                               new.seal_thumbnail(tid, pid, old.open_thumbnail(tid, pid, thumb)),
                               tid))
                crop_store.reseal(c, old, new)
                negative_store.reseal(c, old, new)
                sealing.write_state(c, new)
            return len(rows)

        count = self._guard(write)
        self._codec = new
        return count

    # -- lifetime --------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._conn is None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise GalleryError(f"the gallery {self.path} is closed")
        return self._conn

    def _guard(self, fn: Callable[[], T]) -> T:
        """Run `fn`, turning SQLite errors into GalleryErrors about the file."""
        return _guarded(fn, self.path)

    def _reload(self) -> None:
        """Rebuild the index and name maps from SQLite (decrypting the vectors if sealed)."""
        c = self._db
        data_version = c.execute("PRAGMA data_version").fetchone()[0]
        state = sealing.read_state(c)
        codec = self._codec
        if not sealing.same_key(codec, state):  # another process (de/re-)encrypted the file
            codec = sealing.unlock(state, self._passphrase, self.path)
        names = dict(c.execute("SELECT id, name FROM people"))
        rows = c.execute("SELECT id, person_id, vector FROM templates "
                         "WHERE model_id = ? AND dim = ? ORDER BY id",
                         (self.model_id, self.dim)).fetchall()
        index = TemplateIndex(self.dim)
        damaged, good, raw = [], [], []
        for tid, pid, blob in rows:  # one damaged row is left out; the others are served
            try:
                raw.append(codec.open_vector(tid, pid, self.model_id, self.dim, blob))
                good.append((tid, pid, blob))
            except sealing.TemplateUnreadable as exc:
                damaged.append(DamagedTemplate(tid, pid, names.get(pid, "?"), exc.why))
        rows = good
        vectors = np.frombuffer(b"".join(raw), "<f4").reshape(-1, self.dim)
        if rows:
            index.add(np.array([r[0] for r in rows]), self._adapt(vectors))
        self._raw = (vectors, np.array([r[1] for r in rows], dtype=np.int64))
        if codec.encrypted and not self._codec.encrypted:
            c.execute("PRAGMA secure_delete = ON")
        self._codec, self._names, self._index = codec, names, index
        self._owner = {tid: pid for tid, pid, _ in rows}
        self._raw_negatives = negative_store.load(c, codec, self.model_id, self.dim)
        self._negatives = {k: self._adapt(v) for k, v in self._raw_negatives.items()}
        self._data_version = data_version
        self.other_model_templates = c.execute(
            "SELECT count(*) FROM templates WHERE NOT (model_id = ? AND dim = ?)",
            (self.model_id, self.dim)).fetchone()[0]
        self.damaged = damaged
        self.warnings = [d.message() for d in damaged]
        if self.other_model_templates:
            self.warnings.append(
                f"{self.other_model_templates} templates were made by another model than "
                f"{self.model_id} and are not searched; enrol those people again to use them")

    def _readable(self, pid: int, name: str, rows: list) -> list[bytes]:
        """The vectors of `rows` (id, blob) of person `pid` that can be read; the others
        are added to `damaged` (once each)."""
        out = []
        for tid, blob in rows:
            try:
                out.append(self._codec.open_vector(tid, pid, self.model_id, self.dim, blob))
            except sealing.TemplateUnreadable as exc:
                if all(d.template_id != tid for d in self.damaged):
                    self.damaged.append(DamagedTemplate(tid, pid, name, exc.why))
                    self.warnings.append(self.damaged[-1].message())
        return out

    def _thumbnail_or_none(self, tid: int | None, pid: int, name: str,
                           blob: bytes | None) -> bytes | None:
        """A person's thumbnail, or None when it cannot be read (added to `damaged`)."""
        try:
            return self._codec.open_thumbnail(tid, pid, blob)
        except sealing.TemplateUnreadable as exc:
            why = f"its thumbnail: {exc.why}"
            if all((d.template_id, d.why) != (tid, why) for d in self.damaged):
                self.damaged.append(DamagedTemplate(tid, pid, name, why))
                self.warnings.append(self.damaged[-1].message())
            return None

    def _check_codec(self, c: sqlite3.Connection) -> None:
        """Inside a write: refuse if another process changed the encryption since we looked."""
        if not sealing.same_key(self._codec, sealing.read_state(c)):
            raise GalleryError(f"another FaceLens process changed the encryption of the gallery "
                               f"{self.path} meanwhile; nothing was written. Try again.")

    def _sync(self) -> None:
        """Reload if another connection (another process) has committed since we last looked."""
        if self._db.execute("PRAGMA data_version").fetchone()[0] != self._data_version:
            self._reload()

    def _person(self, name: str, conn: sqlite3.Connection | None = None) -> tuple[int, str]:
        """(id, stored name) of `name` in any case or Unicode spelling (read through `conn`,
        e.g. inside a write transaction); GalleryError when no one is called that."""
        cleaned = lookup_name(name)
        c = conn if conn is not None else self._db
        row = self._guard(lambda: _find_person(c.execute("SELECT id, name FROM people"),
                                               cleaned, name.strip()))
        if row is None:
            raise GalleryError(f"no one called {cleaned!r} is enrolled in the gallery")
        return row

    def _vectors(self, embeddings: np.ndarray) -> np.ndarray:
        """`embeddings` as unit float32 rows [n, dim]; GalleryError for wrong or bad values."""
        arr = np.asarray(embeddings, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.dim or len(arr) == 0:
            raise GalleryError(f"embeddings must be [n, {self.dim}] for {self.model_id}, "
                               f"got shape {tuple(np.shape(embeddings))}")
        if not np.isfinite(arr).all():
            raise GalleryError("embeddings contain NaN or infinite values")
        norms = np.linalg.norm(arr, axis=1, keepdims=True)
        if (norms < 1e-6).any():
            raise GalleryError("an embedding is all zeros")
        return np.ascontiguousarray(arr / norms, dtype=np.float32)

    # -- one person's templates (appended: photos in the people manager) -------------------

    def templates(self, name: str) -> list[Template]:
        """`name`'s templates, oldest first, with their thumbnails (decrypted if sealed)."""
        with self._lock:
            self._guard(self._sync)
            pid, _ = self._person(name)
            rows = self._guard(lambda: self._db.execute(
                "SELECT id, model_id, dim, source, created, thumbnail FROM templates "
                "WHERE person_id = ? ORDER BY id", (pid,)).fetchall())
            bad = {d.template_id for d in self.damaged}
            return [Template(tid, pid, model, src, created,
                             model == self.model_id and dim == self.dim and tid not in bad,
                             self._thumbnail_or_none(tid, pid, name, thumb))
                    for tid, model, dim, src, created, thumb in rows]

    def remove_template(self, name: str, template_id: int) -> Template:
        """Delete one template of `name` (one transaction); returns what was deleted.

        GalleryError when `name` is not enrolled or the template is not theirs (e.g. another
        process deleted it meanwhile): then nothing is deleted. The person stays enrolled,
        also with no templates left. The photo's stored face crop goes too, with the templates
        other packs made from it, so a later pack switch cannot bring the photo back.
        """
        with self._lock:
            pid, stored = self._person(name)

            def write() -> Template:
                with db.transaction(self._db) as c:
                    row = c.execute("SELECT model_id, dim, source, created FROM templates "
                                    "WHERE id = ? AND person_id = ?",
                                    (int(template_id), pid)).fetchone()
                    if row is None:
                        raise GalleryError(f"{stored!r} has no photo (template) {template_id}; "
                                           "it may have been deleted already: refresh the list")
                    crop_id = c.execute("SELECT crop_id FROM templates WHERE id = ?",
                                        (int(template_id),)).fetchone()[0] \
                        if db.has_crops(c) else None
                    if crop_id is not None:  # the photo itself: its crop and every template
                        c.execute("DELETE FROM templates WHERE crop_id = ? AND person_id = ?",
                                  (crop_id, pid))
                        c.execute("DELETE FROM crops WHERE id = ? AND person_id = ?",
                                  (crop_id, pid))
                    c.execute("DELETE FROM templates WHERE id = ?", (int(template_id),))
                    c.execute("UPDATE people SET updated = ? WHERE id = ?", (_now(), pid))
                model, dim, src, created = row
                return Template(int(template_id), pid, model, src, created,
                                model == self.model_id and dim == self.dim)

            gone = self._guard(write)
            if self._owner.pop(gone.id, None) is not None:
                self._index.remove(np.array([gone.id], np.int64))
            return gone

    # -- "this is not X": negative templates (facelens.openset.negatives) -------------------
    def _vetoed(self, person_id: int, sim: float, query: np.ndarray) -> bool:
        """A match that is not closer to the person than to their negatives by the margin."""
        return negative_store.vetoed(sim, query, self._negatives.get(person_id))


    def add_negative(self, name: str, embedding: np.ndarray,
                     source: str | None = None) -> int:
        """Store `embedding` as "not `name`": from now on such a face is not named `name`."""
        query = self._vectors(embedding)
        if len(query) != 1:
            raise GalleryError(f"a negative is one embedding, got {len(query)}")
        with self._lock:
            self._guard(self._sync)
            pid, _ = self._person(name)

            def write() -> int:
                with db.transaction(self._db) as c:
                    self._check_codec(c)
                    return negative_store.add(c, self._codec, pid, self.model_id, self.dim,
                                              query[0], source, _now())

            nid = self._guard(write)
            self._reload()
            return nid


    def count_negatives(self, name: str) -> int:
        """How many "not `name`" corrections this model has for `name`."""
        with self._lock:
            pid, _ = self._person(name)
            return self._guard(lambda: negative_store.count(self._db, pid, self.model_id))

    # -- a learned adapter (facelens.openset.adapter) -----------------------------------------
    def _adapt(self, x: np.ndarray) -> np.ndarray:
        from ..openset.adapter import adapt

        return x if self.adapter is None else adapt(self.adapter, x)

    def set_adapter(self, w: np.ndarray | None) -> None:
        """Search through the linear map `w` from now on (None: the embeddings as made)."""
        with self._lock:
            self.adapter = None if w is None else np.asarray(w, np.float32)
            self._guard(self._reload)

    def learning_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unadapted vectors, their person ids (-1 for a negative) and, for negatives, whose
        negative they are (-1 for templates): what `facelens learn` trains on."""
        with self._lock:
            self._guard(self._reload)  # own writes update the index in place, not `_raw`
            x, owner = self._raw
            parts, labels, neg_of = [x], [owner], [np.full(len(x), -1)]
            for pid, v in self._raw_negatives.items():
                parts.append(v)
                labels.append(np.full(len(v), -1))
                neg_of.append(np.full(len(v), pid))
            return (np.concatenate(parts).astype(np.float64), np.concatenate(labels),
                    np.concatenate(neg_of))


def _guarded(fn: Callable[[], T], path: Path) -> T:
    """Run `fn`, turning SQLite errors into GalleryErrors about `path`."""
    try:
        return fn()
    except sqlite3.Error as exc:
        raise db.translate(exc, path) from exc


def _next_template_id(c: sqlite3.Connection) -> int:
    """The id the next template gets (known before it is written, as sealing binds to it)."""
    return c.execute("SELECT coalesce(max(id), 0) + 1 FROM templates").fetchone()[0]


def _threshold(value: float) -> float:
    value = float(value)
    if not np.isfinite(value):
        raise GalleryError(f"threshold must be a finite number, not {value}")
    return value


def _per_row(values: list | None, n: int, what: str) -> list:
    if values is None:
        return [None] * n
    values = list(values)
    if len(values) != n:
        raise ValueError(f"{what}: {len(values)} given for {n} embeddings")
    return values

