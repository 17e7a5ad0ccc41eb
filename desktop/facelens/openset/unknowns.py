"""Unknown-face review (off by default; no Qt): the best crop of each track that stayed "not
recognised", kept for a retention period, grouped into clusters of the same person.

`UnknownCollector` watches the live recogniser's checks: per track it keeps the sharpest,
largest crop that passed the quality gate; a track ever recognised is dropped; when a track
ends its best crop goes to the `UnknownStore` (``unknown.db`` in the data folder; crops
sealed with the gallery's key when the gallery is encrypted). Clusters are average-linkage
groups (SciPy) of faces whose cosine similarity reaches the threshold in force.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FaceLensError

FILE_NAME = "unknown.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS unknown_faces (
    id       INTEGER PRIMARY KEY,
    model_id TEXT NOT NULL,
    dim      INTEGER NOT NULL,
    vector   BLOB NOT NULL,
    crop     BLOB,
    score    REAL NOT NULL,
    seen     REAL NOT NULL,
    ignored  INTEGER NOT NULL DEFAULT 0
)"""


@dataclass
class UnknownFace:
    id: int
    embedding: np.ndarray
    crop_png: bytes | None
    score: float
    seen: float
    ignored: bool


@dataclass
class Cluster:
    """Faces taken for one person: ids best first."""

    number: int
    ids: list[int]
    faces: list[UnknownFace] = field(repr=False, default_factory=list)

    @property
    def best(self) -> UnknownFace:
        return self.faces[0]


class UnknownStore:
    """The kept unknown faces of one model (SQLite file `path`; `codec` seals crops)."""

    def __init__(self, path: Path, model_id: str, dim: int, codec=None):
        from ..gallery import sealing

        self.path, self.model_id, self.dim = Path(path), model_id, dim
        self.codec = codec or sealing.Codec()
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=5)
            self._conn.execute(SCHEMA)
            self._conn.commit()
        except sqlite3.Error as exc:
            raise FaceLensError(f"{self.path}: cannot open the unknown-face store ({exc}); "
                                "check the data folder can be written") from None

    @classmethod
    def for_home(cls, home: Path, gallery, retention_days: float | None = None) -> UnknownStore:
        """The data folder's store, sealed like `gallery` (its model and key); faces older
        than `retention_days` are deleted on opening."""
        store = cls(Path(home) / FILE_NAME, gallery.model_id, gallery.dim, gallery._codec)
        if retention_days is not None:
            store.forget(older_than_s=retention_days * 86400.0)
        return store

    def add(self, embedding: np.ndarray, crop_png: bytes | None, score: float,
            seen: float | None = None) -> int:
        with self._lock, self._conn as c:
            uid = c.execute("SELECT coalesce(max(id), 0) + 1 FROM unknown_faces").fetchone()[0]
            vec = self.codec.seal_vector(uid, -1, f"unknown:{self.model_id}", self.dim,
                                         np.asarray(embedding, np.float32))
            crop = None if crop_png is None else self.codec.seal_crop(uid, -1, crop_png)
            c.execute("INSERT INTO unknown_faces (id, model_id, dim, vector, crop, score, seen) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)", (uid, self.model_id, self.dim, vec, crop,
                                                       float(score), seen or time.time()))
            return uid

    def faces(self, include_ignored: bool = False) -> list[UnknownFace]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, vector, crop, score, seen, ignored FROM unknown_faces WHERE "
                "model_id = ? AND dim = ? ORDER BY score DESC",
                (self.model_id, self.dim)).fetchall()
        out = []
        for uid, vec, crop, score, seen, ignored in rows:
            if ignored and not include_ignored:
                continue
            raw = self.codec.open_vector(uid, -1, f"unknown:{self.model_id}", self.dim, vec)
            png = None if crop is None else self.codec.open_crop(uid, -1, crop)
            out.append(UnknownFace(uid, np.frombuffer(raw, "<f4"), png, score, seen,
                                   bool(ignored)))
        return out

    def clusters(self, threshold: float) -> list[Cluster]:
        """Groups of faces (not ignored) whose average similarity reaches `threshold`,
        largest first."""
        faces = self.faces()
        groups = cluster_embeddings(np.stack([f.embedding for f in faces]), threshold) \
            if faces else []
        out = []
        for n, rows in enumerate(groups, 1):
            members = sorted((faces[i] for i in rows), key=lambda f: -f.score)
            out.append(Cluster(n, [f.id for f in members], members))
        return out

    def ignore(self, ids: list[int]) -> int:
        with self._lock, self._conn as c:
            return c.executemany("UPDATE unknown_faces SET ignored = 1 WHERE id = ?",
                                 [(i,) for i in ids]).rowcount

    def forget(self, ids: list[int] | None = None, older_than_s: float | None = None) -> int:
        """Delete `ids`, or every face seen longer ago than `older_than_s`, or all."""
        with self._lock, self._conn as c:
            if ids is not None:
                return c.executemany("DELETE FROM unknown_faces WHERE id = ?",
                                     [(i,) for i in ids]).rowcount
            if older_than_s is not None:
                return c.execute("DELETE FROM unknown_faces WHERE seen < ?",
                                 (time.time() - older_than_s,)).rowcount
            return c.execute("DELETE FROM unknown_faces").rowcount

    def close(self) -> None:
        self._conn.close()


def cluster_embeddings(embs: np.ndarray, threshold: float) -> list[list[int]]:
    """Average-linkage clusters (SciPy) cut where the mean cosine similarity falls below
    `threshold`; row indices per cluster, largest cluster first."""
    if len(embs) == 1:
        return [[0]]
    from scipy.cluster.hierarchy import fcluster, linkage

    z = linkage(embs.astype(np.float64), method="average", metric="cosine")
    labels = fcluster(z, t=1.0 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(int(lab), []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


class UnknownCollector:
    """Per live track, the best crop that passed the quality gate while never recognised."""

    def __init__(self, store: UnknownStore, threshold: float, keep_crops: bool = True):
        self.store, self.threshold, self.keep_crops = store, threshold, keep_crops
        self._best: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}
        self._known: set[int] = set()
        self._lock = threading.Lock()

    def observe(self, track_id: int, crop: np.ndarray, embedding: np.ndarray,
                similarity: float, quality) -> None:
        """One check of a track: recognised (at the threshold) or a candidate crop."""
        with self._lock:
            if similarity >= self.threshold:
                self._known.add(track_id)
                self._best.pop(track_id, None)
                return
            if track_id in self._known:
                return
            score = float(getattr(quality, "sharpness", 0.0)) * float(
                getattr(quality, "size", 1.0))
            if track_id not in self._best or score > self._best[track_id][0]:
                self._best[track_id] = (score, crop.copy(), np.asarray(embedding, np.float32))

    def tracks_alive(self, alive: set[int]) -> int:
        """Store the best crop of each ended track; how many were stored."""
        import cv2

        with self._lock:
            ended = [t for t in self._best if t not in alive]
            done = [(t, self._best.pop(t)) for t in ended]
            self._known &= alive
        for _, (score, crop, emb) in done:
            ok, png = cv2.imencode(".png", crop) if self.keep_crops else (False, None)
            self.store.add(emb, png.tobytes() if ok else None, score)  # no crop: site only
        return len(done)

    def flush(self) -> int:
        """Store every pending track (the source ended)."""
        return self.tracks_alive(set())
