"""The window's status bar says whether the central gallery is connected or offline."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from facelens.settings import Settings
from pg_support import kill, new_database, start, stop

pytest.importorskip("psycopg", reason="the central gallery needs psycopg (central extra)")


def test_status_bar_shows_connected_then_offline_with_rows_queued(qtbot, tmp_path, engine,
                                                                   monkeypatch):
    from facelens.app.main_window import MainWindow
    from facelens.attendance import AttendanceStore

    monkeypatch.delenv("FACELENS_GALLERY_URL", raising=False)
    server = start()
    window = None
    try:
        url = new_database(server)
        home = tmp_path / "home"
        home.mkdir()
        Settings(gallery_url=url).save(home)
        window = MainWindow(home, Settings.load(home), engine=engine,
                            qsettings=QSettings(str(tmp_path / "w.ini"),
                                                QSettings.Format.IniFormat),
                            style_panel=False)
        qtbot.addWidget(window)
        window.show()
        label = window.central_status
        qtbot.waitUntil(lambda: label.text() == "central gallery: connected", timeout=10_000)
        assert label.isVisible()
        kill(server)  # the server goes away
        log = AttendanceStore(home / "attendance.db", window_s=0)
        log.log("Ada", 0.9)
        log.log("Bob", 0.9)
        log.close()
        qtbot.waitUntil(lambda: label.text().startswith("central gallery: offline since ")
                        and label.text().endswith(", 2 rows queued"), timeout=15_000)
        window.grab().save(str(tmp_path / "offline.png"))
    finally:
        if window is not None:
            window.close()
            if window.gallery is not None:
                window.gallery.close()
        stop(server)


def test_a_local_gallery_shows_no_central_field(qtbot, tmp_path, engine, monkeypatch):
    from facelens.app.main_window import MainWindow

    monkeypatch.delenv("FACELENS_GALLERY_URL", raising=False)
    window = MainWindow(tmp_path, Settings(), engine=engine,
                        qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
                        style_panel=False)
    qtbot.addWidget(window)
    window.show()
    window.central_status.refresh()
    assert window.central_status.text() == "" and not window.central_status.isVisible()
    window.close()
