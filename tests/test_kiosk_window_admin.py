"""The kiosk window's PIN prompt, admin view and on-screen hints (offscreen, pytest-qt).

Driven by the real station (real networks, dev photos); readability is measured on the
rendered pixels (WCAG contrast of the text against its background).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from kiosk_support import SAVAGE_LIVE, enrolled_gallery, held_print, living_stand_in

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

from facelens.app.kiosk_window import KioskWindow, PinDialog, SettingsDialog  # noqa: E402
from facelens.attendance import AttendanceStore  # noqa: E402
from facelens.kiosk.audit import AuditLog  # noqa: E402
from facelens.kiosk.config import KioskConfig  # noqa: E402
from facelens.kiosk.pin import AdminPin  # noqa: E402
from facelens.kiosk.policy import Status  # noqa: E402
from facelens.kiosk.station import KioskStation  # noqa: E402


def _station(engine, faces_dev, tmp_path, **config):
    t = [0.0]
    gallery = enrolled_gallery(engine, faces_dev, tmp_path / "gallery.db")
    cfg = KioskConfig(min_face_px=60, **config)
    return KioskStation(engine, gallery, cfg, AuditLog(tmp_path / "audit.db"),
                        AttendanceStore(tmp_path / "att.db"), clock=lambda: t[0]), t


@pytest.fixture
def station(engine, faces_dev, tmp_path):
    return _station(engine, faces_dev, tmp_path, min_sharpness=0)  # dev chips are soft


@pytest.fixture
def window(qtbot, station, tmp_path):
    st, _ = station
    pin = AdminPin(tmp_path)
    pin.set("2468")
    w = KioskWindow(st, pin)  # locked, as the kiosk starts
    w.resize(1280, 720)
    w.show()
    yield w
    w.unlocked = True  # closed unlocked, it does not ask for the PIN (a modal dialog)
    w.close()
    w.deleteLater()


def _drive(window, station, t, frames):
    for f in frames:
        t[0] += 0.1
        view = station.process(f)
        window.show_view(view, f)
        if view.status in (Status.GRANTED, Status.REFUSED):
            return view
    return view


def _luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def text_contrast(parent, child) -> float:
    """WCAG contrast ratio of `child`'s text against the background it is painted on."""
    img = parent.grab(child.geometry()).toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())
    pixels = arr[:, : w * 3].reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    lum = _luminance(colours)
    bg = lum[counts.argmax()]
    ink = lum[np.abs(lum - bg).argmax()]  # the text's core colour
    return (max(bg, ink) + 0.05) / (min(bg, ink) + 0.05)


def test_pin_prompt_lockout_and_settings_labels_are_readable(qtbot, window, tmp_path):
    d = PinDialog(window.pin, window)
    qtbot.addWidget(d)
    d.show()
    assert text_contrast(d, d.message) >= 4.5  # "Enter the admin PIN"
    for _ in range(2):
        d.edit.setText("1111")
        d.try_pin()
    assert "Next try in" in d.message.text()
    assert text_contrast(d, d.message) >= 4.5  # the lock-out message
    s = SettingsDialog(window.station.config, window)
    qtbot.addWidget(s)
    s.show()
    form = s.layout()
    for field in (s.policy, s.frames, s.threshold, s.cooldown):
        label = form.labelForField(field)
        assert label.text() and text_contrast(s, label) >= 4.5, label.text()
    assert text_contrast(window, window.status) >= 4.5  # white on the window's own colour


