"""`facelens bench-gallery`: real figures from a real pgvector server next to local FAISS."""

from __future__ import annotations

import json

import pytest

from facelens.cli import main
from pg_support import new_database, start, stop

pytest.importorskip("psycopg", reason="the central gallery needs psycopg (central extra)")


def test_bench_gallery_prints_latency_and_recall_for_both_stores_and_leaves_no_trace(capsys):
    server = start()
    try:
        url = new_database(server)
        assert main(["bench-gallery", "--url", url, "--sizes", "1500", "--queries", "40",
                     "--json"]) == 0
        row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert row["templates"] == 1500
        for store in ("pgvector", "faiss"):
            assert 0 < row[f"{store}_p50_ms"] <= row[f"{store}_p95_ms"]
            assert row[f"{store}_recall1"] >= 0.9  # an easy size: near-exact on both
        assert row["hnsw_build_s"] > 0
        import psycopg

        with psycopg.connect(url) as c:  # the scratch schema is gone
            assert c.execute("SELECT count(*) FROM information_schema.schemata "
                             "WHERE schema_name LIKE 'facelens_bench%'").fetchone()[0] == 0
    finally:
        stop(server)


def test_bench_accounting_recall_is_agreement_with_exact_search_and_every_row_is_loaded():
    import numpy as np
    import psycopg

    from facelens.gallery.pg import bench

    server = start()
    try:
        url = new_database(server)
        n, queries = 3000, 60
        row = bench.bench_size(url, n, queries, ef_search=10, keep_found=True)
        rng = np.random.default_rng(n)  # the same synthetic gallery and probes, again
        templates = bench.synthetic(n, rng)
        probes = bench.probes_for(templates, queries, rng)
        exact = (np.argmax(probes @ templates.T, axis=1) // bench.PER_PERSON + 1).tolist()
        assert row["exact"] == exact
        for store in ("pgvector", "faiss"):
            agree = np.mean([a == b for a, b in zip(row[f"found_{store}"], exact, strict=True)])
            assert row[f"{store}_recall1"] == agree
        assert row["found_faiss"] == exact  # below 20k templates FAISS searches exactly
        assert row["pg_rows"] == row["faiss_rows"] == n
        assert row["hnsw_index_mb"] > 0 and row["pg_table_mb"] > 0

        vecs = bench.synthetic(25, np.random.default_rng(7))  # the binary COPY is exact
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS vector")
            c.execute("CREATE TEMP TABLE t (id bigint, person_id bigint, model_id text, "
                      "dim integer, embedding vector, created text)")
            with c.cursor().copy("COPY t FROM STDIN (FORMAT BINARY)") as cp:
                cp.write(bench.COPY_HEADER + bench.copy_binary_templates(vecs, 41)
                         + bench.COPY_TRAILER)
            got = c.execute("SELECT id, person_id, model_id, dim, embedding::real[], created "
                            "FROM t ORDER BY id").fetchall()
        assert [r[0] for r in got] == list(range(41, 66))
        assert [r[1] for r in got] == [(i - 1) // bench.PER_PERSON + 1 for i in range(41, 66)]
        assert {(r[2], r[3], r[5]) for r in got} == {(bench.MODEL, bench.DIM, "-")}
        assert np.array_equal(np.array([r[4] for r in got], np.float32), vecs)
    finally:
        stop(server)


def test_bench_gallery_rejects_a_bad_size(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench-gallery", "--url", "postgresql://x/y", "--sizes", "3"])
    assert exc.value.code == 2
    assert "at least 10" in capsys.readouterr().err
