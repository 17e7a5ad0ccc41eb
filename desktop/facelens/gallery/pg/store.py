"""`PgGallery`: the gallery on a PostgreSQL server with pgvector, searched by HNSW.

It offers what `Gallery` offers (see `backend.GalleryBackend`). Similarities are cosine
similarities of unit vectors (pgvector's inner product); `identify` asks the model's partial
HNSW index for the nearest template, so at large sizes it is approximate (see bench-gallery).
People are found in any case and Unicode spelling (`names.name_key`), as in the local gallery.
Enrolments keep the aligned face crops; "not X" negatives veto a match as they do locally.

Encrypted (`encrypt`): templates and thumbnails are stored sealed (AES-256-GCM, as in the
local gallery, see `sealing`), so the server stores and returns them without ever holding the
key, and cannot search them: `identify` then decrypts this model's templates into an
in-memory FAISS index on the client (rebuilt when the change number moves) and searches that.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import numpy as np

from ...errors import GalleryError
from ...openset import negatives as negative_store
from .. import crops as crop_store
from .. import sealing
from ..index import TemplateIndex
from ..names import clean_name, lookup_name, name_key
from ..records import Match, Person, Template
from . import schema
from .url import mask_url

try:
    import psycopg
    from psycopg import sql
except ImportError:  # the central extra is not installed
    psycopg = None

T = TypeVar("T")


class CentralUnreachable(GalleryError):
    """The server cannot be reached now (down, network away); nothing was changed there."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def vector_text(vec: np.ndarray) -> str:
    """A float32 vector in pgvector's text form (exact: float32 values print round-trip)."""
    return "[" + ",".join(repr(x) for x in np.asarray(vec, np.float32).tolist()) + "]"


