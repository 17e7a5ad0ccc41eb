"""The FAISS cache: exact below `COARSE_FROM`, 8-bit pre-selection plus exact scores above."""

from __future__ import annotations

import numpy as np
import pytest

from facelens.gallery.bench import bench_search
from facelens.gallery.index import TemplateIndex

DIM = 192


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def gallery_and_probes():
    rng = np.random.default_rng(3)
    vectors = unit(rng, 5000)
    ids = np.arange(len(vectors), dtype=np.int64) * 7 + 3  # ids need not be dense
    genuine = vectors[rng.integers(0, len(vectors), 100)] + 0.08 * unit(rng, 100)
    probes = np.vstack([genuine, unit(rng, 100)])
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    return vectors, ids, probes


def exact_best(vectors, ids, probes):
    sims = probes @ vectors.T
    return ids[sims.argmax(axis=1)], sims.max(axis=1)


def test_exact_search(gallery_and_probes):
    vectors, ids, probes = gallery_and_probes
    index = TemplateIndex(DIM)
    index.add(ids, vectors)
    got_ids, got_sims = index.best(probes)
    want_ids, want_sims = exact_best(vectors, ids, probes)
    assert (got_ids == want_ids).all()
    np.testing.assert_allclose(got_sims, want_sims, atol=1e-5)


def test_coarse_search_finds_the_same_best_template(gallery_and_probes, monkeypatch):
    vectors, ids, probes = gallery_and_probes
    monkeypatch.setattr(TemplateIndex, "COARSE_FROM", 1000)
    index = TemplateIndex(DIM)
    index.add(ids, vectors)
    got_ids, got_sims = index.best(probes)
    want_ids, want_sims = exact_best(vectors, ids, probes)
    assert (got_ids[:100] == want_ids[:100]).all()  # every genuine probe finds its template
    assert (got_ids == want_ids).mean() >= 0.95  # strangers: near-ties among ~0.25 scores
    np.testing.assert_allclose(got_sims[:100], want_sims[:100], atol=1e-5)  # scores are exact
    assert (want_sims - got_sims).max() < 0.02


def test_remove_and_empty(gallery_and_probes, monkeypatch):
    vectors, ids, probes = gallery_and_probes
    monkeypatch.setattr(TemplateIndex, "COARSE_FROM", 1000)
    index = TemplateIndex(DIM)
    assert index.best(probes[:2])[0].tolist() == [-1, -1]
    index.add(ids, vectors)
    first, _ = index.best(probes[:1])
    index.remove(first)
    assert len(index) == len(vectors) - 1
    assert index.best(probes[:1])[0][0] != first[0]
    index.remove(ids)
    assert len(index) == 0 and index.best(probes[:1])[0][0] == -1


def test_bench_search_reports_milliseconds():
    ms = bench_search(500, queries=20)
    assert 0 < ms < 1000
