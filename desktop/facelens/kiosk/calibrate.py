"""Measure the temporal cue on print attacks and photo sequences made from a photo folder.

``people/<name>/*`` photos (as in ../shared/faces-dev): for every person and a few photos,
one hand-held print video of one photo and one sequence of their different photos (the
stand-in for a living face). Reproduces the figures behind ``TEMPORAL_THRESHOLD``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import FaceLensError
from ..images import load_image
from . import sequences
from .temporal import temporal_score

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine


@dataclass(frozen=True)
class Calibration:
    prints: list[tuple[str, float]]
    stand_ins: list[tuple[str, float]]

    @property
    def print_max(self) -> float:
        return max(s for _, s in self.prints)

    @property
    def stand_in_min(self) -> float:
        return min(s for _, s in self.stand_ins)


def _crops(engine: FaceEngine, frames: list[np.ndarray]) -> list[np.ndarray]:
    out = []
    for f in frames:
        faces = engine.detect(f, min_face=60)
        if faces:
            face = max(faces, key=lambda x: x.box[2] - x.box[0])
            out.append(engine.align(f, face.landmarks))
    return out


def calibrate(engine: FaceEngine, people: Path, per_person: int = 3,
              frames: int = 8) -> Calibration:
    """Temporal scores of prints and photo sequences (seeds 10+k and 20+k, k < per_person)."""
    prints, stand_ins = [], []
    for folder in person_folders(Path(people)):
        photos = [load_image(p) for p in sorted(folder.iterdir()) if p.is_file()]
        for k in range(per_person):
            held = _crops(engine, sequences.print_attack(photos[k % len(photos)], frames, 10 + k))
            rolled = photos[k:] + photos[:k]
            alive = _crops(engine, sequences.photo_sequence(rolled, frames, 20 + k))
            if len(held) >= 3:
                prints.append((folder.name, temporal_score(held)))
            if len(alive) >= 3:
                stand_ins.append((folder.name, temporal_score(alive)))
    if not prints or not stand_ins:
        raise FaceLensError(f"{people}: too few faces found to calibrate (need at least 3 "
                            "photos with a clear face in a person's folder)")
    return Calibration(prints, stand_ins)


def person_folders(people: Path) -> list[Path]:
    """The sub-folders of `people` that hold files; FaceLensError if there are none."""
    if not people.is_dir():
        what = "is a file, not a folder" if people.exists() else "no such folder"
        raise FaceLensError(f"{people}: {what}; give a folder with one sub-folder of photos "
                            "per person (e.g. people/amy/1.jpg)")
    folders = sorted(p for p in people.iterdir()
                     if p.is_dir() and any(f.is_file() for f in p.iterdir()))
    if not folders:
        raise FaceLensError(f"{people}: no sub-folders with photos; give a folder with one "
                            "sub-folder of photos per person (e.g. people/amy/1.jpg)")
    return folders
