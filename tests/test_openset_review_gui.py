"""The "Unknown faces" tab of the real main window (offscreen): a video with two strangers is
played, their faces are kept and clustered, and naming a cluster enrols that person."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from facelens.live.synth import Actor, write_video
from facelens.settings import Settings

pytest.importorskip("pytestqt")


def test_review_tab_names_a_stranger(qtbot, engine, faces_dev, tmp_path):
    from facelens.app.main_window import MainWindow

    actors = []
    for who in ("bbt_raj", "john_savage"):
        for i, photo in enumerate(sorted((faces_dev / "people" / who).iterdir())[:3]):
            actors.append(Actor.from_file(photo, who, enter=i * 1.5, leave=i * 1.5 + 1.0))
    video = write_video(tmp_path / "door.avi", actors, seconds=5.0, fps=10, face_px=140)
    home = tmp_path / "home"
    home.mkdir()
    window = MainWindow(home, Settings(unknown_review=True), engine=engine,
                        source=str(video.path),
                        qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
                        style_panel=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: getattr(window, "unknown_panel", None) is not None, timeout=60000)
    panel = window.unknown_panel
    assert window.tabs.tabText(window.tabs.indexOf(panel)) == "Unknown faces"
    store = panel.store()
    qtbot.waitUntil(lambda: len(store.faces()) >= 4, timeout=60000)
    qtbot.wait(1500)  # the last tracks end with the video
    window.tabs.setCurrentWidget(panel)
    panel.refresh()
    assert len(panel.clusters) == 2 and panel.list.count() == 2
    window.grab().save(str(tmp_path / "review.png"))
    assert panel.name_cluster("Visitor") >= 1
    assert "Visitor" in [p.name for p in window.gallery.people()]
    assert len(panel.clusters) == 1
    window.close()


def test_review_is_off_by_default(qtbot, engine, tmp_path):
    from facelens.app.main_window import MainWindow

    assert Settings().unknown_review is False
    home = tmp_path / "home"
    home.mkdir()
    window = MainWindow(home, Settings(), engine=engine, source=None,
                        qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
                        style_panel=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.controller is not None, timeout=60000)
    assert getattr(window, "unknown_panel", None) is None
    assert window.controller.pipeline.recogniser.unknown_sink is None
    from dataclasses import replace

    window.apply_settings(replace(window.settings, unknown_review=True))  # turned on in Settings
    assert window.controller.pipeline.recogniser.unknown_sink is not None
    assert window.tabs.indexOf(window.unknown_panel) >= 0
    window.apply_settings(replace(window.settings, unknown_review=False))
    assert window.controller.pipeline.recogniser.unknown_sink is None
    window.close()
