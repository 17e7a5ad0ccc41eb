"""Alignment of a face to the 112x112 ArcFace template from its 5 landmarks."""

from __future__ import annotations

import warnings

import numpy as np

SIZE = 112


def align(bgr: np.ndarray, landmarks: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Similarity-warp the face to the ArcFace template (insightface's ``norm_crop``)."""
    from insightface.utils.face_align import norm_crop  # heavy import, paid on first use

    with warnings.catch_warnings():  # skimage deprecation inside insightface, not ours
        warnings.simplefilter("ignore", FutureWarning)
        return norm_crop(bgr, np.asarray(landmarks, dtype=np.float32).reshape(5, 2),
                         image_size=size)
