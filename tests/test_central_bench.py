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


def test_bench_gallery_rejects_a_bad_size(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench-gallery", "--url", "postgresql://x/y", "--sizes", "3"])
    assert exc.value.code == 2
    assert "at least 10" in capsys.readouterr().err
