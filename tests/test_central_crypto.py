"""An encrypted central gallery: the server holds only sealed templates; clients search."""

from __future__ import annotations

import numpy as np
import pytest

from facelens.errors import GalleryError
from facelens.gallery.pg.store import PgGallery
from facelens.gallery.sync import ReplicatedGallery
from facelens.images import load_image
from pg_support import new_database

psycopg = pytest.importorskip("psycopg", reason="the central gallery needs psycopg (central extra)")


def test_encrypted_central_gallery_stores_no_clear_vectors_and_still_recognises(
        engine, faces_dev, tmp_path, server):
    url = new_database(server)
    people = sorted((faces_dev / "people").glob("bbt_*"))[:4]
    embs = {d.name: engine.analyze_photo(load_image(d / "1.png"))[0].embedding for d in people}
    probes = np.stack([engine.analyze_photo(load_image(d / "2.png"))[0].embedding
                       for d in people])
    t = engine.default_threshold
    with PgGallery.open(url, engine.model_id, engine.dim) as g:
        for name, e in list(embs.items())[:2]:
            g.enrol(name, e[None], thumbnails=[b"\xff\xd8" + name.encode()])
        before = [m.similarity for m in g.identify(probes, t)]
        assert g.encrypt("correct horse") == 2
        for name, e in list(embs.items())[2:]:  # enrolled sealed
            g.enrol(name, e[None], thumbnails=[b"\xff\xd8" + name.encode()])
        got = g.identify(probes, t)
        np.testing.assert_allclose([m.similarity for m in got[:2]], before[:2], atol=1e-6)
        assert [m.name for m in got] == [d.name for d in people]
        assert {p.name: p.thumbnail for p in g.people()}[people[0].name] == \
            b"\xff\xd8" + people[0].name.encode()
    with psycopg.connect(url) as c:  # what the server holds: no vector, no thumbnail in clear
        assert c.execute("SELECT count(*) FROM templates WHERE embedding IS NOT NULL "
                         "OR sealed IS NULL").fetchone()[0] == 0
        blobs = b"".join(bytes(r[0]) + bytes(r[1]) for r in c.execute(
            "SELECT sealed, thumbnail FROM templates"))
    for e in embs.values():
        assert e.astype("<f4").tobytes()[:16] not in blobs
    assert people[0].name.encode() not in blobs
    with pytest.raises(GalleryError, match="encrypted: give the passphrase"):
        PgGallery.open(url, engine.model_id, engine.dim)
    with pytest.raises(GalleryError, match="wrong passphrase"):
        PgGallery.open(url, engine.model_id, engine.dim, passphrase="battery staple")

    with ReplicatedGallery.open(url, tmp_path / "station", engine.model_id, engine.dim,
                                passphrase="correct horse") as station:
        assert station.encrypted  # the replica on the station's disk is sealed too
        assert [m.name for m in station.identify(probes, t)] == [d.name for d in people]
    with PgGallery.open(url, engine.model_id, engine.dim, passphrase="correct horse") as g:
        assert g.decrypt() == 4
        assert [m.name for m in g.identify(probes, t)] == [d.name for d in people]  # pgvector
    with psycopg.connect(url) as c:
        assert c.execute("SELECT count(*) FROM templates WHERE sealed IS NOT NULL"
                         ).fetchone()[0] == 0
