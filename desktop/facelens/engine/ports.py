"""The engine's ports: what a detector, an embedder and an anti-spoofing model take and give.

A model pack's recipe names a `kind` per role; :mod:`facelens.engine.models` maps the kind to
one of the small classes in ``detectors/``, ``embedders/`` and ``antispoof.py``. Images are
uint8 BGR arrays [H, W, 3]; boxes and landmarks are in that image's pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import onnxruntime as ort

from .faces import Face


@runtime_checkable
class Detector(Protocol):
    """Finds faces: box, 5 landmarks (ArcFace order) and score, best score first."""

    session: ort.InferenceSession  # the session whose provider the app shows

    def detect(self, bgr: np.ndarray, min_face: int = 40) -> list[Face]:
        """Faces of at least `min_face` pixels (shorter box side) in a BGR image."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Maps aligned 112x112 BGR crops to L2-normalised float32 vectors [n, dim]."""

    session: ort.InferenceSession
    dim: int

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Unit-length embeddings of the crops, in order."""
        ...


@runtime_checkable
class AntiSpoof(Protocol):
    """Scores a face crop for presentation attacks: lower is live."""

    session: ort.InferenceSession
    input_size: int  # the square crop side the network takes
    threshold: float  # the authors' threshold (score >= it: attack)

    def score_crop(self, crop: np.ndarray) -> float:
        """The attack score of an `input_size` square BGR crop of the face."""
        ...