def test_pin_prompt_counts_down_the_delay(qtbot, window, tmp_path):
    d = PinDialog(window.pin, window)
    qtbot.addWidget(d)
    d.show()
    d.edit.setText("1111")
    assert not d.try_pin() and "wrong PIN" in d.message.text()  # the first try: no delay
    d.edit.setText("1111")
    assert not d.try_pin()
    assert re.fullmatch(r"Wrong PIN\.\nNext try in 1 s", d.message.text()), d.message.text()
    assert not d.unlock_button.isEnabled() and not d.edit.isEnabled()
    d.edit.setText("2468")
    assert not d.try_pin() and not d.edit.text()  # during the delay: not even checked
    assert json.loads((tmp_path / "admin_pin.json").read_text())["failures"] == 2
    qtbot.waitUntil(d.unlock_button.isEnabled, timeout=4000)
    assert d.message.text().endswith("Enter the admin PIN again") and d.edit.isEnabled()
    d.edit.setText("1111")
    assert not d.try_pin() and d.message.text().endswith("Next try in 2 s")
    qtbot.waitUntil(lambda: d.message.text().endswith("Next try in 1 s"), timeout=3000)
    qtbot.waitUntil(d.unlock_button.isEnabled, timeout=3000)
    d.edit.setText("2468")
    assert d.try_pin() and d.result() == PinDialog.DialogCode.Accepted


def test_admin_can_leave_the_kiosk_from_the_unlocked_view(qtbot, window):
    assert window.leave_button.isHidden() and not window.leave()
    assert window.isVisible()  # locked: leaving needs the PIN
    window.unlock()
    assert window.leave_button.isVisible()
    with qtbot.waitSignal(window.closed, timeout=2000):
        qtbot.mouseClick(window.leave_button, Qt.MouseButton.LeftButton)
    assert not window.isVisible()


def test_audit_list_is_a_table_of_rounded_scores(qtbot, window, station, faces_dev):
    st, t = station
    assert window.audit_table.isHidden()  # locked: no audit on screen
    assert _drive(window, st, t, living_stand_in(faces_dev, "john_savage",
                                                 SAVAGE_LIVE)).status == Status.GRANTED
    t[0] += 5
    assert _drive(window, st, t, held_print(faces_dev, "john_savage",
                                            "2.jpg")).status == Status.REFUSED
    window.unlock()
    table = window.audit_table
    assert table.isVisible() and table.rowCount() == 2
    header = [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]
    assert header[:6] == ["Time", "Decision", "Person", "Similarity", "Anti-spoof", "Temporal"]
    cells = [[table.item(r, c).text() for c in range(6)] for r in range(2)]
    assert [c[1] for c in cells] == ["refused", "GRANTED"]  # newest first
    assert cells[1][2] == "john_savage"
    for row in cells:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[0]), row[0]
        for x in row[3:6]:
            assert x == "-" or re.fullmatch(r"\d+\.\d{3}", x), row
    t[0] += 5
    _drive(window, st, t, living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE, seed=1))
    assert table.rowCount() == 3  # a decision while unlocked shows up at once
    window.lock()
    assert table.isHidden()


def test_unreadable_audit_log_is_shown_in_the_admin_view(qtbot, window, station):
    st, _ = station
    st.audit.conn.close()  # the audit database is gone from under the kiosk
    window.unlock()  # reads the audit log: the fault is shown, the admin view still opens
    assert "unreadable" in window.admin_note.text() and window.leave_button.isVisible()


def test_soft_faces_say_move_closer_on_screen(qtbot, engine, faces_dev, tmp_path):
    st, t = _station(engine, faces_dev, tmp_path)  # the default sharpness gate (1000)
    assert st.config.min_sharpness == KioskConfig().min_sharpness == 1000
    pin = AdminPin(tmp_path)
    pin.set("2468")
    w = KioskWindow(st, pin)  # locked: what the person at the door sees
    view = _drive(w, st, t, living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE, n=4))
    assert st.last_reading.face and not st.last_reading.sharp  # the dev chips are soft
    assert view.status == Status.MOVE_CLOSER
    assert w.status.text() == "Move closer / more light" and w.admin.isHidden()
    assert "#b26a00" in w.styleSheet()  # amber
    w.unlocked = True  # so that closing does not ask for the PIN
    w.close()
