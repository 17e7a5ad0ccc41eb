"""Is a detected face good enough to judge: size, sharpness, frontal pose."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .faces import Face

MIN_SIZE = 40.0  # px, shorter box side
MIN_SHARPNESS = 40.0  # variance of the Laplacian on the aligned grey crop
MIN_FRONTAL = 0.45  # 1 = nose centred between the eyes, 0 = profile


@dataclass
class QualityReport:
    """Whether a face can be judged, and why not."""

    ok: bool
    reason: str | None
    size: float
    sharpness: float
    frontal: float


def sharpness(crop: np.ndarray) -> float:
    """Variance of the Laplacian of the aligned crop: low means blurred."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def frontality(landmarks: np.ndarray) -> float:
    """1.0 when the nose sits midway between the eyes, falling towards 0 in profile."""
    le, re, nose = landmarks[0], landmarks[1], landmarks[2]
    eye_dist = float(np.linalg.norm(re - le))
    if eye_dist < 1e-6:
        return 0.0
    d_left = float(np.linalg.norm(nose - le))
    d_right = float(np.linalg.norm(nose - re))
    return min(d_left, d_right) / max(d_left, d_right, 1e-6)


def assess(face: Face, crop: np.ndarray, min_size: float = MIN_SIZE,
           min_sharpness: float = MIN_SHARPNESS, min_frontal: float = MIN_FRONTAL) -> QualityReport:
    """Judge a face from its detection and its aligned crop."""
    size, sharp, front = face.size, sharpness(crop), frontality(face.landmarks)
    reason = None
    if size < min_size:
        reason = "too small"
    elif sharp < min_sharpness:
        reason = "too blurred"
    elif front < min_frontal:
        reason = "not frontal"
    return QualityReport(reason is None, reason, size, sharp, front)
