"""Shared helpers of the kiosk tests: enrolled gallery, frame sequences from dev photos.

Photos chosen by what the FaceAntiSpoofing network says of them (median over a moved print,
measured on the lite pack): john_savage 2, 6, 7, 8, 9 and john_simm 2, 7, 9, 10 score live
(< 0.2). Sequences of such different photos are the stand-in for a living face.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facelens.kiosk import sequences

SAVAGE_LIVE = ["2.jpg", "6.jpg", "7.jpg", "8.jpg", "9.jpg"]
SIMM_LIVE = ["2.jpg", "7.jpg", "9.jpg", "10.jpg"]
SALLEY_LIVE = ["2.jpg", "7.jpg"]  # never enrolled: the impostor
ENROL = {"john_savage": ["1.jpg", "3.jpg"], "john_simm": ["1.jpg", "3.jpg"],
         "bbt_amy": ["1.png"], "bbt_howard": ["1.png"], "bbt_raj": ["1.png"]}


def photos(faces_dev: Path, person: str, names: list[str]) -> list[np.ndarray]:
    return [cv2.imread(str(faces_dev / "people" / person / n)) for n in names]


def enrolled_gallery(engine, faces_dev: Path, db: Path):
    from facelens.gallery import Gallery

    g = Gallery.open(db, engine.model_id, engine.dim)
    for person, names in ENROL.items():
        embs = [engine.analyze_photo(p)[0].embedding for p in photos(faces_dev, person, names)]
        g.enrol(person, np.stack(embs))
    return g


def living_stand_in(faces_dev: Path, person: str, names: list[str], n: int = 12,
                    seed: int = 0) -> list[np.ndarray]:
    """Camera frames cycling through a person's different photos (not a real living face)."""
    return sequences.photo_sequence(photos(faces_dev, person, names), n, seed)


def held_print(faces_dev: Path, person: str, name: str, n: int = 12,
               seed: int = 0) -> list[np.ndarray]:
    """Camera frames of one still photo moved, scaled and rotated by hand."""
    return sequences.print_attack(photos(faces_dev, person, [name])[0], n, seed)
