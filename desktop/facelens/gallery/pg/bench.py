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
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from ...cli import emit
from ..gallery import Gallery
from ..index import TemplateIndex
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


def copy_binary_templates(templates: np.ndarray, first_id: int = 1) -> bytes:
    """`templates` as one PostgreSQL binary COPY stream for
    ``templates (id, person_id, model_id, dim, embedding, created)``, built by NumPy.

    A vector field is pgvector's binary form: int16 dim, int16 0, then float4 values, all
    big-endian. Building it whole in NumPy is what makes a 1M load take seconds, not minutes.
    """
    n, dim = templates.shape
    model = MODEL.encode()
    row = np.dtype([("fields", ">i2"),
                    ("l_id", ">i4"), ("id", ">i8"), ("l_pid", ">i4"), ("pid", ">i8"),
                    ("l_model", ">i4"), ("model", f"S{len(model)}"),
                    ("l_dim", ">i4"), ("dim", ">i4"),
                    ("l_vec", ">i4"), ("vdim", ">i2"), ("vpad", ">i2"), ("vec", ">f4", (dim,)),
                    ("l_created", ">i4"), ("created", "S1")])
    rows = np.zeros(n, row)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    rows["fields"] = 6
    rows["l_id"], rows["id"] = 8, ids
    rows["l_pid"], rows["pid"] = 8, (ids - 1) // PER_PERSON + 1
    rows["l_model"], rows["model"] = len(model), model
    rows["l_dim"], rows["dim"] = 4, dim
    rows["l_vec"], rows["vdim"], rows["vec"] = 4 + 4 * dim, dim, templates
    rows["l_created"], rows["created"] = 1, b"-"
    return rows.tobytes()


COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, flags, no extension
COPY_TRAILER = b"\xff\xff"
CHUNK = 50_000  # templates per COPY write


