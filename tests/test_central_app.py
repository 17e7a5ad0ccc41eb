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
        tip = label.toolTip()  # the details: server (no password), replica, outbox
        assert "unreachable since" in tip and "2 rows queued" in tip
        assert f"replica {home / 'central-replica.db'}: 0 people" in tip
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


def test_kiosk_footer_shows_the_central_gallery_and_keeps_opening_offline(
        qtbot, tmp_path, engine, faces_dev):
    from facelens.app.kiosk_window import KioskWindow
    from facelens.attendance import AttendanceStore
    from facelens.gallery.sync import ReplicatedGallery
    from facelens.images import load_image
    from facelens.kiosk.audit import AuditLog
    from facelens.kiosk.config import KioskConfig
    from facelens.kiosk.pin import AdminPin
    from facelens.kiosk.station import KioskStation

    server = start()
    gallery = None
    try:
        url = new_database(server)
        home = tmp_path / "kiosk"
        gallery = ReplicatedGallery.open(url, home, engine.model_id, engine.dim)
        amy = faces_dev / "people" / "bbt_amy"
        gallery.enrol("Amy", engine.analyze_photo(load_image(amy / "1.png"))[0].embedding[None])
        station = KioskStation(engine, gallery, KioskConfig(), AuditLog(home / "kiosk_audit.db"),
                               AttendanceStore(home / "attendance.db"))
        pin = AdminPin(tmp_path)
        pin.set("2468")
        window = KioskWindow(station, pin, locked=False)
        qtbot.addWidget(window)
        window.show()
        assert window.central.text() == "central gallery: connected"
        kill(server)
        gallery.sync()
        probe = engine.analyze_photo(load_image(amy / "2.png"))[0].embedding
        assert gallery.identify(probe, engine.default_threshold)[0].name == "Amy"  # offline
        station.attendance.log("Amy", 0.8)
        window.central.refresh()
        assert window.central.text().startswith("central gallery: offline since ")
        assert window.central.text().endswith(", 1 row queued")
        window.grab().save(str(tmp_path / "kiosk.png"))
        window.central._timer.stop()
    finally:
        if gallery is not None:
            gallery.close()
        stop(server)