def connect(url: str, connect_timeout_s: int = 5) -> psycopg.Connection:
    """An autocommit connection to `url`; GalleryError (password masked) when it fails."""
    if psycopg is None:
        raise GalleryError("a postgresql:// gallery needs psycopg; install FaceLens with the "
                           "'central' extra (pip install 'facelens[central]')")
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout_s)
    except psycopg.Error as exc:
        raise CentralUnreachable(f"central gallery {mask_url(url)}: cannot connect "
                           f"({_first_line(exc)}); check the server is running and the URL, "
                           "user and password (PGPASSWORD or ~/.pgpass)") from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class PgGallery:
    """People and templates on a PostgreSQL server. Thread-safe (one connection, a lock)."""

    central = True  # see central_limits.is_central

    def __init__(self, conn: psycopg.Connection, url: str, model_id: str, dim: int) -> None:
        self._conn: psycopg.Connection | None = conn
        self.url = mask_url(url)
        self.model_id = model_id
        self.dim = dim
        self._lock = threading.RLock()
        self.warnings: list[str] = []
        self.other_model_templates = 0
        self._codec = sealing.Codec()
        self._cache: tuple[int, TemplateIndex, dict, dict, dict] | None = None  # encrypted search

    @classmethod
    def open(cls, url: str, model_id: str, dim: int, *, connect_timeout_s: int = 5,
             passphrase: sealing.Passphrase = None, **_: object) -> PgGallery:
        """Connect to `url`, create the tables and `model_id`'s HNSW index when missing.

        CentralUnreachable when the server cannot be reached (within `connect_timeout_s`).
        """
        if not model_id or not isinstance(model_id, str):
            raise GalleryError("model_id must be a non-empty string, e.g. 'lite/mobilefacenet-192'")
        if int(dim) <= 0:
            raise GalleryError(f"embedding size must be positive, not {dim}")
        conn = connect(url, connect_timeout_s)
        gallery = cls(conn, url, model_id, int(dim))
        try:
            gallery._guard(lambda: schema.create(conn))
            gallery._guard(lambda: schema.ensure_index(conn, model_id, int(dim)))
            gallery._count_others()
            gallery._codec = sealing.unlock(gallery._guard(gallery._state), passphrase,
                                            gallery.url)
        except BaseException:
            conn.close()
            raise
        return gallery

    @property
    def encrypted(self) -> bool:
        return self._codec.encrypted

    def encrypt(self, passphrase: str) -> int:
        """Seal every template and thumbnail on the server with a key from `passphrase` (a
        new salt; on an encrypted gallery this changes the passphrase). One transaction."""
        return self._reseal(sealing.new_codec(passphrase))

    def decrypt(self) -> int:
        """Store every template in clear again, searchable by pgvector (one transaction)."""
        return self._reseal(sealing.Codec()) if self.encrypted else 0

    def _reseal(self, new: sealing.Codec) -> int:
        old = self._codec

        def write() -> int:
            c = self._db
            with c.transaction():
                c.execute("SELECT pg_advisory_xact_lock(4642)")  # no write meanwhile
                self._check_codec(c)
                rows = c.execute("SELECT id, person_id, model_id, dim, embedding::real[], "
                                 "sealed, thumbnail FROM templates").fetchall()
                for tid, pid, model, dim, vec, blob, thumb in rows:
                    raw = (np.asarray(vec, "<f4") if vec is not None else np.frombuffer(
                        old.open_vector(tid, pid, model, dim, bytes(blob)), "<f4"))
                    thumb = old.open_thumbnail(tid, pid, None if thumb is None else bytes(thumb))
                    if new.encrypted:
                        c.execute("UPDATE templates SET embedding = NULL, sealed = %s, "
                                  "thumbnail = %s WHERE id = %s",
                                  (new.seal_vector(tid, pid, model, dim, raw),
                                   new.seal_thumbnail(tid, pid, thumb), tid))
                    else:
                        c.execute("UPDATE templates SET embedding = %s::vector, sealed = NULL, "
                                  "thumbnail = %s WHERE id = %s", (vector_text(raw), thumb, tid))
                for cid, pid, blob in c.execute("SELECT id, person_id, crop FROM crops"
                                                ).fetchall():
                    c.execute("UPDATE crops SET crop = %s WHERE id = %s",
                              (new.seal_crop(cid, pid, old.open_crop(cid, pid, bytes(blob))),
                               cid))
                for nid, pid, model, dim, blob in c.execute(
                        "SELECT id, person_id, model_id, dim, vector FROM negatives").fetchall():
                    sealed_as = negative_store.sealed_model(model)
                    raw = np.frombuffer(old.open_vector(nid, pid, sealed_as, dim, bytes(blob)),
                                        "<f4")
                    c.execute("UPDATE negatives SET vector = %s WHERE id = %s",
                              (new.seal_vector(nid, pid, sealed_as, dim, raw), nid))
                state = new.state()
                if state is None:
                    c.execute("DELETE FROM meta WHERE key = %s", (sealing.META_KEY,))
                else:
                    c.execute("INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) "
                              "DO UPDATE SET value = excluded.value",
                              (sealing.META_KEY, json.dumps(state)))
                schema.log_change(c, "encryption")
                return len(rows)

        with self._lock:
            count = self._guard(write)
            self._codec, self._cache = new, None
        return count

    def _state(self) -> dict | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = %s",
                               (sealing.META_KEY,)).fetchone()
        return None if row is None else json.loads(row[0])

    def _check_codec(self, c) -> None:
        """Inside a write: refuse if another station changed the encryption meanwhile."""
        if not sealing.same_key(self._codec, self._state()):
            raise GalleryError(f"another FaceLens station changed the encryption of the central "
                               f"gallery {self.url} meanwhile; nothing was written. Open it "
                               "again (with the new passphrase) and retry")

    def insert_template(self, c, pid: int, model: str, dim: int, vec: np.ndarray,
                        thumb: bytes | None, src: str | None, created: str,
                        crop_id: int | None = None) -> None:
        """Insert one template row inside the caller's transaction, sealed when encrypted."""
        if not self._codec.encrypted:
            c.execute("INSERT INTO templates (person_id, model_id, dim, embedding, thumbnail, "
                      "source, created, crop_id) VALUES (%s, %s, %s, %s::vector, %s, %s, %s, "
                      "%s)", (pid, model, dim, vector_text(vec), thumb, src, created, crop_id))
            return
        tid = _next_id(c, "templates")  # sealing binds the blob to its id
        c.execute("INSERT INTO templates (id, person_id, model_id, dim, sealed, thumbnail, "
                  "source, created, crop_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                  (tid, pid, model, dim, self._codec.seal_vector(tid, pid, model, dim, vec),
                   self._codec.seal_thumbnail(tid, pid, thumb), src, created, crop_id))

    def insert_crop(self, c, pid: int, png: bytes, created: str) -> int:
        """Insert one aligned face crop (PNG bytes) inside the caller's transaction; its id."""
        cid = _next_id(c, "crops")
        c.execute("INSERT INTO crops (id, person_id, crop, created) VALUES (%s, %s, %s, %s)",
                  (cid, pid, self._codec.seal_crop(cid, pid, png), created))
        return cid

    def insert_negative(self, c, pid: int, model: str, dim: int, vec: np.ndarray,
                        src: str | None, created: str) -> int:
        """Insert one negative ("not this person") inside the caller's transaction; its id."""
        nid = _next_id(c, "negatives")
        c.execute("INSERT INTO negatives (id, person_id, model_id, dim, vector, source, "
                  "created) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                  (nid, pid, model, dim, self._codec.seal_vector(
                      nid, pid, negative_store.sealed_model(model), dim, vec), src, created))
        return nid

    def open_negative(self, nid: int, pid: int, model: str, dim: int, blob) -> bytes:
        return self._codec.open_vector(nid, pid, negative_store.sealed_model(model), dim,
                                       bytes(blob))

    def open_crop(self, cid: int, pid: int, blob) -> bytes:
        return self._codec.open_crop(cid, pid, bytes(blob))

    def open_template(self, tid: int, pid: int, model: str, dim: int, vec, sealed) -> bytes:
        """A template row's float32 bytes, whether stored in clear or sealed."""
        if vec is not None:
            return np.asarray(vec, "<f4").tobytes()
        return self._codec.open_vector(tid, pid, model, dim, bytes(sealed))

    def open_thumbnail(self, tid: int, pid: int, thumb) -> bytes | None:
        return self._codec.open_thumbnail(tid, pid, None if thumb is None else bytes(thumb))

    def _sealed_search(self, queries: np.ndarray) -> tuple[list, list, dict]:
        """Client-side search of an encrypted gallery: (person ids, sims, names)."""
        number = self.change_number()
        if self._cache is None or self._cache[0] != number:
            def read() -> tuple[list, list]:
                c = self._db
                rows = c.execute("SELECT id, person_id, sealed FROM templates WHERE "
                                 "model_id = %s AND dim = %s AND sealed IS NOT NULL ORDER BY id",
                                 (self.model_id, self.dim)).fetchall()
                negs = c.execute("SELECT id, person_id, vector FROM negatives WHERE "
                                 "model_id = %s AND dim = %s", (self.model_id, self.dim)
                                 ).fetchall()
                return rows, c.execute("SELECT id, name FROM people").fetchall(), negs

            rows, names, negs = self._guard(read)
            negatives: dict[int, list[bytes]] = {}
            for nid, pid, blob in negs:
                negatives.setdefault(pid, []).append(
                    self.open_negative(nid, pid, self.model_id, self.dim, blob))
            index = TemplateIndex(self.dim)
            if rows:
                raw = b"".join(self._codec.open_vector(t, p, self.model_id, self.dim, bytes(b))
                               for t, p, b in rows)
                index.add(np.array([r[0] for r in rows]),
                          np.frombuffer(raw, "<f4").reshape(-1, self.dim))
            self._cache = (number, index, {t: p for t, p, _ in rows}, dict(names),
                           {p: self._negative_array(v) for p, v in negatives.items()})
        _, index, owner, names, negatives = self._cache
        ids, sims = index.best(queries)
        return [owner.get(t) for t in ids.tolist()], sims.tolist(), names, negatives

    def _negative_array(self, blobs: list) -> np.ndarray:
        """Negatives' float32 bytes (in clear) as rows [n, dim]."""
        return np.frombuffer(b"".join(bytes(b) for b in blobs), "<f4").reshape(-1, self.dim)

    # -- reading ---------------------------------------------------------------------------

    def identify(self, embeddings: np.ndarray, threshold: float) -> list[Match]:
        """One Match per row: the nearest template by the HNSW index, None below threshold."""
        queries = self._vectors(embeddings)
        threshold = float(threshold)
        query = sql.SQL(
            "SELECT t.person_id, p.name, -((t.embedding::vector({dim})) <#> %s::vector({dim})), "
            "(SELECT array_agg(n.vector) FROM negatives n WHERE n.person_id = t.person_id "
            "AND n.model_id = {model} AND n.dim = {dim}) "
            "FROM templates t JOIN people p ON p.id = t.person_id "
            "WHERE t.model_id = {model} AND t.dim = {dim} "
            "ORDER BY (t.embedding::vector({dim})) <#> %s::vector({dim}) LIMIT 1").format(
                dim=sql.Literal(self.dim), model=sql.Literal(self.model_id))
        matches = []
        with self._lock:
            if self.encrypted:
                pids, sims, names, negatives = self._sealed_search(queries)
                return [Match(names[p], float(m), p) if p is not None and m >= threshold
                        and not negative_store.vetoed(m, q, negatives.get(p))
                        else Match(None, float(m), None)
                        for p, m, q in zip(pids, sims, queries, strict=True)]
            for q in queries:
                text = vector_text(q)
                row = self._guard(lambda t=text: self._db.execute(query, (t, t)).fetchone())
                if row is None:
                    matches.append(Match(None, -1.0, None))
                    continue
                pid, name, sim = row[0], row[1], float(np.clip(row[2], -1.0, 1.0))
                negatives = None if row[3] is None else self._negative_array(row[3])
                matches.append(Match(name, sim, pid) if sim >= threshold and not
                               negative_store.vetoed(sim, q, negatives)
                               else Match(None, sim, None))
        return matches

    def verify(self, name: str, embedding: np.ndarray, threshold: float) -> Match:
        """1:1 against `name`'s best template (exact). Unknown name -> GalleryError."""
        query = self._vectors(embedding)
        if len(query) != 1:
            raise GalleryError(f"verify takes one embedding, got {len(query)}")
        with self._lock:
            pid, stored = self._person(name)
            rows = self._guard(lambda: self._db.execute(
                "SELECT id, embedding::real[], sealed FROM templates WHERE person_id = %s "
                "AND model_id = %s AND dim = %s", (pid, self.model_id, self.dim)).fetchall())
            raw = [self.open_template(t, pid, self.model_id, self.dim, v, b) for t, v, b in rows]
            negs = [self.open_negative(n, pid, self.model_id, self.dim, b)
                    for n, b in self._guard(lambda: self._db.execute(
                        "SELECT id, vector FROM negatives WHERE person_id = %s AND "
                        "model_id = %s AND dim = %s", (pid, self.model_id, self.dim)))]
        if not rows:
            raise GalleryError(f"{stored!r} has no templates made by {self.model_id}; "
                               "enrol them again with this model")
        vectors = np.frombuffer(b"".join(raw), "<f4").reshape(-1, self.dim)
        sim = float(np.clip((vectors @ query[0]).max(), -1.0, 1.0))
        if sim < float(threshold) or negative_store.vetoed(
                sim, query[0], self._negative_array(negs) if negs else None):
            return Match(None, sim, None)
        return Match(stored, sim, pid)

    def people(self) -> list[Person]:
        """Everyone enrolled, by name, with their first thumbnail."""
        with self._lock:
            rows = self._guard(lambda: self._db.execute(
                """SELECT p.id, p.name, p.created, p.updated,
                       (SELECT count(*) FROM templates t WHERE t.person_id = p.id
                           AND t.model_id = %s AND t.dim = %s),
                       (SELECT t.id FROM templates t WHERE t.person_id = p.id
                           AND t.thumbnail IS NOT NULL ORDER BY t.id LIMIT 1),
                       (SELECT t.thumbnail FROM templates t WHERE t.person_id = p.id
                           AND t.thumbnail IS NOT NULL ORDER BY t.id LIMIT 1)
                   FROM people p""",
                (self.model_id, self.dim)).fetchall())
            people = [Person(pid, name, int(count), created, updated,
                             self.open_thumbnail(tid, pid, thumb))
                      for pid, name, created, updated, count, tid, thumb in rows]
            return sorted(people, key=lambda p: (name_key(p.name), p.name))

    def count_templates(self) -> int:
        with self._lock:
            return int(self._guard(lambda: self._db.execute(
                "SELECT count(*) FROM templates WHERE model_id = %s AND dim = %s",
                (self.model_id, self.dim)).fetchone()[0]))

    def change_number(self) -> int:
        """The newest change's number: it grows with every enrol, rename and removal."""
        with self._lock:
            return int(self._guard(lambda: self._db.execute(
                "SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]))

    # -- writing ---------------------------------------------------------------------------

    def enrol(self, name: str, embeddings: np.ndarray,
              thumbnails: list[bytes | None] | None = None,
              sources: list[str] | None = None,
              crops: list[np.ndarray | None] | None = None) -> int:
        """Add templates to `name` (created if new): all of them in one transaction, or none.

        `crops` (the aligned 112x112 faces) are kept so that a station on another model pack
        can re-embed them, as in the local gallery."""
        name = clean_name(name)
        vectors = self._vectors(embeddings)
        n = len(vectors)
        thumbnails = _per_row(thumbnails, n, "thumbnails")
        sources = _per_row(sources, n, "sources")
        pngs = [None if k is None else crop_store.encode(k) for k in _per_row(crops, n, "crops")]
        now = _now()

        def write() -> None:
            c = self._db
            with c.transaction():
                c.execute("SELECT pg_advisory_xact_lock_shared(4642)")
                self._check_codec(c)
                schema.lock_name(c, name_key(name))
                row = schema.find_person(c, name)
                if row is None:
                    pid = c.execute("INSERT INTO people (name, name_key, created, updated) "
                                    "VALUES (%s, %s, %s, %s) RETURNING id",
                                    (name, name_key(name), now, now)).fetchone()[0]
                else:
                    pid = row[0]
                    c.execute("UPDATE people SET updated = %s WHERE id = %s", (now, pid))
                for v, thumb, src, png in zip(vectors, thumbnails, sources, pngs, strict=True):
                    cid = None if png is None else self.insert_crop(c, pid, png, now)
                    self.insert_template(c, pid, self.model_id, self.dim, v, thumb, src, now,
                                         cid)
                schema.log_change(c, "enrol", pid)

        with self._lock:
            self._guard(write)
        return n

    def add_negative(self, name: str, embedding: np.ndarray,
                     source: str | None = None) -> int:
        """Store `embedding` as "not `name`": from now on such a face is not named `name`."""
        query = self._vectors(embedding)
        if len(query) != 1:
            raise GalleryError(f"a negative is one embedding, got {len(query)}")

        def write() -> int:
            c = self._db
            with c.transaction():
                c.execute("SELECT pg_advisory_xact_lock_shared(4642)")
                self._check_codec(c)
                pid, _ = self._person(name, c)
                nid = self.insert_negative(c, pid, self.model_id, self.dim, query[0], source,
                                           _now())
                schema.log_change(c, "negative", pid)
            return nid

        with self._lock:
            return self._guard(write)

    def count_negatives(self, name: str) -> int:
        """How many "not `name`" corrections this model has for `name`."""
        with self._lock:
            pid, _ = self._person(name)
            return int(self._guard(lambda: self._db.execute(
                "SELECT count(*) FROM negatives WHERE person_id = %s AND model_id = %s",
                (pid, self.model_id)).fetchone()[0]))

    def rename(self, old: str, new: str) -> str:
        """Give `old` (any case or spelling) the name `new`, which must not belong to someone
        else; returns the name `old` was stored under. One transaction."""
        new = clean_name(new)

        def write() -> str:
            c = self._db
            with c.transaction():
                schema.lock_name(c, name_key(new))
                pid, stored = self._person(old, c)
                clash = schema.find_person(c, new, other_than=pid)
                if clash:
                    raise GalleryError(f"cannot rename {stored!r}: {clash[1]!r} already exists")
                c.execute("UPDATE people SET name = %s, name_key = %s, updated = %s "
                          "WHERE id = %s", (new, name_key(new), _now(), pid))
                schema.log_change(c, "rename", pid)
            return stored

        with self._lock:
            return self._guard(write)

    def remove(self, name: str) -> int:
        """Delete `name` (any case or spelling) and their templates; returns templates gone."""
        return self.remove_person(name)[1]

    def remove_person(self, name: str) -> tuple[str, int]:
        """Delete `name` with all their templates; returns (the name as stored, templates
        gone). Looked up and deleted in one transaction."""
        def write() -> tuple[str, int]:
            c = self._db
            with c.transaction():
                pid, stored = self._person(name, c)
                gone = c.execute("SELECT count(*) FROM templates WHERE person_id = %s",
                                 (pid,)).fetchone()[0]
                c.execute("DELETE FROM people WHERE id = %s", (pid,))
                schema.log_change(c, "remove", pid)
            return stored, int(gone)

        with self._lock:
            return self._guard(write)

    # -- one person's templates (the People tab's photo strip) ------------------------------

    def templates(self, name: str) -> list[Template]:
        """`name`'s templates, oldest first, with their thumbnails (decrypted if sealed)."""
        with self._lock:
            pid, _ = self._person(name)
            rows = self._guard(lambda: self._db.execute(
                "SELECT id, model_id, dim, source, created, thumbnail FROM templates "
                "WHERE person_id = %s ORDER BY id", (pid,)).fetchall())
            return [Template(tid, pid, model, src, created,
                             model == self.model_id and dim == self.dim,
                             self.open_thumbnail(tid, pid, thumb))
                    for tid, model, dim, src, created, thumb in rows]

    def remove_template(self, name: str, template_id: int) -> Template:
        """Delete one template of `name` and its face crop (unless another template was made
        from it), in one transaction; returns what was deleted. Every station's replica
        follows at its next sync. GalleryError when the template is not `name`'s (e.g.
        deleted meanwhile): then nothing is deleted. The person stays enrolled."""
        def write() -> Template:
            c = self._db
            with c.transaction():
                pid, stored = self._person(name, c)
                row = c.execute("DELETE FROM templates WHERE id = %s AND person_id = %s "
                                "RETURNING model_id, dim, source, created, crop_id",
                                (int(template_id), pid)).fetchone()
                if row is None:
                    raise GalleryError(f"{stored!r} has no photo (template) {template_id} in "
                                       "the central gallery; it may have been deleted "
                                       "already: refresh the list")
                model, dim, src, created, cid = row
                if cid is not None:  # the photo goes too, so no station re-embeds it
                    c.execute("DELETE FROM crops k WHERE k.id = %s AND NOT EXISTS (SELECT 1 "
                              "FROM templates t WHERE t.crop_id = k.id)", (cid,))
                c.execute("UPDATE people SET updated = %s WHERE id = %s", (_now(), pid))
                schema.log_change(c, "remove_template", pid)
            return Template(int(template_id), pid, model, src, created,
                            model == self.model_id and dim == self.dim)

        with self._lock:
            return self._guard(write)

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> PgGallery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    @property
    def _db(self) -> psycopg.Connection:
        if self._conn is None:
            raise GalleryError(f"the central gallery {self.url} is closed")
        return self._conn

    def _guard(self, fn: Callable[[], T]) -> T:
        """Run `fn`, turning server errors into GalleryErrors that name the (masked) URL."""
        try:
            return fn()
        except psycopg.OperationalError as exc:
            raise CentralUnreachable(f"central gallery {self.url}: the server is unreachable "
                               f"({_first_line(exc)}); nothing was changed. Try again when "
                               "it is back") from exc
        except psycopg.Error as exc:
            raise GalleryError(f"central gallery {self.url}: {_first_line(exc)}") from exc

    def _count_others(self) -> None:
        self.other_model_templates = int(self._guard(lambda: self._db.execute(
            "SELECT count(*) FROM templates WHERE NOT (model_id = %s AND dim = %s)",
            (self.model_id, self.dim)).fetchone()[0]))
        if self.other_model_templates:
            self.warnings.append(
                f"{self.other_model_templates} templates were made by another model than "
                f"{self.model_id} and are not searched; enrol those people again to use them")

    def _person(self, name: str, conn: psycopg.Connection | None = None) -> tuple[int, str]:
        """(id, stored name) of `name` in any case or Unicode spelling (read through `conn`,
        e.g. inside a write transaction); GalleryError when no one is called that."""
        cleaned = lookup_name(name)
        c = conn if conn is not None else self._db
        row = self._guard(lambda: schema.find_person(c, cleaned, name.strip()))
        if row is None:
            raise GalleryError(f"no one called {cleaned!r} is enrolled in the central gallery")
        return int(row[0]), row[1]

    def _vectors(self, embeddings: np.ndarray) -> np.ndarray:
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


def _next_id(c, table: str) -> int:
    """The id the next row of `table` gets (sealing binds a blob to its row's id)."""
    return c.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", (table,)).fetchone()[0]


def _per_row(values: list | None, n: int, what: str) -> list:
    if values is None:
        return [None] * n
    values = list(values)
    if len(values) != n:
        raise GalleryError(f"{what}: {len(values)} given for {n} embeddings")
    return values
