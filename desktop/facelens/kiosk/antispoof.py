"""The `lite` pack's FaceAntiSpoofing network, with its authors' sharpness pre-check.

Input: the face box, squared and widened a little (the authors crop MTCNN's box with a
margin), resized to 256x256; :class:`facelens.engine.antispoof.TreeAntiSpoof` runs the
network (lower is live, the authors' threshold is 0.2).
Before it, the crop must be sharp: more than 1000 responses of a 3x3 Laplacian above 50
on the 256x256 grey crop, else the frame is "too blurry" and not judged.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..engine.ports import AntiSpoof as AntiSpoofModel

INPUT = 256
THRESHOLD = 0.2  # the network authors' threshold (score >= it: attack)
LAPLACE_LEVEL = 50  # a Laplacian response above this counts as an edge pixel
SHARP_COUNT = 1000  # more edge pixels than this: sharp enough to judge
MARGIN = 1.2  # the square crop's side, relative to the longer side of the face box
LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32)


@dataclass(frozen=True)
class SpoofReading:
    sharpness: int  # count of Laplacian responses above LAPLACE_LEVEL
    sharp: bool
    score: float | None  # None when the crop was too blurry to judge

    def live(self, threshold: float = THRESHOLD) -> bool:
        return self.score is not None and self.score < threshold


def face_crop(bgr: np.ndarray, box: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """The squared, widened face box, resized to 256x256 (borders replicated at edges)."""
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    side = max(x2 - x1, y2 - y1) * margin
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    s = INPUT / side
    m = np.array([[s, 0, INPUT / 2 - s * cx], [0, s, INPUT / 2 - s * cy]], dtype=np.float32)
    return cv2.warpAffine(bgr, m, (INPUT, INPUT), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REPLICATE)


def sharpness(crop256: np.ndarray) -> int:
    """How many 3x3 Laplacian responses exceed 50 on the grey 256x256 crop."""
    grey = cv2.cvtColor(crop256, cv2.COLOR_BGR2GRAY).astype(np.float32)
    resp = cv2.filter2D(grey, -1, LAPLACIAN, borderType=cv2.BORDER_ISOLATED)[1:-1, 1:-1]
    return int((resp > LAPLACE_LEVEL).sum())


def sharpness_only(bgr: np.ndarray, box: np.ndarray, min_sharpness: int = SHARP_COUNT
                   ) -> SpoofReading:
    """The blur check alone, for packs without an anti-spoofing model (score None)."""
    sharp = sharpness(face_crop(bgr, box))
    return SpoofReading(sharp, sharp > min_sharpness, None)


class AntiSpoof:
    """Sharpness pre-check, then the pack's anti-spoofing model (``FaceEngine.antispoof()``)."""

    def __init__(self, model: AntiSpoofModel, threshold: float = THRESHOLD,
                 min_sharpness: int = SHARP_COUNT):
        self.model = model
        self.threshold = threshold
        self.min_sharpness = min_sharpness

    def score_crop(self, crop256: np.ndarray) -> float:
        """The network's score for a 256x256 BGR crop (lower = live)."""
        return self.model.score_crop(crop256)

    def read(self, bgr: np.ndarray, box: np.ndarray) -> SpoofReading:
        """Sharpness check, then the score when the crop is sharp enough."""
        crop = face_crop(bgr, box)
        sharp = sharpness(crop)
        if sharp <= self.min_sharpness:
            return SpoofReading(sharp, False, None)
        return SpoofReading(sharp, True, self.score_crop(crop))
