"""SFace (OpenCV Zoo, recipe kind ``sface``): NCHW RGB 0..255; the network normalises itself.

The input is what OpenCV's ``FaceRecognizerSF.feature`` feeds it:
``blobFromImage(crop, 1.0, (112, 112), (0, 0, 0), swapRB=True)``.
"""

from __future__ import annotations

import numpy as np

from .batched import BatchedEmbedder


class SFaceEmbedder(BatchedEmbedder):
    """SFace 128-d embeddings of ArcFace-template crops."""

    def prepare(self, batch: np.ndarray) -> np.ndarray:
        """RGB, NCHW, raw 0..255 floats."""
        return np.ascontiguousarray(batch[:, :, :, ::-1].transpose(0, 3, 1, 2), np.float32)
