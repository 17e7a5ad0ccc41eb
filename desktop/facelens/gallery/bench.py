"""How fast `Gallery.identify` answers for one face, on a gallery of random templates.

    python -m facelens.gallery.bench [N ...]      # prints ms per query at 1k and 100k
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .gallery import Gallery

TEMPLATES_PER_PERSON = 10


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def bench_search(n_templates: int, dim: int = 192, queries: int = 200) -> float:
    """Mean milliseconds of one single-face `identify` on a gallery of `n_templates`.

    The gallery is a real (temporary) SQLite file of random unit templates, 10 per person;
    half the queries are noisy copies of enrolled templates, half are strangers.
    """
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="facelens-bench-") as tmp:
        gallery = Gallery.open(Path(tmp) / "bench.db", f"bench/random-{dim}", dim)
        try:
            gallery._db.execute("PRAGMA synchronous = OFF")  # a throwaway file: fill it fast
            templates = _unit(rng, n_templates, dim)
            for start in range(0, n_templates, TEMPLATES_PER_PERSON):
                gallery.enrol(f"person {start // TEMPLATES_PER_PERSON}",
                              templates[start:start + TEMPLATES_PER_PERSON])
            known = templates[rng.integers(0, n_templates, queries // 2)]
            probes = np.vstack([known + 0.1 * _unit(rng, len(known), dim),
                                _unit(rng, queries - len(known), dim)])
            probes /= np.linalg.norm(probes, axis=1, keepdims=True)
            for probe in probes[:10]:  # warm up
                gallery.identify(probe[None], 0.5)
            start = time.perf_counter()
            for probe in probes:
                gallery.identify(probe[None], 0.5)
            return (time.perf_counter() - start) * 1000 / len(probes)
        finally:
            gallery.close()


def main(argv: list[str]) -> int:
    for n in [int(a) for a in argv] or [1_000, 100_000]:
        print(f"identify, 1 face, {n} templates x 192: {bench_search(n):.3f} ms/query", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
