"""Face embedding: aligned 112x112 crops -> L2-normalised vectors (MobileFaceNet on ONNX)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..runtime import create_session


class Embedder:
    """A Siamese branch: the same weights embed enrolment photos and live faces."""

    def __init__(self, model: str, provider: str = "auto", max_batch: int = 16):
        self.session = create_session(model, provider)
        self.input = self.session.get_inputs()[0].name
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.max_batch = max_batch

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Embed BGR uint8 112x112 crops in batches; returns float32 [n, dim], unit length."""
        if len(crops) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for i in range(0, len(crops), self.max_batch):
            batch = np.stack(crops[i:i + self.max_batch])[:, :, :, ::-1].astype(np.float32)
            batch = (batch - 127.5) * (1.0 / 128.0)
            out.append(self.session.run(None, {self.input: batch})[0])
        vecs = np.concatenate(out).astype(np.float32)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-10)
