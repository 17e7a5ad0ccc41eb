# ruff: noqa: F811 (pytest fixtures imported from test_app are redefined as test parameters)
"""Attendance mode, the attendance report and kiosk mode from the main window (offscreen).

The real app on the synthetic videos of test_app (dev photos moving over a background);
every check reads the attendance database or the window's own widgets, not pixels.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from test_app import (  # noqa: F401 (fixtures shared with the app tests)
    ENROLLED,
    WAIT,
    everyone_labelled,
    make_window,
    templates,
    videos,
)

pytest.importorskip("pytestqt")

from facelens.attendance import AttendanceStore  # noqa: E402
from facelens.kiosk.factory import ATTENDANCE_DB  # noqa: E402
from facelens.kiosk.pin import AdminPin  # noqa: E402
from facelens.settings import Settings  # noqa: E402


def logged_people(home) -> list[str]:
    store = AttendanceStore(home / ATTENDANCE_DB)
    try:
        return sorted(e.person for e in store.entries() if e.person is not None)
    finally:
        store.close()


def test_attendance_mode_logs_each_person_once_and_the_report_lists_them(make_window, videos,
                                                                        qtbot):
    window = make_window(videos["crowd"].path)
    home = make_window.home
    assert not window.status.fields["attendance"].isVisibleTo(window)
    window.actions["attendance"].trigger()  # Tools > Attendance mode
    assert window.actions["attendance"].isChecked()
    assert Settings.load(home).attendance_mode  # persisted
    assert window.status.fields["attendance"].isVisibleTo(window)
    qtbot.waitUntil(lambda: everyone_labelled(window), timeout=WAIT)
    qtbot.waitUntil(lambda: logged_people(home) == sorted(ENROLLED), timeout=WAIT)
    qtbot.wait(4000)  # the people stay in view: still one entry each within the window
    assert logged_people(home) == sorted(ENROLLED)  # and no stranger under any name
    store = AttendanceStore(home / ATTENDANCE_DB)
    unknown = store.unknown_counts()
    store.close()
    assert list(unknown) == [date.today().isoformat()]
    assert 1 <= sum(unknown.values()) <= 3  # the one stranger, counted per track
    assert "3 logged" in window.status.text("attendance")

    view = window.open_attendance_report()  # what Tools > Attendance report... calls
    assert view is not None and view.isVisible() and not view.isModal()
    names = sorted(view.table.item(i, 1).text() for i in range(view.table.rowCount()))
    assert names == sorted(ENROLLED)
    assert "unknown faces counted" in view.summary.text()
    window.actions["attendance_report"].trigger()  # again: the same window, raised
    assert window.attendance_view is view

    window.actions["attendance"].trigger()  # off: saved, indicator hidden
    assert not Settings.load(home).attendance_mode
    assert not window.status.fields["attendance"].isVisibleTo(window)
    assert window.controller.attendance is None


def test_locked_database_shows_the_fault_and_recovers(make_window, videos, qtbot):
    home = make_window.home
    home.mkdir(exist_ok=True)
    AttendanceStore(home / ATTENDANCE_DB).close()
    blocker = sqlite3.connect(home / ATTENDANCE_DB, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        window = make_window(videos["amy"].path, settings=Settings(attendance_mode=True))
        qtbot.waitUntil(lambda: "NOT RECORDING" in window.status.text("attendance"),
                        timeout=WAIT)
        assert "locked" in window.status.fields["attendance"].toolTip()
        assert "Attendance NOT recorded" in window.status.currentMessage()
        assert window.video.scene is not None and window.controller.pipeline.running
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    qtbot.waitUntil(lambda: logged_people(home) == ["Amy"], timeout=WAIT)
    qtbot.waitUntil(lambda: "1 logged" in window.status.text("attendance"), timeout=WAIT)


def test_kiosk_action_needs_an_admin_pin(make_window, videos, qtbot):
    window = make_window(videos["amy"].path)
    qtbot.waitUntil(lambda: window.video.scene is not None, timeout=WAIT)
    window.actions["kiosk"].trigger()  # Tools > Kiosk mode..., no PIN set
    assert window.kiosk is None
    box = window.message_box
    assert box is not None and box.isVisible()
    assert "admin PIN" in box.text() and "facelens kiosk set-pin" in box.text()
    assert window.controller.pipeline.running  # the live view was not interrupted
    box.accept()


def test_kiosk_action_pauses_the_live_view_until_the_kiosk_closes(make_window, videos, qtbot):
    window = make_window(videos["amy"].path)
    qtbot.waitUntil(lambda: window.video.scene is not None, timeout=WAIT)
    AdminPin(make_window.home).set("2468")
    session = window.open_kiosk()
    assert session is not None and window.kiosk is session
    try:
        assert not window.controller.pipeline.running  # the kiosk has the source now
        assert session.window.isVisible()
        assert "Kiosk mode is running" in window.video.message
        qtbot.waitUntil(lambda: session.window.preview.pixmap() is not None
                        and not session.window.preview.pixmap().isNull(), timeout=WAIT)
    finally:
        session.window.unlocked = True  # as after the right PIN
        session.window.close()
    assert window.kiosk is None and not session.thread.isRunning()
    qtbot.waitUntil(lambda: window.controller.pipeline.running, timeout=WAIT)
    assert "amy.avi" in window.status.text("source")
