"""Aligned face crops kept beside the templates, so a new model pack can re-embed everyone.

Each enrolled face keeps its 112x112 ArcFace-aligned crop (PNG, lossless; sealed like the
templates when the gallery is encrypted) in the ``crops`` table; a template names the crop it
was made from. Switching packs embeds every crop that has no template of the new model yet:
people are kept without enrolling them again. Qt-free.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import GalleryError
from . import db, sealing

SIZE = 112
# progress(done, total): crops embedded so far of those that needed it
ReembedProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReembedReport:
    """What a re-embedding did."""

    model_id: str
    embedded: int  # new templates made from stored crops
    already: int  # crops that had a template of this model already
    people: int  # people in the gallery
    people_without_crops: list[str]  # enrolled before crops were kept: enrol them again

    def as_dict(self) -> dict:
        return {"model_id": self.model_id, "embedded": self.embedded, "already": self.already,
                "people": self.people, "people_without_crops": self.people_without_crops}


def encode(crop: np.ndarray) -> bytes:
    """PNG bytes of an aligned BGR uint8 112x112 crop; GalleryError for anything else."""
    arr = np.asarray(crop)
    if arr.shape != (SIZE, SIZE, 3) or arr.dtype != np.uint8:
        raise GalleryError(f"a face crop must be a {SIZE}x{SIZE} BGR uint8 image, got "
                           f"{arr.shape} {arr.dtype}")
    ok, buf = cv2.imencode(".png", arr)
    if not ok:
        raise GalleryError("could not encode the face crop as PNG")
    return buf.tobytes()


def decode(png: bytes, cid: int) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.shape != (SIZE, SIZE, 3):
        raise GalleryError(f"face crop {cid} of the gallery cannot be read (not a "
                           f"{SIZE}x{SIZE} PNG); that face cannot be re-embedded")
    return img


def store(c: sqlite3.Connection, codec: sealing.Codec, pid: int, png: bytes, now: str) -> int:
    """Insert one crop for person `pid` (inside a transaction, schema 3); returns its id."""
    cid = c.execute("SELECT coalesce(max(id), 0) + 1 FROM crops").fetchone()[0]
    c.execute("INSERT INTO crops (id, person_id, crop, created) VALUES (?, ?, ?, ?)",
              (cid, pid, codec.seal_crop(cid, pid, png), now))
    return cid


def pending(c: sqlite3.Connection, model_id: str, dim: int) -> list[tuple[int, int, bytes]]:
    """(crop id, person id, stored blob) of crops without a template of `model_id`/`dim`."""
    if not db.has_crops(c):
        return []
    return c.execute(
        "SELECT k.id, k.person_id, k.crop FROM crops k WHERE NOT EXISTS (SELECT 1 FROM "
        "templates t WHERE t.crop_id = k.id AND t.model_id = ? AND t.dim = ?) ORDER BY k.id",
        (model_id, dim)).fetchall()


def people_without_crops(c: sqlite3.Connection, model_id: str, dim: int) -> list[str]:
    """People with no template of this model and no crop to make one from."""
    crops_clause = ("AND NOT EXISTS (SELECT 1 FROM crops k WHERE k.person_id = p.id)"
                    if db.has_crops(c) else "")
    return [r[0] for r in c.execute(
        "SELECT p.name FROM people p WHERE NOT EXISTS (SELECT 1 FROM templates t WHERE "
        f"t.person_id = p.id AND t.model_id = ? AND t.dim = ?) {crops_clause} "
        "ORDER BY p.name COLLATE NOCASE", (model_id, dim))]


def reseal(c: sqlite3.Connection, old: sealing.Codec, new: sealing.Codec) -> None:
    """Re-store every crop with codec `new` (inside the re-sealing transaction)."""
    if not db.has_crops(c):
        return
    for cid, pid, blob in c.execute("SELECT id, person_id, crop FROM crops").fetchall():
        c.execute("UPDATE crops SET crop = ? WHERE id = ?",
                  (new.seal_crop(cid, pid, old.open_crop(cid, pid, blob)), cid))
