# ruff: noqa: F811 (pytest fixtures imported from test_app are redefined as test parameters)
"""Smaller things a new user met in the window (issue 14.13): long messages, missing files,
File and Help menus, the last folder of file dialogs, rates after a video ends, rejection
messages, and the Settings threshold text. The real app on real videos and photos."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtGui import QFontMetrics

from facelens.app.main_window import MainWindow
from facelens.cli import main as cli_main
from test_app import WAIT, make_window, templates, videos  # noqa: F401 (shared fixtures)

pytest.importorskip("pytestqt")

LONG = ("could not open the stream rtsp://camera.example.org:554/a/very/long/path/to/stream1: "
        "the server closed the connection before sending a frame; check the address, the "
        "network and the camera's user name and password, then choose the source again")


def test_a_long_message_over_the_video_wraps_and_has_a_tooltip(make_window, qtbot):
    window = make_window(None)
    window.resize(700, 500)
    qtbot.wait(50)
    view = window.video
    view.set_message(LONG)
    band = view.message_band()
    metrics = QFontMetrics(view.message_font())
    one_line = metrics.horizontalAdvance(LONG)
    assert one_line > view.width()  # it could not fit on one line
    needed = metrics.boundingRect(QRect(0, 0, int(band.width()) - 20, 100_000),
                                  int(Qt.TextFlag.TextWordWrap), LONG)
    assert needed.height() > metrics.height()  # wrapped onto several lines
    assert band.height() >= needed.height() and band.bottom() == view.height()
    assert view.toolTip() == LONG
    view.grab()  # paints without error
    view.set_message("")
    assert view.toolTip() == ""


def test_a_long_status_message_is_elided_with_the_whole_text_as_tooltip(make_window, qtbot):
    window = make_window(None)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    window.resize(700, 500)
    qtbot.wait(50)
    window.status.showMessage(LONG, 10000)
    shown = window.status.shown_message()
    assert shown != LONG and shown.endswith("…")
    assert window.status.fontMetrics().horizontalAdvance(shown) < window.status.width()
    assert window.status.toolTip() == LONG and window.status.currentMessage() == LONG
    window.resize(780, 500)  # more room: more of it is shown
    qtbot.waitUntil(lambda: len(window.status.shown_message()) > len(shown), timeout=WAIT)
    assert window.status.currentMessage() == LONG
    window.status.showMessage("Enrolled Amy", 1000)
    assert window.status.shown_message() == "Enrolled Amy" and window.status.toolTip() == ""


def test_a_missing_video_file_says_no_such_file(make_window, tmp_path, qtbot):
    window = make_window(None)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    assert not window.open_source(str(tmp_path / "missing.avi"))
    assert "missing.avi: no such file" in window.video.message
    assert window.last_event.kind == "failed"


def test_file_menu_quits_and_help_about_names_versions_provider_pack_and_licences(
        make_window, engine, qtbot):
    window = make_window(None)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus[0] == "&File" and menus[-1] == "&Help"
    assert menus.count("&Help") == 1  # the wizard's entry joins About, not a second Help menu
    assert any(a.text().startswith("&First-run") for a in window.help_menu.actions())
    assert window.actions["quit"] in window.file_menu.actions()
    assert window.actions["about"] in window.help_menu.actions()
    window.actions["about"].trigger()
    qtbot.waitUntil(lambda: window.about_dialog is not None and window.about_dialog.isVisible(),
                    timeout=WAIT)
    text = window.about_dialog.text.text()
    import cv2
    import onnxruntime
    from PySide6.QtCore import qVersion

    for fact in (f"Provider:</b> {engine.provider}", "Model pack:</b> lite", "non-commercial",
                 onnxruntime.__version__, cv2.__version__, qVersion(), "LGPL-3.0", "MIT"):
        assert fact in text, fact
    window.about_dialog.accept()
    window.actions["quit"].trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT)


def test_file_dialogs_remember_the_last_folder(make_window, videos, tmp_path, qtbot,
                                               monkeypatch):
    window = make_window(None)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    asked = []

    def open_name(parent, caption, folder="", *rest, **kw):
        asked.append(folder)
        return str(videos["short"].path), ""

    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileName", open_name)
    window.choose_file()
    folder = str(videos["short"].path.parent)
    assert asked[0] == ""  # nothing remembered yet
    window.choose_file()
    assert asked[1] == folder
    photos = []
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileNames",
                        lambda parent, caption, folder="", *a, **k: photos.append(folder)
                        or ([], ""))
    window.enrol_from_files("").browse()
    assert photos == [folder]
    saved = []
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda parent, caption, start="", *a, **k: saved.append(start)
                        or ("", ""))
    window.people.buttons["export"].click()
    assert saved == [str(videos["short"].path.parent / "gallery.flgallery")]
    window.close()
    again = MainWindow(make_window.home, engine=window.engine, style_panel=False,
                       qsettings=QSettings(make_window.ini, QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.choose_file()
    assert asked[-1] == folder  # remembered across starts


def test_rates_are_cleared_when_the_video_ends(make_window, videos, qtbot):
    window = make_window(videos["short"].path)
    qtbot.waitUntil(lambda: "FPS" in window.status.text("camera_fps"), timeout=WAIT)
    qtbot.waitUntil(lambda: window.last_event is not None and window.last_event.kind == "ended",
                    timeout=WAIT)
    qtbot.wait(1000)  # the last scenes and the "stopped" that follows
    for key in ("camera_fps", "processed_fps", "latency"):
        assert window.status.text(key) == "", key
    assert "short.avi" in window.status.text("source")


def test_enrol_rejections_do_not_repeat_the_path(tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not really a jpeg")
    missing = tmp_path / "missing.jpg"
    code = cli_main(["--home", str(tmp_path / "home"), "enrol", "Amy", str(broken),
                     str(missing)])
    err_out = capsys.readouterr()
    text = err_out.out + err_out.err
    assert code == 1
    assert f"rejected {broken}: not a readable image" in text
    assert f"rejected {missing}: no such file" in text
    assert text.count(str(broken)) == 1 and text.count(str(missing)) == 1


def test_settings_show_the_false_accept_rate_of_the_chosen_threshold(make_window, engine,
                                                                     qtbot):
    from facelens.far_table import load_far_table

    window = make_window(None)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    table = load_far_table(engine.pack_name)
    assert table is not None and table.pairs > 1000
    dialog = window.open_settings()
    dialog.show()
    texts = {}
    for value in (30, 38, 50):
        dialog.slider.setValue(value)
        texts[value] = dialog.meaning.text()
        assert f"The false-accept rate at {value / 100:.2f} is " in texts[value]
    assert len(set(texts.values())) == 3
    assert f"{table.far(0.30):.2%}" in texts[30] and table.far(0.30) > table.far(0.38) > 0
    counts = np.array(table.at_or_above)
    assert (np.diff(counts) <= 0).all()  # fewer strangers pass a higher threshold
    qtbot.wait(50)
    dialog.slider.setValue(30)
    qtbot.wait(50)
    slider = dialog.slider.geometry()
    slider_bottom = dialog.slider.mapTo(dialog, slider.bottomLeft() - slider.topLeft()).y()
    text_top = dialog.meaning.mapTo(dialog, dialog.meaning.rect().topLeft()).y()
    text_bottom = dialog.meaning.mapTo(dialog, dialog.meaning.rect().bottomLeft()).y()
    below = dialog.scale.mapTo(dialog, dialog.scale.rect().topLeft()).y()
    assert slider_bottom <= text_top and text_bottom <= below  # nothing overlaps
    needed = QFontMetrics(dialog.meaning.font()).boundingRect(
        QRect(0, 0, dialog.meaning.width(), 100_000), int(Qt.TextFlag.TextWordWrap),
        dialog.meaning.text()).height()
    assert dialog.meaning.height() >= needed  # every line of it is shown
    dialog.reject()
