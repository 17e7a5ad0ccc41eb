"""MobileFaceNet (the `lite` pack, recipe kind ``mobilefacenet``): NHWC RGB, (x - 127.5) / 128."""

from __future__ import annotations

import numpy as np

from .batched import BatchedEmbedder


class MobileFaceNetEmbedder(BatchedEmbedder):
    """A Siamese branch: the same weights embed enrolment photos and live faces."""

    def prepare(self, batch: np.ndarray) -> np.ndarray:
        """RGB, NHWC, centred and scaled to about -1..1."""
        return (batch[:, :, :, ::-1].astype(np.float32) - 127.5) * (1.0 / 128.0)
