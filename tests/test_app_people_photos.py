# ruff: noqa: F811 (pytest fixtures imported from test_app are redefined as test parameters)
"""The People manager: each person's photos, deleting one (issue 14.3), and a list that
follows changes made by another process (issue 14.5). Real engine, real gallery files."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from facelens.errors import GalleryError
from facelens.gallery import Gallery, default_db_path
from facelens.images import encode_jpeg
from test_app import WAIT, make_window, templates  # noqa: F401 (shared fixtures)

pytest.importorskip("pytestqt")


def test_gallery_lists_and_removes_one_template(engine, templates, tmp_path):
    path = tmp_path / "g.db"
    amy = templates["Amy"]
    with Gallery.open(path, engine.model_id, engine.dim) as g:
        g.enrol("Amy", np.stack([r.embedding for r in amy]),
                thumbnails=[encode_jpeg(r.thumbnail) for r in amy],
                sources=[str(r.path) for r in amy])
        g.enrol("Raj", templates["Raj"][0].embedding)
        shown = g.templates("amy")  # names are case-insensitive, as everywhere
        assert [t.source for t in shown] == [str(r.path) for r in amy]
        assert all(t.thumbnail and t.searched for t in shown)
        wrong = amy[1].embedding
        assert g.identify(wrong, 0.99)[0].name == "Amy"
        gone = g.remove_template("Amy", shown[1].id)
        assert gone.id == shown[1].id and gone.source == str(amy[1].path)
        assert [t.id for t in g.templates("Amy")] == [shown[0].id, shown[2].id]
        assert g.identify(wrong, 0.99)[0].name is None  # gone from the search index too
        with pytest.raises(GalleryError, match="has no photo"):
            g.remove_template("Amy", shown[1].id)  # already deleted
        raj = g.templates("Raj")[0].id
        with pytest.raises(GalleryError, match="has no photo"):
            g.remove_template("Amy", raj)  # not hers: nothing deleted
        assert len(g.templates("Raj")) == 1
    with Gallery.open(path, engine.model_id, engine.dim) as again:  # it was committed
        assert [t.id for t in again.templates("Amy")] == [shown[0].id, shown[2].id]
        assert again.count_templates() == 3


def test_people_manager_shows_photos_and_deletes_one_after_confirming(make_window, qtbot,
                                                                      monkeypatch):
    window = make_window(None)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    people = window.people
    people.select("Amy")
    ids = people.photo_ids()
    assert len(ids) == 3 and "Photos of Amy (3)" == people.photos_label.text()
    assert not people.buttons["delete_photo"].isEnabled()  # no photo selected yet
    people.select_photo(ids[1])
    assert people.buttons["delete_photo"].isEnabled()
    asked = []
    monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    people.buttons["delete_photo"].click()
    assert asked and "Delete this photo of Amy" in asked[0]
    assert people.photo_ids() == ids  # not confirmed: kept
    monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    people.buttons["delete_photo"].click()
    assert people.photo_ids() == [ids[0], ids[2]]
    assert [t.id for t in window.gallery.templates("Amy")] == [ids[0], ids[2]]
    people.select_photo(ids[2])
    people.refresh()  # e.g. after another process changed the gallery
    assert people.selected() == "Amy" and people.selected_photo() == ids[2]
    item = next(people.list.item(i) for i in range(people.list.count())
                if people.list.item(i).data(0x0100) == "Amy")
    assert "2 photos" in item.text()
    assert people.selected() == "Amy"


_OTHER_PROCESS = """
import sys
import numpy as np
from facelens.gallery import Gallery
path, model, dim, action = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with Gallery.open(path, model, dim) as g:
    if action == "rename":
        g.rename("Raj", "Rajesh")
    else:
        v = np.zeros(dim, np.float32); v[0] = 1.0
        g.enrol("Bernadette", v)
"""


def test_people_list_follows_changes_made_by_another_process(make_window, engine, qtbot):
    window = make_window(None)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    path = default_db_path(make_window.home)
    for action in ("rename", "enrol"):
        subprocess.run([sys.executable, "-c", _OTHER_PROCESS, str(path), engine.model_id,
                        str(engine.dim), action], check=True, timeout=120)
    qtbot.waitUntil(lambda: "Bernadette" in window.people.visible_names(), timeout=WAIT)
    assert window.people.visible_names() == ["Amy", "Bernadette", "John Simm", "Rajesh"]
    claims = [window.verify.person.itemData(i) for i in range(window.verify.person.count())]
    assert "Rajesh" in claims and "Raj" not in claims


def test_a_deleted_photo_does_not_come_back_with_another_pack(engine, templates, tmp_path):
    """Its stored face crop goes with it: a pack switch (another model re-embedding the crops)
    finds two photos left, not three."""
    path = tmp_path / "g.db"
    amy = templates["Amy"]
    with Gallery.open(path, engine.model_id, engine.dim) as g:
        g.enrol("Amy", np.stack([r.embedding for r in amy]), crops=[r.thumbnail for r in amy])
        with Gallery.open(path, "another-pack-model", engine.dim) as other:
            assert other.pending_reembed() == 3
        g.remove_template("Amy", g.templates("Amy")[1].id)
        assert len(g.templates("Amy")) == 2
    with Gallery.open(path, "another-pack-model", engine.dim) as other:
        assert other.pending_reembed() == 2
