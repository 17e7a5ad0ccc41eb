"""Switching model packs keeps the people: stored aligned crops are re-embedded by the new pack.

Real photos of 8 people are enrolled on `lite` (one photo each) with the CLI; the data folder
then switches lite -> standard -> lite, and every person's other photos are still named.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from facelens.cli import main
from facelens.gallery import Gallery, default_db_path
from facelens.gallery import db as gallery_db

BBT = ("amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart")


def _run(capsys, *argv) -> list[dict]:
    capsys.readouterr()
    rc = main([*argv, "--json"])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert rc == 0, out
    return out


def _identified(capsys, home, faces_dev) -> dict[str, str | None]:
    probes = [str(faces_dev / "people" / f"bbt_{n}" / "3.png") for n in BBT]
    rows = _run(capsys, "identify", *probes, "--home", str(home))
    return {r["image"].split("bbt_")[1].split("/")[0]: r["faces"][0]["name"] for r in rows}


@pytest.fixture
def enrolled_home(tmp_path, capsys, faces_dev, engine):
    home = tmp_path / "home"
    home.mkdir()
    # each pack's calibrated threshold, not the FAR operating point (which rises with the
    # gallery): this test is about the people surviving a switch, not about the threshold
    (home / "settings.json").write_text('{"far": null}')
    for n in BBT:
        _run(capsys, "enrol", n.title(), str(faces_dev / "people" / f"bbt_{n}" / "1.png"),
             "--home", str(home))
    return home


def test_lite_standard_lite_keeps_and_recognises_everyone(enrolled_home, capsys, faces_dev):
    home = enrolled_home
    expected = {n: n.title() for n in BBT}
    assert _identified(capsys, home, faces_dev) == expected
    [report] = _run(capsys, "models", "use", "standard", "--home", str(home))
    assert report["embedded"] == 8 and report["people"] == 8 and not report["people_without_crops"]
    assert json.loads((home / "settings.json").read_text())["model_pack"] == "standard"
    assert _identified(capsys, home, faces_dev) == expected
    _run(capsys, "enrol", "Lennon", str(faces_dev / "people" / "john_lennon" / "1.jpg"),
         "--home", str(home))  # enrolled on standard: lite must re-embed this one
    [back] = _run(capsys, "models", "use", "lite", "--home", str(home))
    assert back["embedded"] == 1 and back["already"] == 8 and back["people"] == 9
    assert _identified(capsys, home, faces_dev) == expected
    lennon = _run(capsys, "identify", str(faces_dev / "people" / "john_lennon" / "2.jpg"),
                  "--home", str(home))
    assert lennon[0]["faces"][0]["name"] == "Lennon"
    with sqlite3.connect(default_db_path(home)) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == 3
        assert c.execute("SELECT count(*) FROM crops").fetchone()[0] == 9


def test_switch_on_an_encrypted_gallery_keeps_crops_sealed(enrolled_home, capsys, faces_dev,
                                                           monkeypatch):
    home = enrolled_home
    monkeypatch.setenv("FACELENS_PASSPHRASE", "correct horse battery")
    _run(capsys, "gallery", "encrypt", "--home", str(home))
    with sqlite3.connect(default_db_path(home)) as c:
        blobs = [b for (b,) in c.execute("SELECT crop FROM crops")]
    assert len(blobs) == 8 and not any(b.startswith(b"\x89PNG") for b in blobs)
    [report] = _run(capsys, "models", "use", "standard", "--home", str(home))
    assert report["embedded"] == 8
    assert _identified(capsys, home, faces_dev) == {n: n.title() for n in BBT}
    raw = default_db_path(home).read_bytes()
    assert b"\x89PNG" not in raw and b"IHDR" not in raw


def test_people_enrolled_without_crops_are_listed_not_lost(tmp_path, engine, faces_dev):
    """A gallery from before crops were kept (schema 1, no crops table) still switches."""
    from facelens.images import load_image
    from facelens.modelpack.switch import switch_pack

    home = tmp_path
    photo = load_image(faces_dev / "people" / "bbt_amy" / "1.png")
    face = engine.analyze_photo(photo)[0]
    with Gallery.open(default_db_path(home), engine.model_id, engine.dim) as g:
        g.enrol("Amy", face.embedding[None])  # no crop, as before this change
        assert not gallery_db.has_crops(g._db)
    _, report = switch_pack(home, "standard", "cpu")
    assert report.embedded == 0 and report.people_without_crops == ["Amy"]
    with Gallery.open(default_db_path(home), engine.model_id, engine.dim) as g:
        assert g.identify(face.embedding[None], 0.5)[0].name == "Amy"  # lite template kept
        g.enrol("Bob", face.embedding[None], crops=[face.crop])
        assert gallery_db.has_crops(g._db)
        assert g._db.execute("PRAGMA user_version").fetchone()[0] == 3


def test_a_crop_must_be_an_aligned_face(tmp_path, engine):
    from facelens.errors import GalleryError

    with Gallery.open(tmp_path / "g.db", engine.model_id, engine.dim) as g:
        vec = np.ones((1, engine.dim), np.float32)
        with pytest.raises(GalleryError, match="a face crop must be a 112x112 BGR uint8 image"):
            g.enrol("Amy", vec, crops=[np.zeros((50, 50, 3), np.uint8)])
        assert g.people() == []


def test_models_list_json_gives_the_facts_of_each_pack(capsys):
    rows = {r["pack"]: r for r in _run(capsys, "models", "list")}
    assert {"lite", "standard"} <= set(rows)
    assert all(rows[n]["commercial_use"] is False for n in ("buffalo_l", "buffalo_s"))
    lite, std = rows["lite"], rows["standard"]
    assert lite["commercial_use"] is False and std["commercial_use"] is True
    for r in (lite, std):
        assert r["built"] in (True, False) and r["size_mb"] > 1 and r["licence"]
        assert r["embed_ms_per_face"] > 0 and 0 < r["threshold"] < 1
        assert 0 <= r["far"] <= r["far_upper95"]
    assert lite["antispoof"] == "tree" and std["antispoof"] is None
