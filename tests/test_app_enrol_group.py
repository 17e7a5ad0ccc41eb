# ruff: noqa: F811 (pytest fixtures imported from test_app are redefined as test parameters)
"""Enrol from photos in the window: a group photo is never enrolled silently (issue 14.2).

The real engine on real photos: bbt1.jpg holds four people, Raj among them (not the largest
face), as in the report where a group photo added to "Amy" stored Raj's face.
"""

from __future__ import annotations

import numpy as np
import pytest

from test_app import WAIT, make_window, templates  # noqa: F401 (shared fixtures)

pytest.importorskip("pytestqt")


def group_photo(faces_dev):
    return faces_dev / "groups" / "bbt1.jpg"


def start_enrol(window, qtbot, name, paths):
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    dialog = window.enrol_from_files("")
    dialog.name_box.setCurrentText(name)
    dialog.add_paths(paths)
    dialog.enrol_button.click()
    return dialog


def count(window, name):
    return next(p for p in window.gallery.people() if p.name == name).templates


def amy_templates(window):
    return count(window, "Amy")


def test_group_photo_asks_which_face_and_enrols_only_that_one(make_window, faces_dev, engine,
                                                               templates, qtbot):
    window = make_window(None)
    before = count(window, "Raj")
    dialog = start_enrol(window, qtbot, "Raj", [group_photo(faces_dev)])
    qtbot.waitUntil(lambda: dialog.picker is not None and dialog.picker.isVisible(),
                    timeout=WAIT * 2)
    picker = dialog.picker
    assert len(picker.face_buttons) == 4 and "4 faces" in picker.question.text()
    assert dialog.results is None  # nothing is enrolled while the user chooses
    assert count(window, "Raj") == before
    # Raj's face in the photo: the one closest to his enrolled photos; not the largest face
    raj = np.stack([r.embedding for r in templates["Raj"]])
    sims = [float((raj @ f.embedding).max()) for f in picker.photo.faces]
    pick = int(np.argmax(sims))
    assert pick != 0 and sims[pick] >= engine.default_threshold
    picker.face_buttons[pick].click()
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=WAIT)
    assert [r.ok for r in dialog.results] == [True]
    assert count(window, "Raj") == before + 1
    stored = window.gallery.templates("Raj")[-1]
    assert stored.source == str(group_photo(faces_dev))
    match = window.gallery.verify("Raj", picker.photo.faces[pick].embedding, 0.99)
    assert match.matched  # the chosen face was stored
    largest = window.gallery.verify("Raj", picker.photo.faces[0].embedding, 0.99)
    assert not largest.matched  # and the largest (someone else) was not
    assert "Enrolled 1 photos for Raj" in dialog.summary.text()


def test_group_photo_with_no_face_chosen_is_rejected_with_the_reason(make_window, faces_dev,
                                                                    qtbot):
    window = make_window(None)
    before = amy_templates(window)
    single = sorted((faces_dev / "people" / "bbt_amy").iterdir())[4]
    dialog = start_enrol(window, qtbot, "Amy", [group_photo(faces_dev), single])
    qtbot.waitUntil(lambda: dialog.picker is not None and dialog.picker.isVisible(),
                    timeout=WAIT * 2)
    dialog.picker.none_button.click()
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=WAIT)
    group, alone = dialog.results
    assert not group.ok and group.reason.startswith("4 faces found and none chosen")
    assert alone.ok
    assert amy_templates(window) == before + 1  # only the single-face photo
    text = dialog.summary.text()
    assert "bbt1.jpg: 4 faces found and none chosen" in text and "1 of 2 photos used" in text
    assert str(faces_dev) not in text  # the reason does not repeat the path


def test_closing_the_dialog_while_choosing_enrols_nothing(make_window, faces_dev, qtbot):
    window = make_window(None)
    before = amy_templates(window)
    single = sorted((faces_dev / "people" / "bbt_amy").iterdir())[4]
    dialog = start_enrol(window, qtbot, "Amy", [single, group_photo(faces_dev)])
    qtbot.waitUntil(lambda: dialog.picker is not None and dialog.picker.isVisible(),
                    timeout=WAIT * 2)
    dialog.close_button.click()
    qtbot.wait(200)
    assert dialog.results is None and amy_templates(window) == before


def test_faces_that_cannot_be_enrolled_are_shown_but_cannot_be_chosen(engine, faces_dev,
                                                                     qtbot):
    from facelens.app.face_picker import FacePickDialog
    from facelens.live.photos import photo_faces

    photo = photo_faces(engine, faces_dev / "groups" / "2007_007763.jpg")  # 7 people, far off
    assert len(photo.faces) == 7
    small = [i for i, f in enumerate(photo.faces) if f.reason == "too small"]
    assert small and photo.faces[0].ok
    picker = FacePickDialog(photo, "Amy")
    qtbot.addWidget(picker)
    assert [b.isEnabled() for b in picker.face_buttons] == [f.ok for f in photo.faces]
    assert "too small" in picker.face_buttons[small[0]].text()
    assert photo.result(small[0]).reason == "too small"  # even if asked for, not enrolled
    assert photo.result(None).reason.startswith("7 faces found and none chosen")
    assert photo.result(0).ok and photo.result(0).note == "face 1 of 7, chosen"
