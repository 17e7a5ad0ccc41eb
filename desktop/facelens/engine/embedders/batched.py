"""What every ONNX embedder shares: batching, and L2 normalisation of the outputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...runtime import create_session


class BatchedEmbedder:
    """An embedding network run in batches; subclasses turn BGR crops into its input."""

    def __init__(self, model: str | Path, provider: str = "auto", max_batch: int = 16):
        # run in short bursts (a few crops per live detection): idle threads sleep, not spin
        self.session = create_session(model, provider, spinning=False)
        self.input = self.session.get_inputs()[0].name
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.max_batch = max_batch

    def prepare(self, batch: np.ndarray) -> np.ndarray:
        """The network's input for uint8 BGR crops [n, 112, 112, 3]."""
        raise NotImplementedError

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Embed BGR uint8 112x112 crops in batches; returns float32 [n, dim], unit length."""
        if len(crops) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for i in range(0, len(crops), self.max_batch):
            batch = self.prepare(np.stack(crops[i:i + self.max_batch]))
            out.append(self.session.run(None, {self.input: batch})[0])
        vecs = np.concatenate(out).astype(np.float32)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-10)
