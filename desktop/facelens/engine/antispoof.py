"""Anti-spoofing model families (recipe ``roles.antispoof.kind``).

``tree``: the `lite` pack's FaceAntiSpoofing network. 256x256 RGB 0..1, NHWC in; outputs
``Identity`` (class prediction, [1, 8]) and ``Identity_1`` (leaf-node mask, [1, 8]); the
score is ``sum(|class_pred| * leaf_mask)``: lower is live, the authors' threshold is 0.2.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..runtime import create_session


class TreeAntiSpoof:
    """The FaceAntiSpoofing network of the `lite` pack."""

    input_size = 256
    threshold = 0.2

    def __init__(self, model: str | Path, provider: str = "auto"):
        self.session = create_session(model, provider)
        names = [o.name for o in self.session.get_outputs()]
        self._outputs = ["Identity", "Identity_1"] if "Identity_1" in names else names[:2]
        self._input = self.session.get_inputs()[0].name

    def score_crop(self, crop: np.ndarray) -> float:
        """The network's score for a 256x256 BGR crop (lower = live)."""
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        pred, mask = self.session.run(self._outputs, {self._input: rgb[None]})
        return float(np.sum(np.abs(pred) * mask))
