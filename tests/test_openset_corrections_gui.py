"""Live view corrections: the right-click menu's "This is not X" / "This is Y" (real models,
real gallery, real photos; the worker's capture is made from a photo by the same engine)."""

from __future__ import annotations

import pytest

from facelens.gallery import Gallery
from facelens.images import load_image
from facelens.live.recognise import FaceCapture
from facelens.live.scene import RECOGNISED, SceneFace

pytest.importorskip("pytestqt")


def _capture(engine, path, track_id: int) -> FaceCapture:
    face = engine.analyze_photo(load_image(path))[0]
    report = engine.quality(None, face.face, face.crop)
    return FaceCapture(report.ok, report.reason, face.embedding, face.crop, track_id, report)


def test_menu_not_x_and_is_y(qtbot, engine, faces_dev, tmp_path):
    from facelens.app.corrections import LiveCorrections

    gallery = Gallery.open(tmp_path / "g.db", engine.model_id, engine.dim)
    lennon = faces_dev / "people" / "john_lennon"
    gallery.enrol("lennon", _capture(engine, lennon / "1.jpg", 0).embedding[None])
    gallery.enrol("amy", _capture(engine, faces_dev / "people/bbt_amy/1.png", 0).embedding[None])
    asked, said, changed = [], [], []
    fix = LiveCorrections(lambda: gallery, asked.append, lambda: ["amy", "lennon"],
                          said.append, lambda: changed.append(1))
    impostor = _capture(engine, faces_dev / "people/bbt_amy/4.png", 7)
    raw = 0.35  # a low raw threshold at which this photo of amy is taken for lennon
    gallery.remove("amy")
    assert gallery.identify(impostor.embedding[None], raw)[0].name == "lennon"

    menu = fix.menu(SceneFace(7, (0, 0, 10, 10), RECOGNISED, "lennon", 0.4))
    texts = [a.text() for a in menu.actions()]
    assert texts[0] == "This is not lennon" and "This is" in texts
    menu.actions()[0].trigger()
    assert asked == [7] and fix.pending == ("not", "lennon", 7)
    assert fix.take(impostor) and changed
    assert gallery.identify(impostor.embedding[None], raw)[0].name is None
    own = _capture(engine, lennon / "2.jpg", 8)
    assert gallery.identify(own.embedding[None], raw)[0].name == "lennon"

    gallery.enrol("amy", _capture(engine, faces_dev / "people/bbt_amy/1.png", 0).embedding[None])
    menu = fix.menu(SceneFace(7, (0, 0, 10, 10), "not recognised"))
    sub = next(a.menu() for a in menu.actions() if a.menu() is not None)
    next(a for a in sub.actions() if a.text() == "amy").trigger()
    assert fix.pending == ("is", "amy", 7)
    assert fix.take(impostor)
    assert "Added this face to amy" in said[-1]
    assert [p.templates for p in gallery.people() if p.name == "amy"] == [2]
    assert not fix.take(impostor)  # nothing pending: an enrolment capture goes to its dialog
    gallery.close()
