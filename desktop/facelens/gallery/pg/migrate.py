"""`facelens gallery push URL` / `pull URL`: copy a data folder's gallery to a server and back.

Push copies every person and template (of every model, with thumbnails and sources, the
aligned face crops they were made from, and "not this person" negatives) and this
station's attendance log; pull copies the server's people and templates into the local
gallery and restores this station's own attendance rows that the local log lacks. Both skip
what the other side already has (the same person with the same vector of the same model, the
same station and entry number), so running them twice adds nothing.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ...errors import GalleryError
from ...openset import negatives as negative_store
from .. import db
from ..gallery import Gallery
from ..names import clean_name, find_person, name_key
from ..station import station_id
from . import schema
from .store import PgGallery

ATTENDANCE_DB = "attendance.db"  # as kiosk.factory.ATTENDANCE_DB (the engine imports no kiosk)


@dataclass
class Copied:
    """What one push or pull added (and skipped because it was already there)."""

    people: int = 0
    templates: int = 0
    templates_skipped: int = 0
    crops: int = 0
    negatives: int = 0
    attendance: int = 0
    attendance_skipped: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def push(local: Gallery, central: PgGallery, home: Path) -> Copied:
    """Copy `local` (and `home`'s attendance log) to `central`, in one server transaction."""
    if local.encrypted and not central.encrypted:
        raise GalleryError("gallery push: the local gallery is encrypted, and the server would "
                           "store its templates in clear; nothing was copied. Encrypt the "
                           "server's gallery first (`facelens --gallery URL gallery encrypt`)")
    with local._lock:
        people = local._db.execute("SELECT id, name, created FROM people ORDER BY id").fetchall()
        crop_col = "crop_id" if db.has_crops(local._db) else "NULL"
        templates = local._db.execute(
            f"SELECT id, person_id, model_id, dim, vector, thumbnail, source, created, {crop_col} "
            "FROM templates ORDER BY id").fetchall()
        crops, negatives = _local_extras(local)
    entries = _local_entries(home)
    station = station_id(home)
    done = Copied()

    def write() -> None:
        c = central._db
        for model, dim in {(t[2], t[3]) for t in templates}:
            schema.ensure_index(c, model, dim)
        with c.transaction():
            c.execute("SELECT pg_advisory_xact_lock_shared(4642)")
            central._check_codec(c)
            ids = {}
            for old_id, name, created in people:
                name = clean_name(name)
                schema.lock_name(c, name_key(name))
                row = schema.find_person(c, name)
                if row is None:
                    row = c.execute("INSERT INTO people (name, name_key, created, updated) "
                                    "VALUES (%s, %s, %s, %s) RETURNING id",
                                    (name, name_key(name), created, created)).fetchone()
                    done.people += 1
                ids[old_id] = row[0]
            have = _server_vectors(central, set(ids.values()))
            touched = set()
            on_server = _server_crops(central, set(ids.values()))
            crop_ids = {}  # local crop id -> the server's
            for cid, old_pid, png, created in crops:
                pid = ids[old_pid]
                if (pid, png) in on_server:
                    crop_ids[cid] = on_server[(pid, png)]
                    continue
                crop_ids[cid] = on_server[(pid, png)] = central.insert_crop(c, pid, png, created)
                touched.add(pid)
                done.crops += 1
            known = _server_negatives(central, set(ids.values()))
            for old_pid, model, dim, raw, src, created in negatives:
                pid = ids[old_pid]
                if (pid, model, dim, raw) in known:
                    continue
                known.add((pid, model, dim, raw))
                central.insert_negative(c, pid, model, dim, np.frombuffer(raw, "<f4"), src,
                                        created)
                touched.add(pid)
                done.negatives += 1
            for tid, old_pid, model, dim, vector, thumb, src, created, cid in templates:
                pid = ids[old_pid]
                vector = local._codec.open_vector(tid, old_pid, model, dim, vector)
                thumb = local._codec.open_thumbnail(tid, old_pid, thumb)
                key = (model, int(dim), bytes(vector))
                if key in have.setdefault(pid, set()):
                    done.templates_skipped += 1
                    continue
                have[pid].add(key)
                central.insert_template(c, pid, model, dim, np.frombuffer(vector, "<f4"),
                                        thumb, src, created, crop_ids.get(cid))
                touched.add(pid)
                done.templates += 1
            for pid in sorted(touched):
                schema.log_change(c, "push", pid)
            for seq, ts, day, person, person_id, similarity, source in entries:
                added = c.execute(
                    "INSERT INTO attendance (station, station_seq, ts, day, person, person_id, "
                    "similarity, source) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (station, station_seq) DO NOTHING",
                    (station, seq, ts, day, person, person_id, similarity, source)).rowcount
                done.attendance += added
                done.attendance_skipped += 1 - added

    with central._lock:
        central._guard(write)
    return done


def pull(central: PgGallery, local: Gallery, home: Path) -> Copied:
    """Copy `central`'s people and templates into `local` (decrypted with the server gallery's
    key when it is encrypted; stored the way `local` stores them), and this station's
    attendance rows the local log lacks back into it."""
    def read() -> tuple[list, list, list]:
        c = central._db
        people = c.execute("SELECT id, name, created FROM people ORDER BY id").fetchall()
        templates = [
            (tid, pid, model, dim, central.open_template(tid, pid, model, dim, vec, sealed),
             central.open_thumbnail(tid, pid, thumb), src, created)
            for tid, pid, model, dim, vec, sealed, thumb, src, created in c.execute(
                "SELECT id, person_id, model_id, dim, embedding::real[], sealed, thumbnail, "
                "source, created FROM templates ORDER BY id")]
        rows = c.execute(
            "SELECT station_seq, ts, day, person, person_id, similarity, source FROM attendance "
            "WHERE station = %s ORDER BY station_seq", (station_id(home),)).fetchall()
        crops = [(cid, pid, central.open_crop(cid, pid, blob), created)
                 for cid, pid, blob, created in c.execute(
                     "SELECT id, person_id, crop, created FROM crops ORDER BY id")]
        links = c.execute("SELECT person_id, model_id, dim, crop_id, id FROM templates "
                          "WHERE crop_id IS NOT NULL").fetchall()
        negatives = [(pid, model, dim, central.open_negative(nid, pid, model, dim, blob), src,
                      created)
                     for nid, pid, model, dim, blob, src, created in c.execute(
                         "SELECT id, person_id, model_id, dim, vector, source, created "
                         "FROM negatives ORDER BY id")]
        return people, templates, rows, (crops, links, negatives)

    with central._lock:
        people, templates, rows, extras = central._guard(read)
    done = Copied()
    before = {name_key(p.name) for p in local.people()}
    done.people = sum(name_key(clean_name(name)) not in before for _, name, _ in people)
    with tempfile.TemporaryDirectory(prefix="facelens-pull-") as tmp:
        path = Path(tmp) / "central.db"
        conn = db.connect(path, busy_timeout_s=5.0)
        try:
            with db.transaction(conn) as c:
                c.executemany("INSERT INTO people (id, name, created, updated) VALUES "
                              "(?, ?, ?, ?)", [(i, n, cr, cr) for i, n, cr in people])
                c.executemany(
                    "INSERT INTO templates (id, person_id, model_id, dim, vector, thumbnail, "
                    "source, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    templates)
        finally:
            conn.close()
        done.templates = local.import_(path, merge=True)
    done.templates_skipped = len(templates) - done.templates
    raw_of = {t[0]: (t[1], t[2], t[3], bytes(t[4])) for t in templates}
    done.crops, done.negatives = _pull_extras(local, people, raw_of, *extras)
    done.attendance, done.attendance_skipped = _restore_entries(home, rows)
    return done


def _server_vectors(central: PgGallery, person_ids: set[int]
                    ) -> dict[int, set[tuple[str, int, bytes]]]:
    """(model, dim, float32 bytes) of the server's templates of these people."""
    have: dict[int, set[tuple[str, int, bytes]]] = {}
    if not person_ids:
        return have
    for tid, pid, model, dim, vec, sealed in central._db.execute(
            "SELECT id, person_id, model_id, dim, embedding::real[], sealed FROM templates "
            "WHERE person_id = ANY(%s)", (sorted(person_ids),)):
        have.setdefault(pid, set()).add(
            (model, int(dim), central.open_template(tid, pid, model, dim, vec, sealed)))
    return have


def _local_extras(local: Gallery) -> tuple[list[tuple], list[tuple]]:
    """`local`'s face crops (id, person, PNG, created) and negatives (person, model, dim,
    float32 bytes, source, created), in clear."""
    c, codec = local._db, local._codec
    crops = []
    if db.has_crops(c):
        crops = [(cid, pid, codec.open_crop(cid, pid, blob), created) for cid, pid, blob, created
                 in c.execute("SELECT id, person_id, crop, created FROM crops ORDER BY id")]
    negatives = []
    if negative_store.has_table(c):
        negatives = [(pid, model, dim, codec.open_vector(
                         nid, pid, negative_store.sealed_model(model), dim, blob), src, created)
                     for nid, pid, model, dim, blob, src, created in c.execute(
                         "SELECT id, person_id, model_id, dim, vector, source, created "
                         "FROM negatives ORDER BY id")]
    return crops, negatives


def _server_crops(central: PgGallery, person_ids: set[int]) -> dict[tuple[int, bytes], int]:
    """(person, PNG bytes) -> crop id of the server's crops of these people."""
    return {(pid, central.open_crop(cid, pid, blob)): cid
            for cid, pid, blob in central._db.execute(
                "SELECT id, person_id, crop FROM crops WHERE person_id = ANY(%s)",
                (sorted(person_ids),))}


def _server_negatives(central: PgGallery, person_ids: set[int]) -> set[tuple]:
    """(person, model, dim, float32 bytes) of the server's negatives of these people."""
    return {(pid, model, dim, central.open_negative(nid, pid, model, dim, blob))
            for nid, pid, model, dim, blob in central._db.execute(
                "SELECT id, person_id, model_id, dim, vector FROM negatives "
                "WHERE person_id = ANY(%s)", (sorted(person_ids),))}


def _pull_extras(local: Gallery, people: list[tuple], raw_of: dict, crops: list[tuple],
                 links: list[tuple], negatives: list[tuple]) -> tuple[int, int]:
    """Add the server's crops (linked to the local copies of their templates) and negatives
    that `local` lacks, in one transaction. Returns (crops, negatives) added."""
    if not crops and not negatives:
        return 0, 0
    from .. import crops as crop_store

    added_crops = added_negatives = 0
    with local._lock:
        def write() -> tuple[int, int]:
            nonlocal added_crops, added_negatives
            with db.transaction(local._db) as c:
                local._check_codec(c)
                codec = local._codec
                rows = c.execute("SELECT id, name FROM people").fetchall()
                here = {sid: find_person(rows, clean_name(name))[0] for sid, name, _ in people}
                db.upgrade_crops(c)
                have = {(pid, codec.open_crop(cid, pid, blob)): cid for cid, pid, blob in
                        c.execute("SELECT id, person_id, crop FROM crops")}
                crop_ids = {}
                for sid, spid, png, created in crops:
                    pid = here[spid]
                    if (pid, png) not in have:
                        have[(pid, png)] = crop_store.store(c, codec, pid, png, created)
                        added_crops += 1
                    crop_ids[sid] = have[(pid, png)]
                for spid, model, dim, scid, stid in links:  # the template made from the crop
                    pid, (_, _, _, raw) = here[spid], raw_of[stid]
                    for tid, blob in c.execute(
                            "SELECT id, vector FROM templates WHERE person_id = ? AND "
                            "model_id = ? AND dim = ? AND crop_id IS NULL",
                            (pid, model, dim)).fetchall():
                        if codec.open_vector(tid, pid, model, dim, blob) == raw:
                            c.execute("UPDATE templates SET crop_id = ? WHERE id = ?",
                                      (crop_ids[scid], tid))
                c.execute(negative_store.TABLE)
                known = {(pid, model, dim, codec.open_vector(
                             nid, pid, negative_store.sealed_model(model), dim, blob))
                         for nid, pid, model, dim, blob in c.execute(
                             "SELECT id, person_id, model_id, dim, vector FROM negatives")}
                for spid, model, dim, raw, src, created in negatives:
                    pid = here[spid]
                    if (pid, model, dim, raw) not in known:
                        known.add((pid, model, dim, raw))
                        negative_store.add(c, codec, pid, model, dim,
                                           np.frombuffer(raw, "<f4"), src, created)
                        added_negatives += 1
            return added_crops, added_negatives

        done = local._guard(write)
        local._guard(local._reload)
    return done


def _local_entries(home: Path) -> list[tuple]:
    path = Path(home) / ATTENDANCE_DB
    if not path.exists():
        return []
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT seq, ts, day, person, person_id, similarity, source "
                            "FROM entries ORDER BY seq").fetchall()
    except sqlite3.Error as exc:
        raise GalleryError(f"attendance log {path}: cannot be read ({exc}); nothing was "
                           "copied") from exc
    finally:
        conn.close()


def _restore_entries(home: Path, rows: list[tuple]) -> tuple[int, int]:
    """Insert the rows (this station's, by entry number) the local log lacks."""
    if not rows:
        return 0, 0
    from ...attendance import AttendanceStore

    store = AttendanceStore(Path(home) / ATTENDANCE_DB)  # creates the log and its schema
    try:
        added = 0
        with db.transaction(store.conn) as c:
            for row in rows:
                added += c.execute(
                    "INSERT OR IGNORE INTO entries (seq, ts, day, person, person_id, similarity, "
                    "source) VALUES (?, ?, ?, ?, ?, ?, ?)", row).rowcount
    finally:
        store.close()
    return added, len(rows) - added
