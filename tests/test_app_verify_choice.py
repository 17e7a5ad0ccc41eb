# ruff: noqa: F811 (pytest fixtures imported from test_app are redefined as test parameters)
"""Verify shows which face it checks, and a click in the video chooses another (issue 14.4).

The crowd video of test_app: four faces of equal size, so "the largest" is arbitrary.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from test_app import WAIT, everyone_labelled, make_window, templates, videos  # noqa: F401

pytest.importorskip("pytestqt")


def face_of(window, name):
    return next(f for f in window.video.scene.faces if f.name == name)


def click(window, qtbot, face):
    x1, y1, x2, y2 = face.box
    point = window.video.to_widget((x1 + x2) / 2, (y1 + y2) / 2).toPoint()
    qtbot.mouseClick(window.video, Qt.MouseButton.LeftButton, pos=point)


def verified(window, track_id, match):
    result = window.verify.result
    return (result is not None and result.track_id == track_id
            and result.similarity is not None and result.match == match
            and window.video.verified_track() == track_id)


def test_verify_highlights_the_checked_face_and_a_click_chooses_another(make_window, videos,
                                                                       qtbot):
    window = make_window(videos["crowd"].path)
    qtbot.waitUntil(lambda: everyone_labelled(window), timeout=WAIT)
    window.show_tab(window.verify)
    window.verify.claim("Raj")
    qtbot.waitUntil(lambda: window.verify.result is not None
                    and window.verify.result.track_id is not None, timeout=WAIT)
    assert window.video.verified_track() == window.verify.result.track_id  # it is shown
    raj, amy = face_of(window, "Raj"), face_of(window, "Amy")
    click(window, qtbot, raj)
    qtbot.waitUntil(lambda: verified(window, raj.track_id, True), timeout=WAIT)
    assert window.verify.verdict.text() == "MATCH"
    assert window.enrol_dialog is None  # in the Verify tab a click does not enrol
    click(window, qtbot, face_of(window, "Amy"))
    qtbot.waitUntil(lambda: verified(window, amy.track_id, False), timeout=WAIT)
    assert window.verify.verdict.text() == "NO MATCH"
    for _ in range(10):  # the choice stays while that face is in view
        qtbot.wait(100)
        assert window.verify.result.track_id == amy.track_id
    window.show_tab(window.people)  # elsewhere a click still enrols the face
    click(window, qtbot, face_of(window, "Raj"))
    qtbot.waitUntil(lambda: window.enrol_dialog is not None, timeout=WAIT)
