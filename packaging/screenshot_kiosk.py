"""Screenshots of the kiosk (locked, granted, refused, PIN prompt during a delay, admin view,
Settings) and the attendance report.

Run under a display (Xvfb: ``xvfb-run -a -s "-screen 0 1280x800x24" python
packaging/screenshot_kiosk.py OUT_DIR``). The kiosk is driven by the real networks on frames
made from the dev photos (../shared/faces-dev): a sequence of John Savage's different photos
(a stand-in for a living face) is granted; one of his photos held up and moved by hand is
refused by the temporal cue. The dev photos are too soft for the default sharpness gate, so the
first shot shows what the locked kiosk says then; the others lower the gate as the tests do.
Dialogs are shot with the screen (``QScreen.grabWindow(0)``), over the kiosk window.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "desktop"), str(ROOT / "tests")]


def main(out: Path) -> int:
    from PySide6.QtWidgets import QApplication

    from facelens.app.attendance_view import AttendanceView
    from facelens.app.kiosk_window import KioskWindow, PinDialog, SettingsDialog
    from facelens.attendance import AttendanceStore
    from facelens.engine.recognizer import FaceEngine
    from facelens.kiosk.audit import AuditLog
    from facelens.kiosk.config import KioskConfig
    from facelens.kiosk.pin import AdminPin
    from facelens.kiosk.policy import Status
    from facelens.kiosk.station import KioskStation
    from kiosk_support import SAVAGE_LIVE, enrolled_gallery, held_print, living_stand_in

    faces_dev = ROOT.parent / "shared" / "faces-dev"
    if not faces_dev.is_dir():
        print(f"needs the dev photos at {faces_dev}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="facelens-shots-"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    engine = FaceEngine.load("lite", "auto")
    gallery = enrolled_gallery(engine, faces_dev, home / "gallery.db")
    t = [0.0]
    cfg = KioskConfig(min_face_px=60)  # dev photos are 150-px chips, soft at the default gate
    station = KioskStation(engine, gallery, cfg, AuditLog(home / "audit.db"),
                           AttendanceStore(home / "attendance.db"), clock=lambda: t[0])
    pin = AdminPin(home)
    pin.set("2468")
    window = KioskWindow(station, pin)  # locked, as the kiosk starts
    window.resize(1280, 720)
    window.move(0, 0)
    window.show()

    def drive(frames) -> None:
        for f in frames:
            t[0] += 0.1
            view = station.process(f)
            window.show_view(view, f)
            app.processEvents()
            if view.status in (Status.GRANTED, Status.REFUSED):
                return

    def settle(ms: int = 300) -> None:
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def screen(name: str) -> None:
        settle()
        app.primaryScreen().grabWindow(0).copy(0, 0, 1280, 720).save(str(out / name))

    drive(living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE, n=4))
    window.grab().save(str(out / "kiosk_locked_soft.png"))  # "Move closer / more light"
    station.apply_settings({})  # start over with the gate lowered, as the tests do
    station.config.min_sharpness = station.antispoof.min_sharpness = 0
    drive(living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE))
    window.grab().save(str(out / "kiosk_granted.png"))
    t[0] += 5
    drive(held_print(faces_dev, "john_savage", "2.jpg"))
    window.show_view(station.view, None)
    app.processEvents()
    window.grab().save(str(out / "kiosk_refused.png"))

    dialog = PinDialog(pin, window)
    dialog.show()
    for wrong in range(3):  # three wrong tries: the next one waits 2 s
        if wrong == 2:
            settle(1100)  # the second one's 1 s delay
        dialog.edit.setText("1111")
        dialog.try_pin()
    screen("kiosk_pin_delay.png")
    dialog.close()
    window.unlock()  # as after the right PIN
    t[0] += 5
    drive(living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE, seed=1))
    window.show_view(station.view, None)
    window.grab().save(str(out / "kiosk_admin.png"))
    settings = SettingsDialog(station.config, window)
    settings.show()
    screen("kiosk_settings.png")
    settings.close()

    now = [datetime(2026, 11, 23, 8, 5).astimezone()]
    store = AttendanceStore(home / "report.db", window_s=0, wallclock=lambda: now[0])
    people = ["john_savage", "john_simm", "bbt_amy", "bbt_howard", "bbt_raj"]
    for day in range(7):
        start = now[0]
        for i, person in enumerate(people[: 2 + (day * 3) % 4]):
            now[0] = start + timedelta(minutes=9 * i + day)
            store.log(person, 0.7)
            now[0] += timedelta(hours=8, minutes=3 * i)
            store.log(person, 0.7)
        for _ in range(day % 3):
            store.log(None)
        now[0] = start + timedelta(days=1)
    report = AttendanceView(store, today=datetime(2026, 11, 29).date())
    report.resize(900, 620)
    report.show()
    app.processEvents()
    report.grab().save(str(out / "attendance_report.png"))
    for name in ("kiosk_locked_soft.png", "kiosk_granted.png", "kiosk_refused.png",
                 "kiosk_pin_delay.png", "kiosk_admin.png", "kiosk_settings.png",
                 "attendance_report.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "screenshots"))
