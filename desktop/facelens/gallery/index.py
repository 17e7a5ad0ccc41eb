"""The in-memory FAISS cache of template vectors, searched by cosine similarity.

`IndexIDMap2(IndexFlatIP)` keyed by template id holds every vector and gives exact scores.
A flat search reads every vector, so it is bound by memory bandwidth: at 100k templates x 192
dims (77 MB) one query took ~5 ms here. From `COARSE_FROM` templates on, a query first scans
an 8-bit copy (a quarter of the bytes, ~1.5 ms) for `CANDIDATES` candidates, which are then
scored exactly from the flat index. Only the ranking of the candidates is approximate; every
similarity returned is exact.
"""

from __future__ import annotations

import faiss
import numpy as np

# One thread: a single query is memory-bound, and OpenMP threads only add overhead on a
# shared 2-core CPU (measured: 4.7 ms with 1 thread, 9-23 ms with 2, at 100k templates).
# Batches of 20 or more queries go through BLAS, which has its own threads.
faiss.omp_set_num_threads(1)


def _codes(vectors: np.ndarray) -> np.ndarray:
    """Unit-vector components in [-1, 1] as the int8 values [-127, 127] (still float32)."""
    return np.rint(vectors * 127.0).astype(np.float32)


class TemplateIndex:
    """Vectors by template id; `best` finds each query's most similar template."""

    COARSE_FROM = 20_000
    CANDIDATES = 64

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._exact = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        # int8 codes of the vectors scaled by 127. On x86, faiss scores these codes with an
        # integer kernel that also casts the *query* to int8 (truncating), so queries are
        # scaled and rounded the same way (unscaled unit queries would all score 0).
        self._coarse = faiss.IndexIDMap2(faiss.IndexScalarQuantizer(
            dim, faiss.ScalarQuantizer.QT_8bit_direct_signed, faiss.METRIC_INNER_PRODUCT))

    def __len__(self) -> int:
        return int(self._exact.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add unit `vectors` [n, dim] float32 under template `ids`."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(ids):
            self._exact.add_with_ids(vectors, ids)
            self._coarse.add_with_ids(_codes(vectors), ids)

    def remove(self, ids: np.ndarray) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(ids):
            self._exact.remove_ids(ids)
            self._coarse.remove_ids(ids)

    def best(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each unit query row: (template id, cosine similarity) of its best template.

        A person's score is their best template's, so the best template names the best
        person. Ids are -1 (similarity -1.0) when the index is empty.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        n = len(queries)
        if len(self) == 0:
            return np.full(n, -1, np.int64), np.full(n, -1.0, np.float32)
        if len(self) < self.COARSE_FROM:
            sims, ids = self._exact.search(queries, 1)
            return ids[:, 0], np.clip(sims[:, 0], -1.0, 1.0)
        _, candidates = self._coarse.search(_codes(queries), min(self.CANDIDATES, len(self)))
        best_ids = np.empty(n, np.int64)
        best_sims = np.empty(n, np.float32)
        for row, (query, cand) in enumerate(zip(queries, candidates, strict=True)):
            cand = cand[cand >= 0]
            sims = self._exact.reconstruct_batch(cand) @ query
            top = int(np.argmax(sims))
            best_ids[row], best_sims[row] = cand[top], sims[top]
        return best_ids, np.clip(best_sims, -1.0, 1.0)
