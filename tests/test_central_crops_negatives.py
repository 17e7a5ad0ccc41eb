"""Aligned face crops and "not this person" negatives on the central gallery: stored by
enrolments and corrections, carried by push and pull, copied into station replicas."""

from __future__ import annotations

import json

import pytest

from facelens.cli import main
from facelens.gallery import Gallery, default_db_path
from facelens.gallery import crops as crop_store
from facelens.gallery.backend import open_backend
from facelens.gallery.sync import ReplicatedGallery
from facelens.images import load_image
from pg_support import new_database

psycopg = pytest.importorskip("psycopg", reason="the central gallery needs psycopg (central extra)")


@pytest.fixture(scope="module")
def faces(engine, faces_dev):
    """Real faces: (crop, embedding) of photos 1 and 2 of two people, and a third person's
    face that the tests call a look-alike of the first."""
    out = {}
    for who in ("bbt_amy", "bbt_penny", "bbt_bernadette"):
        for i in (1, 2):
            r = engine.analyze_photo(load_image(faces_dev / "people" / who / f"{i}.png"))[0]
            out[who, i] = (r.crop, r.embedding)
    return out


def _server_counts(url: str) -> tuple[int, int, int]:
    with psycopg.connect(url) as c:
        return c.execute("SELECT (SELECT count(*) FROM crops), (SELECT count(*) FROM negatives),"
                         " (SELECT count(*) FROM templates WHERE crop_id IS NOT NULL)"
                         ).fetchone()


def _run(capsys, *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_push_and_pull_carry_crops_and_negatives(engine, faces, tmp_path, server, capsys,
                                                  monkeypatch):
    monkeypatch.delenv("FACELENS_GALLERY_URL", raising=False)
    url = new_database(server)
    a, b = tmp_path / "a", tmp_path / "b"
    look_alike = faces["bbt_bernadette", 1][1]
    with Gallery.open(default_db_path(a), engine.model_id, engine.dim) as g:
        for who in ("bbt_amy", "bbt_penny"):
            crop, emb = faces[who, 1]
            g.enrol(who, emb[None], crops=[crop])
        g.add_negative("bbt_amy", look_alike, source="test")
        before = g.identify(look_alike[None], -1.0)[0]
    first = _run(capsys, "gallery", "push", url, "--home", str(a))
    assert (first["crops"], first["negatives"]) == (2, 1)
    assert _server_counts(url) == (2, 1, 2)
    again = _run(capsys, "gallery", "push", url, "--home", str(a))
    assert (again["crops"], again["negatives"], again["templates"]) == (0, 0, 0)
    assert _server_counts(url) == (2, 1, 2)

    pulled = _run(capsys, "gallery", "pull", url, "--home", str(b))
    assert (pulled["crops"], pulled["negatives"]) == (2, 1)
    with Gallery.open(default_db_path(b), engine.model_id, engine.dim) as gb:
        assert gb.count_negatives("bbt_amy") == 1
        assert gb.pending_reembed() == 0  # each crop is linked to the template made from it
        c = gb._db
        stored = {crop_store.decode(gb._codec.open_crop(cid, pid, blob), cid).tobytes()
                  for cid, pid, blob in c.execute("SELECT id, person_id, crop FROM crops")}
        assert stored == {faces[w, 1][0].tobytes() for w in ("bbt_amy", "bbt_penny")}
        after = gb.identify(look_alike[None], -1.0)[0]
        assert (after.name, after.similarity) == (before.name, before.similarity)
    again = _run(capsys, "gallery", "pull", url, "--home", str(b))
    assert (again["crops"], again["negatives"]) == (0, 0)


def test_a_correction_on_one_station_reaches_the_others(engine, faces, tmp_path, server):
    url = new_database(server)
    amy_crop, amy = faces["bbt_amy", 1]
    probe = faces["bbt_amy", 2][1]
    with ReplicatedGallery.open(url, tmp_path / "a", engine.model_id, engine.dim) as a, \
            ReplicatedGallery.open(url, tmp_path / "b", engine.model_id, engine.dim) as b, \
            open_backend(url, engine.model_id, engine.dim) as central:
        a.enrol("Amy", amy[None], crops=[amy_crop], thumbnails=[b"\xff\xd8"])  # as the kiosk
        assert b.sync()
        sim = b.identify(probe[None], -1.0)[0]
        assert sim.name == "Amy"
        assert central.identify(probe[None], -1.0)[0].name == "Amy"
        a.add_negative("Amy", probe, source="live")  # "this is not Amy" on station a
        assert b.sync()
        assert b.count_negatives("Amy") == 1
        for g in (a, b, central):  # every store now refuses that face as Amy
            assert g.identify(probe[None], -1.0)[0].name is None
            assert g.verify("Amy", probe, -1.0).name is None
            assert g.verify("Amy", amy, -1.0).name == "Amy"
        assert _server_counts(url) == (1, 1, 1)
        assert b.replica.pending_reembed() == 0  # the crop came with its template link


def test_encrypted_central_gallery_seals_crops_and_negatives(engine, faces, tmp_path, server):
    url = new_database(server)
    crop, emb = faces["bbt_penny", 1]
    probe = faces["bbt_penny", 2][1]
    with open_backend(url, engine.model_id, engine.dim) as g:
        g.enrol("Penny", emb[None], crops=[crop])
        g.add_negative("Penny", probe)
        g.encrypt("correct horse")
    with psycopg.connect(url) as c:
        blob = bytes(c.execute("SELECT crop FROM crops").fetchone()[0])
        neg = bytes(c.execute("SELECT vector FROM negatives").fetchone()[0])
    assert blob != crop_store.encode(crop) and len(neg) != 4 * engine.dim  # sealed
    with open_backend(url, engine.model_id, engine.dim, passphrase="correct horse") as g:
        assert g.identify(probe[None], -1.0)[0].name is None  # the negative still applies
        assert g.identify(emb[None], -1.0)[0].name == "Penny"
    with ReplicatedGallery.open(url, tmp_path / "s", engine.model_id, engine.dim,
                                passphrase="correct horse") as station:
        assert station.count_negatives("Penny") == 1 and station.replica.encrypted
        assert station.replica.pending_reembed() == 0
        assert station.identify(probe[None], -1.0)[0].name is None
