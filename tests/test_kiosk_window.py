"""Kiosk window and attendance view (offscreen, pytest-qt), driven by the real station."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

import cv2
import numpy as np
import pytest

from kiosk_support import (
    SALLEY_LIVE,
    SAVAGE_LIVE,
    enrolled_gallery,
    held_print,
    living_stand_in,
)

pytest.importorskip("pytestqt")

from facelens.app.attendance_view import AttendanceView  # noqa: E402
from facelens.app.kiosk_window import KioskWindow, PinDialog, SettingsDialog  # noqa: E402
from facelens.attendance import AttendanceStore  # noqa: E402
from facelens.kiosk.audit import AuditLog  # noqa: E402
from facelens.kiosk.config import KioskConfig  # noqa: E402
from facelens.kiosk.pin import AdminPin  # noqa: E402
from facelens.kiosk.policy import Status  # noqa: E402
from facelens.kiosk.station import KioskStation  # noqa: E402


@pytest.fixture
def station(engine, faces_dev, tmp_path):
    t = [0.0]
    gallery = enrolled_gallery(engine, faces_dev, tmp_path / "gallery.db")
    cfg = KioskConfig(min_sharpness=0, min_face_px=60)  # dev chips: see test_kiosk_station
    return KioskStation(engine, gallery, cfg, AuditLog(tmp_path / "audit.db"),
                        AttendanceStore(tmp_path / "att.db"), clock=lambda: t[0]), t


def _drive(window, station, t, frames):
    for f in frames:
        t[0] += 0.1
        view = station.process(f)
        window.show_view(view, f)
        if view.status in (Status.GRANTED, Status.REFUSED):
            return view
    return view


def test_kiosk_window_shows_granted_and_refused(qtbot, station, faces_dev, tmp_path):
    st, t = station
    pin = AdminPin(tmp_path)
    pin.set("2468")
    w = KioskWindow(st, pin, locked=False)  # closing at teardown must not ask for the PIN
    qtbot.addWidget(w)
    assert w.status.text() == "Look at the camera"
    view = _drive(w, st, t, living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE))
    assert view.status == Status.GRANTED and w.status.text() == "Welcome, john_savage"
    assert "#16803c" in w.styleSheet() and w.status.font().pointSize() >= 48
    t[0] += 5
    view = _drive(w, st, t, held_print(faces_dev, "john_savage", "2.jpg"))
    assert w.status.text() == "Not recognised" and "#b3261e" in w.styleSheet()
    st.camera_lost("camera 0 lost")
    w.show_view(st.view, None)
    assert w.status.text() == "Out of order"


def test_wrong_pin_does_not_unlock(qtbot, station, tmp_path):
    st, _ = station
    pin = AdminPin(tmp_path)
    pin.set("2468")
    w = KioskWindow(st, pin)
    qtbot.addWidget(w)
    d = PinDialog(pin, w)
    qtbot.addWidget(d)
    d.edit.setText("1111")
    assert not d.try_pin() and "wrong PIN" in d.message.text()
    assert not w.unlocked and not w.admin.isVisible()
    d.edit.setText("2468")
    assert d.try_pin()
    w.unlock()
    assert w.unlocked and "temporal 3D" in w.admin_text() and "anti-spoof" in w.admin_text()


def test_attendance_view_table_chart_export(qtbot, tmp_path):
    now = [datetime(2026, 5, 4, 8, 30).astimezone()]
    st = AttendanceStore(tmp_path / "att.db", window_s=0, wallclock=lambda: now[0])
    for day in range(3):
        for person in ["amy", "raj", "penny"][: day + 1]:
            st.log(person, 0.7)
        st.log(None)
        now[0] += timedelta(days=1)
    view = AttendanceView(st, today=datetime(2026, 5, 6).date())
    qtbot.addWidget(view)
    assert view.table.rowCount() == 6
    assert view.table.item(0, 1).text() == "amy" and view.table.item(0, 2).text() == "08:30:00"
    assert [d[1:] for d in view.chart.days[-3:]] == [(1, 1), (2, 1), (3, 1)]
    out = tmp_path / "r.csv"
    assert view.export_to(out) == 6
    assert len(list(csv.reader(out.open()))) == 7


def _locked_window(qtbot, st, tmp_path) -> KioskWindow:
    pin = AdminPin(tmp_path)
    pin.set("2468")
    w = KioskWindow(st, pin)
    qtbot.addWidget(w)
    return w


def _admin_hidden(w: KioskWindow) -> bool:
    return all(b.isHidden() for b in (w.enrol_button, w.settings_button, w.lock_button))


def test_admin_actions_only_while_unlocked(qtbot, station, tmp_path):
    st, _ = station
    w = _locked_window(qtbot, st, tmp_path)
    assert _admin_hidden(w) and not w.enrol_in_view() and not w.open_settings()
    w.unlock()
    assert not any(b.isHidden() for b in (w.enrol_button, w.settings_button, w.lock_button))
    w.lock()
    assert _admin_hidden(w) and not w.unlocked and w.admin.isHidden()
    w.unlock()  # teardown closes the window: unlocked, it does not ask for the PIN


def test_enrol_face_in_view_then_granted(qtbot, station, faces_dev, tmp_path, monkeypatch):
    st, t = station
    w = _locked_window(qtbot, st, tmp_path)
    w.unlock()
    frames = living_stand_in(faces_dev, "john_salley", SALLEY_LIVE + ["1.jpg", "9.jpg"])
    w.show_view(st.process(frames[0]), frames[0])  # the newcomer stands at the camera
    monkeypatch.setattr("facelens.app.kiosk_window.QInputDialog.getText",
                        lambda *a, **k: ("john_salley", True))  # the admin types the name
    assert w.enrol_in_view(), w.admin_note.text()
    assert "Enrolled john_salley" in w.admin_note.text()
    assert "john_salley" in [p.name for p in st.gallery.people()]
    t[0] += 5
    view = _drive(w, st, t, frames[1:] + frames)
    assert view.status == Status.GRANTED, st.last_reading
    assert w.status.text() == "Welcome, john_salley"


def test_enrol_refuses_without_a_usable_face(qtbot, station, faces_dev, tmp_path, monkeypatch):
    st, _ = station
    w = _locked_window(qtbot, st, tmp_path)
    w.unlock()
    monkeypatch.setattr("facelens.app.kiosk_window.QInputDialog.getText",
                        lambda *a, **k: ("nobody", True))
    w.show_view(st.view, np.full((480, 640, 3), 90, np.uint8))
    assert not w.enrol_in_view() and "no face in view" in w.admin_note.text()
    frame = living_stand_in(faces_dev, "john_salley", SALLEY_LIVE)[0]
    w.show_view(st.view, cv2.GaussianBlur(frame, (0, 0), 6))
    assert not w.enrol_in_view()
    assert "face not enrolled: too blurred" in w.admin_note.text(), w.admin_note.text()
    assert "nobody" not in [p.name for p in st.gallery.people()]


def test_settings_apply_to_station_and_save(qtbot, station, tmp_path, monkeypatch):
    st, _ = station
    w = _locked_window(qtbot, st, tmp_path)
    w.unlock()

    def admin_edits(dialog: SettingsDialog) -> int:
        assert dialog.policy.currentText() == "identify"
        dialog.policy.setCurrentText("verify")
        dialog.frames.setValue(7)
        dialog.threshold.setValue(0.55)
        dialog.cooldown.setValue(30)
        return SettingsDialog.DialogCode.Accepted

    monkeypatch.setattr(SettingsDialog, "exec", admin_edits)
    assert w.open_settings(), w.admin_note.text()
    assert st.config.policy == "verify" and st.policy.policy == "verify"
    assert st.threshold == pytest.approx(0.55) and st.policy.frames == 7
    assert st.door.config.cooldown_s == 30 and not w.claim.isHidden()
    saved = KioskConfig.load(tmp_path)
    assert (saved.policy, saved.frames, saved.action_cooldown_s) == ("verify", 7, 30)
    assert saved.threshold == pytest.approx(0.55)
    assert "threshold 0.550" in w.admin_text()
