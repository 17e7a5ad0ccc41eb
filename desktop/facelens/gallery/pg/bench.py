"""``facelens bench-gallery --url URL``: search latency and recall, pgvector HNSW next to FAISS.

For each size it makes a synthetic gallery of unit 192-d templates (10 per person around a
random centre, like several photos of one person), loads it into a scratch schema on the
server (dropped afterwards: the server's gallery is not touched) and into a temporary local
SQLite + FAISS gallery, and times single-face `identify` on both with the same probes (noisy
copies of enrolled templates). recall@1 is the share of probes whose best template is the
exact nearest one (brute force in numpy). Synthetic data, not faces: real embeddings cluster
more, which usually helps HNSW.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ...cli import emit
from ..gallery import Gallery
from . import schema
from .store import PgGallery, connect
from .url import mask_url

DIM = 192
PER_PERSON = 10
MODEL = "bench/synthetic-192"


def synthetic(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` unit templates, `PER_PERSON` per person scattered around the person's centre."""
    centres = rng.standard_normal((-(-n // PER_PERSON), DIM)).astype(np.float32)
    x = np.repeat(centres, PER_PERSON, axis=0)[:n]
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    noise = rng.standard_normal((n, DIM)).astype(np.float32)
    x = x + 0.6 * noise / np.linalg.norm(noise, axis=1, keepdims=True)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def probes_for(templates: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    picked = templates[rng.integers(0, len(templates), count)]
    noise = rng.standard_normal(picked.shape).astype(np.float32)
    p = picked + 0.5 * noise / np.linalg.norm(noise, axis=1, keepdims=True)
    return (p / np.linalg.norm(p, axis=1, keepdims=True)).astype(np.float32)


def _timed(identify, probes: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Person ids found and milliseconds per single-face call."""
    for p in probes[:5]:  # warm up
        identify(p[None])
    found, ms = [], []
    for p in probes:
        t0 = time.perf_counter()
        match = identify(p[None])[0]
        ms.append((time.perf_counter() - t0) * 1000)
        found.append(match.person_id)
    return found, np.array(ms)


def _load_pg(url: str, templates: np.ndarray, scratch: str, ef_search: int) -> tuple[
        PgGallery, float]:
    """A PgGallery over `templates` in schema `scratch`; returns it and the index build s."""
    conn = connect(url)
    conn.execute(f"CREATE SCHEMA {scratch}")
    conn.execute(f"SET search_path TO {scratch}, public")
    schema.create(conn)
    n_people = -(-len(templates) // PER_PERSON)
    with conn.transaction():
        with conn.cursor().copy("COPY people (id, name, created, updated) FROM STDIN") as cp:
            for pid in range(1, n_people + 1):
                cp.write_row((pid, f"person {pid}", "-", "-"))
        with conn.cursor().copy("COPY templates (id, person_id, model_id, dim, embedding, "
                                "created) FROM STDIN") as cp:
            for i, vec in enumerate(templates):
                text = "[" + ",".join(f"{x:.7g}" for x in vec.tolist()) + "]"
                cp.write_row((i + 1, i // PER_PERSON + 1, MODEL, DIM, text, "-"))
    conn.execute("SET maintenance_work_mem = '1GB'")
    t0 = time.perf_counter()
    schema.ensure_index(conn, MODEL, DIM)
    built = time.perf_counter() - t0
    conn.execute(f"SET hnsw.ef_search = {int(ef_search)}")
    conn.execute("ANALYZE templates")
    return PgGallery(conn, url, MODEL, DIM), built


def _load_local(folder: Path, templates: np.ndarray) -> Gallery:
    g = Gallery.open(folder / "bench.db", MODEL, DIM)
    c = g._db
    c.execute("PRAGMA synchronous = OFF")  # a throwaway file
    c.execute("BEGIN")
    c.executemany("INSERT INTO people (id, name, created, updated) VALUES (?, ?, '-', '-')",
                  [(pid, f"person {pid}") for pid in range(1, -(-len(templates) // PER_PERSON)
                                                          + 1)])
    c.executemany("INSERT INTO templates (id, person_id, model_id, dim, vector, created) "
                  "VALUES (?, ?, ?, ?, ?, '-')",
                  [(i + 1, i // PER_PERSON + 1, MODEL, DIM, v.tobytes())
                   for i, v in enumerate(templates)])
    c.execute("COMMIT")
    with g._lock:
        g._reload()
    return g


def bench_size(url: str, n: int, queries: int = 200, ef_search: int = 40) -> dict:
    """Figures for one gallery size: p50/p95 ms and recall@1 of both stores."""
    rng = np.random.default_rng(n)
    templates = synthetic(n, rng)
    probes = probes_for(templates, queries, rng)
    exact = (np.argmax(probes @ templates.T, axis=1) // PER_PERSON + 1).tolist()
    scratch = f"facelens_bench_{n}_{int(time.time())}"
    result = {"templates": n, "ef_search": ef_search}
    pg, built = _load_pg(url, templates, scratch, ef_search)
    try:
        found, ms = _timed(lambda q: pg.identify(q, -1.0), probes)
        result.update(pgvector_p50_ms=float(np.percentile(ms, 50)),
                      pgvector_p95_ms=float(np.percentile(ms, 95)),
                      pgvector_recall1=float(np.mean([a == b for a, b in zip(found, exact,
                                                                              strict=True)])),
                      hnsw_build_s=built)
    finally:
        pg._db.execute(f"DROP SCHEMA {scratch} CASCADE")
        pg.close()
    with tempfile.TemporaryDirectory(prefix="facelens-bench-") as tmp:
        local = _load_local(Path(tmp), templates)
        try:
            found, ms = _timed(lambda q: local.identify(q, -1.0), probes)
        finally:
            local.close()
    result.update(faiss_p50_ms=float(np.percentile(ms, 50)),
                  faiss_p95_ms=float(np.percentile(ms, 95)),
                  faiss_recall1=float(np.mean([a == b for a, b in zip(found, exact,
                                                                       strict=True)])))
    return result


def cmd_bench_gallery(args: argparse.Namespace) -> int:
    if not args.json:
        print(f"bench-gallery on {mask_url(args.url)}: synthetic {DIM}-d templates, "
              f"{PER_PERSON} per person; single-face identify; recall@1: the person found is "
              "the exact nearest template's", flush=True)
    for n in args.sizes:
        r = bench_size(args.url, n, args.queries, args.ef_search)
        emit(args, r, f"{n:>9,} templates  pgvector HNSW p50 {r['pgvector_p50_ms']:.2f} ms  "
                      f"p95 {r['pgvector_p95_ms']:.2f} ms  recall@1 {r['pgvector_recall1']:.3f}"
                      f"  (index built in {r['hnsw_build_s']:.1f} s, ef_search "
                      f"{r['ef_search']})  |  local FAISS p50 {r['faiss_p50_ms']:.2f} ms  "
                      f"p95 {r['faiss_p95_ms']:.2f} ms  recall@1 {r['faiss_recall1']:.3f}")
    return 0


def _size(text: str) -> int:
    value = int(text.replace("_", "").replace(",", "").lower().replace("k", "000")
                .replace("m", "000000"))
    if value < PER_PERSON:
        raise argparse.ArgumentTypeError(f"a gallery size must be at least {PER_PERSON}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``bench-gallery`` to the ``facelens`` command."""
    p = sub.add_parser("bench-gallery", help="search p50/p95 and recall@1: pgvector HNSW on a "
                                             "server next to local FAISS")
    p.add_argument("--url", required=True, help="postgresql://USER@HOST/DB (a scratch schema "
                                                "is created there and dropped)")
    p.add_argument("--sizes", nargs="+", type=_size, default=[10_000, 100_000],
                   metavar="N", help="gallery sizes (default: 10k 100k; 1m fits if time allows)")
    p.add_argument("--queries", type=int, default=200, help="probes per size (default 200)")
    p.add_argument("--ef-search", type=int, default=40, help="HNSW ef_search (pgvector "
                                                            "default 40)")
    p.add_argument("--json", action="store_true", help="one JSON object per size")
    p.set_defaults(func=cmd_bench_gallery)