def _load_pg(url: str, templates: np.ndarray, scratch: str, ef_search: int,
             maintenance_work_mem: str, workers: int) -> tuple[PgGallery, dict]:
    """A PgGallery over `templates` in schema `scratch`, and how it was built: seconds to
    load (binary COPY) and to build the HNSW index (after loading), rows and sizes there."""
    conn = connect(url)
    conn.execute(f"CREATE SCHEMA {scratch}")
    conn.execute(f"SET search_path TO {scratch}, public")
    schema.create(conn)
    n_people = -(-len(templates) // PER_PERSON)
    t0 = time.perf_counter()
    with conn.transaction():
        with conn.cursor().copy("COPY people (id, name, created, updated) FROM STDIN") as cp:
            for pid in range(1, n_people + 1):
                cp.write_row((pid, f"person {pid}", "-", "-"))
        with conn.cursor().copy("COPY templates (id, person_id, model_id, dim, embedding, "
                                "created) FROM STDIN (FORMAT BINARY)") as cp:
            cp.write(COPY_HEADER)
            for at in range(0, len(templates), CHUNK):
                cp.write(copy_binary_templates(templates[at:at + CHUNK], at + 1))
            cp.write(COPY_TRAILER)
    loaded = time.perf_counter() - t0
    conn.execute("SELECT set_config('maintenance_work_mem', %s, false)",
                 (maintenance_work_mem,))
    conn.execute(f"SET max_parallel_maintenance_workers = {int(workers)}")
    t0 = time.perf_counter()
    schema.ensure_index(conn, MODEL, DIM)
    built = time.perf_counter() - t0
    conn.execute(f"SET hnsw.ef_search = {int(ef_search)}")
    conn.execute("ANALYZE templates")
    rows, table_b, index_b = conn.execute(
        "SELECT (SELECT count(*) FROM templates), pg_total_relation_size('templates') - "
        "pg_indexes_size('templates'), pg_relation_size(%s::regclass)",
        (schema.index_name(MODEL, DIM),)).fetchone()
    return PgGallery(conn, url, MODEL, DIM), {
        "pg_rows": int(rows), "pg_load_s": loaded, "hnsw_build_s": built,
        "hnsw_index_mb": index_b / 2**20, "pg_table_mb": table_b / 2**20,
        "maintenance_work_mem": maintenance_work_mem, "parallel_workers": int(workers)}


def _load_local(folder: Path, templates: np.ndarray) -> tuple[Gallery, float]:
    """A temporary SQLite + FAISS gallery over `templates`, and the seconds to load it."""
    t0 = time.perf_counter()
    g = Gallery.open(folder / "bench.db", MODEL, DIM)
    c = g._db
    c.execute("PRAGMA synchronous = OFF")  # a throwaway file
    c.execute("BEGIN")
    c.executemany("INSERT INTO people (id, name, created, updated) VALUES (?, ?, '-', '-')",
                  ((pid, f"person {pid}") for pid in range(1, -(-len(templates) // PER_PERSON)
                                                          + 1)))
    c.executemany("INSERT INTO templates (id, person_id, model_id, dim, vector, created) "
                  "VALUES (?, ?, ?, ?, ?, '-')",
                  ((i + 1, i // PER_PERSON + 1, MODEL, DIM, v.tobytes())
                   for i, v in enumerate(templates)))
    c.execute("COMMIT")
    with g._lock:
        g._reload()
    return g, time.perf_counter() - t0


def exact_people(probes: np.ndarray, templates: np.ndarray) -> list[int]:
    """The person of each probe's exact nearest template (brute force, in blocks)."""
    best = np.empty(len(probes), np.int64)
    top = np.full(len(probes), -np.inf, np.float32)
    for at in range(0, len(templates), 200_000):
        sims = probes @ templates[at:at + 200_000].T
        arg = np.argmax(sims, axis=1)
        value = sims[np.arange(len(probes)), arg]
        better = value > top
        best[better], top[better] = arg[better] + at, value[better]
    return (best // PER_PERSON + 1).tolist()


def recall_at_1(found: list, exact: list[int]) -> float:
    """Share of probes whose found person is the exact nearest template's person."""
    return float(np.mean([a == b for a, b in zip(found, exact, strict=True)]))


def bench_size(url: str, n: int, queries: int = 200, ef_search: int = 40,
               maintenance_work_mem: str = "4GB", workers: int | None = None,
               keep_found: bool = False, more_ef: tuple[int, ...] = ()) -> dict:
    """Figures for one gallery size: p50/p95 ms and recall@1 of both stores, load and build
    times, sizes. `keep_found` adds each store's person found per probe and the exact ones;
    `more_ef` times the same HNSW index again at these ef_search values."""
    workers = max(1, (os.cpu_count() or 2) - 1) if workers is None else workers
    rng = np.random.default_rng(n)
    templates = synthetic(n, rng)
    probes = probes_for(templates, queries, rng)
    exact = exact_people(probes, templates)
    scratch = f"facelens_bench_{n}_{int(time.time())}"
    result: dict = {"templates": n, "dim": DIM, "queries": queries, "ef_search": ef_search}
    pg, built = _load_pg(url, templates, scratch, ef_search, maintenance_work_mem, workers)
    result.update(built)
    try:
        found_pg, ms = _timed(lambda q: pg.identify(q, -1.0), probes)
        result.update(pgvector_p50_ms=float(np.percentile(ms, 50)),
                      pgvector_p95_ms=float(np.percentile(ms, 95)),
                      pgvector_recall1=recall_at_1(found_pg, exact))
        result["more_ef_search"] = []
        for ef in more_ef:  # the same index, searched wider: recall against latency
            pg._db.execute(f"SET hnsw.ef_search = {int(ef)}")
            found, ms = _timed(lambda q: pg.identify(q, -1.0), probes)
            result["more_ef_search"].append({
                "ef_search": int(ef), "pgvector_p50_ms": float(np.percentile(ms, 50)),
                "pgvector_p95_ms": float(np.percentile(ms, 95)),
                "pgvector_recall1": recall_at_1(found, exact)})
    finally:
        pg._db.execute(f"DROP SCHEMA {scratch} CASCADE")
        pg.close()
    with tempfile.TemporaryDirectory(prefix="facelens-bench-") as tmp:
        local, loaded = _load_local(Path(tmp), templates)
        try:
            result.update(faiss_rows=local.count_templates(), faiss_load_s=loaded)
            found_faiss, ms = _timed(lambda q: local.identify(q, -1.0), probes)
        finally:
            local.close()
    coarse = n >= TemplateIndex.COARSE_FROM  # float32 vectors, plus an int8 copy
    result.update(faiss_p50_ms=float(np.percentile(ms, 50)),
                  faiss_p95_ms=float(np.percentile(ms, 95)),
                  faiss_recall1=recall_at_1(found_faiss, exact),
                  faiss_vectors_mb=n * DIM * (5 if coarse else 4) / 2**20)
    if keep_found:
        result.update(found_pgvector=found_pg, found_faiss=found_faiss, exact=exact)
    return result


def _line(r: dict) -> str:
    return (f"{r['templates']:>9,} templates  pgvector HNSW p50 {r['pgvector_p50_ms']:.2f} ms  "
            f"p95 {r['pgvector_p95_ms']:.2f} ms  recall@1 {r['pgvector_recall1']:.3f}  "
            f"(COPY {r['pg_load_s']:.1f} s, index built in {r['hnsw_build_s']:.1f} s, "
            f"{r['hnsw_index_mb']:.0f} MB; table {r['pg_table_mb']:.0f} MB)  |  local FAISS "
            f"p50 {r['faiss_p50_ms']:.2f} ms  p95 {r['faiss_p95_ms']:.2f} ms  recall@1 "
            f"{r['faiss_recall1']:.3f}  (loaded in {r['faiss_load_s']:.1f} s, "
            f"{r['faiss_vectors_mb']:.0f} MB of vectors in RAM)")


def cmd_bench_gallery(args: argparse.Namespace) -> int:
    if not args.json:
        print(f"bench-gallery on {mask_url(args.url)}: synthetic {DIM}-d templates, "
              f"{PER_PERSON} per person; {args.queries} single-face identify calls per size; "
              "recall@1: the person found is the exact nearest template's; HNSW built after "
              f"loading with maintenance_work_mem {args.maintenance_work_mem}; ef_search "
              f"{', '.join(map(str, args.ef_search))}", flush=True)
    rows = []
    for n in args.sizes:
        r = bench_size(args.url, n, args.queries, args.ef_search[0],
                       args.maintenance_work_mem, args.workers, more_ef=args.ef_search[1:])
        rows.append(r)
        emit(args, r, "\n".join([_line(r)] + [
            f"{'':>9}  ef_search {m['ef_search']}: pgvector HNSW p50 {m['pgvector_p50_ms']:.2f}"
            f" ms  p95 {m['pgvector_p95_ms']:.2f} ms  recall@1 {m['pgvector_recall1']:.3f}"
            for m in r["more_ef_search"]]))
    if not args.json and len(rows) > 1:
        print("\n| templates | pgvector p50 / p95 ms | recall@1 | COPY s | HNSW build s | "
              "index MB | FAISS p50 / p95 ms | recall@1 |\n|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['templates']:,} | {r['pgvector_p50_ms']:.1f} / "
                  f"{r['pgvector_p95_ms']:.1f} | {r['pgvector_recall1']:.3f} | "
                  f"{r['pg_load_s']:.0f} | {r['hnsw_build_s']:.0f} | {r['hnsw_index_mb']:.0f} "
                  f"| {r['faiss_p50_ms']:.1f} / {r['faiss_p95_ms']:.1f} | "
                  f"{r['faiss_recall1']:.3f} |")
            for m in r["more_ef_search"]:
                print(f"| (ef_search {m['ef_search']}) | {m['pgvector_p50_ms']:.1f} / "
                      f"{m['pgvector_p95_ms']:.1f} | {m['pgvector_recall1']:.3f} | | | | | |")
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
                   metavar="N", help="gallery sizes (default: 10k 100k; add 1m for the sizing row)")
    p.add_argument("--queries", type=int, default=200, help="probes per size (default 200)")
    p.add_argument("--ef-search", type=int, nargs="+", default=[40], metavar="EF",
                   help="HNSW ef_search (pgvector's default 40); more values time the same "
                        "index again, searched wider")
    p.add_argument("--maintenance-work-mem", default="4GB", help="PostgreSQL memory for the "
                   "index build (default 4GB; an HNSW graph that fits builds far faster)")
    p.add_argument("--workers", type=int, default=None, help="parallel index build workers "
                   "(default: CPU cores - 1)")
    p.add_argument("--json", action="store_true", help="one JSON object per size")
    p.set_defaults(func=cmd_bench_gallery)
