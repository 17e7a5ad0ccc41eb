"""Negative templates: "this is not X" (no Qt).

A negative of X is the embedding of a face that was wrongly named X. From then on a face is
named X only when it is closer to X's best template than to X's closest negative by
NEGATIVE_MARGIN (cosine); otherwise it is "not recognised". Negatives live in the gallery's
SQLite file (table ``negatives``, created on first use, removed with the person), per model
(a pack never sees another pack's negatives), sealed like templates when the gallery is
encrypted.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..gallery import sealing

NEGATIVE_MARGIN = 0.05

TABLE = """
CREATE TABLE IF NOT EXISTS negatives (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    model_id  TEXT NOT NULL,
    dim       INTEGER NOT NULL CHECK (dim > 0),
    vector    BLOB NOT NULL,
    source    TEXT,
    created   TEXT NOT NULL
)"""


def sealed_model(model_id: str) -> str:
    """The model id a negative's seal is bound to (never the same as a template's)."""
    return f"negative:{model_id}"


def has_table(c: sqlite3.Connection) -> bool:
    return c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'negatives'"
                     ).fetchone() is not None


def add(c: sqlite3.Connection, codec: sealing.Codec, pid: int, model_id: str, dim: int,
        vector: np.ndarray, source: str | None, created: str) -> int:
    """Store one negative of person `pid` inside the caller's transaction; its id."""
    c.execute(TABLE)
    nid = (c.execute("SELECT coalesce(max(id), 0) + 1 FROM negatives").fetchone()[0])
    insert(c, codec, nid, pid, model_id, dim, vector, source, created)
    return nid


def insert(c: sqlite3.Connection, codec: sealing.Codec, nid: int, pid: int, model_id: str,
           dim: int, vector: np.ndarray, source: str | None, created: str) -> None:
    """Store negative `nid` (an id chosen by the caller, e.g. the server's; table made)."""
    c.execute("INSERT INTO negatives (id, person_id, model_id, dim, vector, source, created) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)",
              (nid, pid, model_id, dim, codec.seal_vector(nid, pid, sealed_model(model_id), dim,
                                                          vector), source, created))


def load(c: sqlite3.Connection, codec: sealing.Codec, model_id: str, dim: int
         ) -> dict[int, np.ndarray]:
    """person id -> their negatives' vectors (rows that cannot be read are left out)."""
    from ..gallery import sealing

    if not has_table(c):
        return {}
    out: dict[int, list[np.ndarray]] = {}
    for nid, pid, blob in c.execute("SELECT id, person_id, vector FROM negatives WHERE "
                                    "model_id = ? AND dim = ?", (model_id, dim)):
        try:
            raw = codec.open_vector(nid, pid, sealed_model(model_id), dim, blob)
        except sealing.TemplateUnreadable:
            continue
        out.setdefault(pid, []).append(np.frombuffer(raw, "<f4"))
    return {pid: np.stack(v) for pid, v in out.items()}


def reseal(c: sqlite3.Connection, old: sealing.Codec, new: sealing.Codec) -> None:
    """Seal every negative again with `new` (inside the re-keying transaction)."""
    if not has_table(c):
        return
    rows = c.execute("SELECT id, person_id, model_id, dim, vector FROM negatives").fetchall()
    for nid, pid, model, dim, blob in rows:
        raw = np.frombuffer(old.open_vector(nid, pid, sealed_model(model), dim, blob), "<f4")
        c.execute("UPDATE negatives SET vector = ? WHERE id = ?",
                  (new.seal_vector(nid, pid, sealed_model(model), dim, raw), nid))


def count(c: sqlite3.Connection, pid: int, model_id: str) -> int:
    if not has_table(c):
        return 0
    return c.execute("SELECT count(*) FROM negatives WHERE person_id = ? AND model_id = ?",
                     (pid, model_id)).fetchone()[0]


def vetoed(similarity: float, query: np.ndarray, negatives: np.ndarray | None,
           margin: float = NEGATIVE_MARGIN) -> bool:
    """True when `query` is not closer to the person (`similarity`) than to their closest
    negative by `margin`."""
    if negatives is None or not len(negatives):
        return False
    return similarity < float((negatives @ query).max()) + margin
