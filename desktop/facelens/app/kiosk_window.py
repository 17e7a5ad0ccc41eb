"""The kiosk window: full screen, one message readable from two metres, PIN to leave.

The networks run on a worker thread (:class:`KioskWorker`) that reads the newest camera
frame, asks the :class:`~facelens.kiosk.station.KioskStation` what to show and sends the
view here; this window only paints. When the camera goes away the kiosk shows
"Out of order" and reopens it every few seconds.
"""

from __future__ import annotations

import argparse
import math
import re
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..errors import FaceLensError
from ..kiosk.config import POLICIES, KioskConfig
from ..kiosk.pin import AdminPin, PinCheck, PinError
from ..kiosk.policy import Status, View
from ..kiosk.station import KioskStation
from .central_status import CentralStatusLabel
from .kiosk_audit_table import AuditTable
from .video_view import to_qimage

BACKGROUND = {"neutral": "#1d2430", "amber": "#b26a00", "green": "#16803c", "red": "#b3261e",
              "grey": "#4a4a4a"}
RETRY_S = 3.0
AUDIT_ROWS = 30  # decisions shown in the admin view
# The window's white text is for its coloured background only (its direct QLabel children):
# dialogs on it keep dark text on a light background, whatever the window's colour.
WINDOW_SHEET = "KioskWindow {{ background:{colour}; }} KioskWindow > QLabel {{ color:white; }}"
DIALOG_SHEET = ("QDialog { background:#f4f4f4; } QLabel { color:#1a1a1a; }"
                " QLabel#pinMessage { font-size:16px; }")


class KioskWorker(QObject):
    """Camera -> station -> view, on its own thread; reopens a lost camera."""

    view_ready = Signal(object, object)  # View, BGR frame (or None)

    def __init__(self, station: KioskStation, source: str = "0"):
        super().__init__()
        self.station = station
        self.source = source
        self._running = True

    @Slot()
    def run(self) -> None:
        from ..live.sources import FrameReader, SourceError, parse_source

        while self._running:
            events: list = []
            try:
                reader = FrameReader(parse_source(self.source), reconnect_tries=2,
                                     on_event=events.append).start()
            except SourceError as exc:
                self.view_ready.emit(self.station.camera_lost(str(exc)), None)
                time.sleep(RETRY_S)
                continue
            last = -1
            while self._running and not reader.finished.is_set():
                frame = reader.latest(last, timeout=0.5)
                if frame is None:
                    continue
                last = frame.frame_id
                self.view_ready.emit(self.station.process(frame.image), frame.image)
            reader.stop()
            if self._running:
                why = events[-1].message if events else f"camera {self.source} stopped"
                self.view_ready.emit(self.station.camera_lost(f"{why}; retrying"), None)
                time.sleep(RETRY_S)

    def stop(self) -> None:
        self._running = False


def _without_wait(message: str) -> str:
    """A refusal's reason without its "wait N s" (the dialog counts the seconds down)."""
    reason = re.sub(r"[\s:;,.]*\(?wait \d+(\.\d+)? ?s\)?\.?$", "", message).strip()
    return reason[:1].upper() + reason[1:] if reason else "Too many wrong tries"


class PinDialog(QDialog):
    """Ask for the admin PIN; a wrong PIN (or one during the delay) does not unlock.

    While wrong tries are delayed (``PinCheck.wait_s``) it shows the seconds left, counting
    down, and takes no try until they have passed.
    """

    def __init__(self, pin: AdminPin, parent: QWidget | None = None, clock=time.monotonic):
        super().__init__(parent)
        self.pin = pin
        self._clock = clock
        self._retry_at = 0.0
        self._reason = ""
        self.setWindowTitle("Admin")
        self.setStyleSheet(DIALOG_SHEET)
        self.setMinimumWidth(360)
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText("Admin PIN")
        self.message = QLabel("Enter the admin PIN")
        self.message.setObjectName("pinMessage")
        self.message.setWordWrap(True)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.clicked.connect(self.try_pin)
        self.edit.returnPressed.connect(self.try_pin)
        self._countdown = QTimer(self)
        self._countdown.setInterval(250)
        self._countdown.timeout.connect(self._tick)
        lay = QVBoxLayout(self)
        for w in (self.message, self.edit, self.unlock_button):
            lay.addWidget(w)

    def try_pin(self) -> bool:
        if self.seconds_left():
            self.edit.clear()
            return False  # still delayed: the countdown is on screen
        if not self.pin.is_set():
            self.message.setText("No admin PIN set: run `facelens kiosk set-pin`")
            return False
        result = self.pin.check(self.edit.text())
        self.edit.clear()
        if result.ok:
            self.accept()
            return True
        if result.wait_s > 0:
            self._wait(result)
        else:
            self.message.setText(result.message)
        return False

    def seconds_left(self) -> int:
        """Whole seconds until the next try is taken (0: it may be tried now)."""
        return max(0, math.ceil(self._retry_at - self._clock()))

    def _wait(self, result: PinCheck) -> None:
        self._reason = _without_wait(result.message)
        self._retry_at = self._clock() + result.wait_s
        self.edit.setEnabled(False)
        self.unlock_button.setEnabled(False)
        self._tick()
        self._countdown.start()

    def _tick(self) -> None:
        left = self.seconds_left()
        if left:
            self.message.setText(f"{self._reason}.\nNext try in {left} s")
            return
        self._countdown.stop()
        self.message.setText(f"{self._reason}.\nEnter the admin PIN again")
        self.edit.setEnabled(True)
        self.unlock_button.setEnabled(True)
        self.edit.setFocus()


class SettingsDialog(QDialog):
    """The kiosk settings that matter at the door: policy, frames, threshold, cooldown."""

    def __init__(self, config: KioskConfig, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Kiosk settings")
        self.setStyleSheet(DIALOG_SHEET)
        self.policy = QComboBox()
        self.policy.addItems(POLICIES)
        self.policy.setCurrentText(config.policy)
        self.frames = QSpinBox()
        self.frames.setRange(1, 60)
        self.frames.setValue(config.frames)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setDecimals(3)
        self.threshold.setSingleStep(0.01)
        self.threshold.setSpecialValueText("model default")  # 0.0 stands for None
        self.threshold.setValue(config.threshold or 0.0)
        self.cooldown = QDoubleSpinBox()
        self.cooldown.setRange(0.0, 3600.0)
        self.cooldown.setSuffix(" s")
        self.cooldown.setValue(config.action_cooldown_s)
        form = QFormLayout(self)
        form.addRow("Policy", self.policy)
        form.addRow("Consecutive frames", self.frames)
        form.addRow("Recognition threshold", self.threshold)
        form.addRow("Door-action cooldown", self.cooldown)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def changes(self) -> dict:
        """The dialog's values as KioskConfig fields."""
        return {"policy": self.policy.currentText(), "frames": self.frames.value(),
                "threshold": self.threshold.value() or None,
                "action_cooldown_s": self.cooldown.value()}


class KioskWindow(QWidget):
    """Full-screen status, camera preview, claim entry (verify) and the admin view."""

    closed = Signal()  # the window was closed (after the admin PIN when locked)

    def __init__(self, station: KioskStation, pin: AdminPin, locked: bool = True,
                 home: str | Path | None = None):
        super().__init__()
        self.station = station
        self.pin = pin
        self.home = Path(home) if home is not None else pin.path.parent  # where kiosk.json is
        self._frame: np.ndarray | None = None  # the newest camera frame, for enrolling
        self.unlocked = not locked  # locked: closing needs the admin PIN
        self.setWindowTitle("FaceLens kiosk")
        self.status = QLabel("Look at the camera")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status.setWordWrap(True)
        self.status.setFont(QFont("Sans", 64, QFont.Weight.Bold))
        self.detail = QLabel("")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setFont(QFont("Sans", 20))
        self.detail.setWordWrap(True)  # a long fault wraps instead of widening the window
        self.preview = QLabel()
        self.preview.setFixedSize(480, 360)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background:#000; border:2px solid #9e9e9e;")
        self.claim = QLineEdit()
        self.claim.setPlaceholderText("Scan your badge or type your ID, then Enter")
        self.claim.setFont(QFont("Sans", 22))
        self.claim.returnPressed.connect(self._claim)
        self.claim.setVisible(station.config.policy == "verify")
        self.admin = QLabel()  # scores and thresholds, shown after the PIN
        self.admin.setFont(QFont("Monospace", 12))
        self.admin.setWordWrap(True)
        self.admin.setVisible(False)
        self.footer = QLabel(self._footer_text())
        self.footer.setFont(QFont("Sans", 12))
        admin_button = QPushButton("Admin")
        admin_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        admin_button.clicked.connect(self.ask_pin)
        # admin actions: visible only while unlocked
        self.enrol_button = QPushButton("Enrol face in view...")
        self.enrol_button.clicked.connect(self.enrol_in_view)
        self.settings_button = QPushButton("Settings...")
        self.settings_button.clicked.connect(self.open_settings)
        self.lock_button = QPushButton("Lock")
        self.lock_button.clicked.connect(self.lock)
        self.leave_button = QPushButton("Leave kiosk")
        self.leave_button.clicked.connect(self.leave)
        self.audit_table = AuditTable()  # the latest decisions, in the admin view
        self._audit_seq: int | None = None  # the newest decision the table shows
        self.admin_note = QLabel("")  # the result of the last admin action
        self.admin_note.setWordWrap(True)
        for w in self._admin_actions():
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            w.setVisible(False)

        side = QVBoxLayout()
        side.addWidget(self.preview)
        side.addWidget(self.admin)
        side.addWidget(self.enrol_button)
        side.addWidget(self.settings_button)
        side.addWidget(self.lock_button)
        side.addWidget(self.leave_button)
        side.addWidget(self.admin_note)
        side.addStretch(1)
        main = QVBoxLayout()
        main.addStretch(1)
        main.addWidget(self.status)
        main.addWidget(self.detail)
        main.addStretch(1)
        main.addWidget(self.audit_table, 2)
        main.addWidget(self.claim)
        top = QHBoxLayout()
        top.addLayout(main, 3)
        top.addLayout(side, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.footer, 1)
        self.central = CentralStatusLabel(lambda: station.gallery)  # a central gallery's state
        self.central.setFont(QFont("Sans", 12))
        bottom.addWidget(self.central)
        bottom.addWidget(admin_button)
        outer = QVBoxLayout(self)
        outer.addLayout(top, 1)
        outer.addLayout(bottom)
        self.show_view(station.view, None)

    def _footer_text(self) -> str:
        s, c = self.station, self.station.config
        return (f"Policy: {c.policy}  ·  model {s.engine.model_id} on {s.engine.provider}  ·  "
                f"door action: {c.action_kind}  ·  audit on")

    # -- painting ---------------------------------------------------------------------------

    @Slot(object, object)
    def show_view(self, view: View, frame: np.ndarray | None) -> None:
        sheet = WINDOW_SHEET.format(colour=BACKGROUND[view.colour])
        if sheet != self.styleSheet():  # re-styling every child is costly: only on a change
            self.setStyleSheet(sheet)
        self.status.setText(view.text)
        detail = view.detail if view.status in (Status.OUT_OF_ORDER,) else ""
        if self.station.fault:
            detail = f"⚠ {self.station.fault}"
        self.detail.setText(detail)
        if frame is not None:
            self._frame = frame
            self.preview.setPixmap(QPixmap.fromImage(to_qimage(frame)).scaled(
                self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
        if not self.admin.isHidden():  # the admin view is open
            self.admin.setText(self.admin_text())
        out = self.station.last_outcome
        if not self.audit_table.isHidden() and out is not None \
                and out.audit_seq != self._audit_seq:
            self.refresh_audit()  # a new decision: at most one every hold_s seconds

    def admin_text(self) -> str:
        """Both liveness scores, the similarity, and their thresholds (admin view)."""
        s, c, r = self.station, self.station.config, self.station.last_reading

        def fmt(x, spec=".3f"):
            return "-" if x is None else format(x, spec)

        lines = ["ADMIN VIEW",
                 f"similarity   {fmt(r and r.similarity)}  (threshold {s.threshold:.3f})",
                 f"anti-spoof   {fmt(r and r.antispoof)}  (live below {c.antispoof_threshold})",
                 f"sharpness    {fmt(r and r.sharpness, 'd')}  (needs > {c.min_sharpness})",
                 f"temporal 3D  {fmt(r and r.temporal, '.4f')}  "
                 f"(live above {c.temporal_threshold})"]
        out = s.last_outcome
        if out is not None:
            lines.append(f"last: {'GRANTED' if out.granted else 'refused'} "
                         f"{out.decision.name or ''} ({out.decision.reason})")
        if s.fault:
            lines.append(f"fault: {s.fault}")
        damaged = getattr(s.gallery, "damaged", [])
        for d in damaged:  # not searched: the admin must act (README: a damaged template)
            lines.append(f"gallery: template {d.template_id} of {d.name!r} damaged, not searched")
        if damaged:
            lines.append("  remove and enrol them again, or restore a backup")
        return "\n".join(lines)

    # -- input ------------------------------------------------------------------------------

    def _claim(self) -> None:
        name = self.station.claim(self.claim.text())
        self.claim.clear()
        self.detail.setText(f"Checking {name}: look at the camera" if name else "")

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt naming)
        if event.key() == Qt.Key.Key_Escape:
            self.ask_pin()
            return
        super().keyPressEvent(event)

    def ask_pin(self) -> bool:
        dialog = PinDialog(self.pin, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.unlock()
            return True
        return False

    def unlock(self) -> None:
        """After the right PIN: show the admin view; Escape again or close leaves."""
        self.unlocked = True
        self.admin.setVisible(True)
        self.admin.setText(self.admin_text())
        for w in self._admin_actions():
            w.setVisible(True)
        self.refresh_audit()

    def lock(self) -> None:
        """Hide the admin view and its actions; leaving needs the PIN again."""
        self.unlocked = False
        for w in (self.admin, *self._admin_actions()):
            w.setVisible(False)
        self.admin_note.clear()

    def _admin_actions(self) -> tuple[QWidget, ...]:
        return (self.enrol_button, self.settings_button, self.lock_button, self.leave_button,
                self.audit_table, self.admin_note)

    # -- admin actions ----------------------------------------------------------------------

    def enrol_in_view(self) -> bool:
        """Ask for a name and enrol the largest face of the newest frame.

        Runs on the UI thread: one detection and one embedding take tens of milliseconds
        (plus at most one frame's processing while waiting for the station's lock).
        """
        if not self.unlocked:
            return False
        frame = self._frame
        if frame is None:
            self.admin_note.setText("Enrol: no camera frame yet")
            return False
        name, ok = QInputDialog.getText(self, "Enrol face in view", "Name of the person:")
        if not ok or not name.strip():
            return False
        try:
            added = self.station.enrol_from_frame(frame, name.strip())
        except FaceLensError as exc:
            self.admin_note.setText(f"Enrol {name.strip()}: {exc}")
            return False
        self.admin_note.setText(f"Enrolled {name.strip()} ({added} template)")
        return True

    def open_settings(self) -> bool:
        """Edit the door settings; apply them to the running station and save kiosk.json."""
        if not self.unlocked:
            return False
        dialog = SettingsDialog(self.station.config, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        return self.apply_settings(dialog.changes())

    def apply_settings(self, changes: dict) -> bool:
        try:
            self.station.apply_settings(changes)
            KioskConfig.update(self.home, changes)
        except (FaceLensError, OSError) as exc:
            self.admin_note.setText(f"Settings not saved: {exc}")
            return False
        self.claim.setVisible(self.station.config.policy == "verify")
        self.footer.setText(self._footer_text())
        self.admin.setText(self.admin_text())
        self.admin_note.setText("Settings applied and saved")
        return True

    def refresh_audit(self) -> None:
        """Show the latest AUDIT_ROWS decisions in the admin view's table."""
        out = self.station.last_outcome
        self._audit_seq = out.audit_seq if out is not None else None
        try:
            rows = self.station.audit.recent(AUDIT_ROWS)
        except sqlite3.Error as exc:  # shown, never raised into the window
            self.admin_note.setText(f"Audit log {self.station.audit.path}: unreadable ({exc})")
            return
        self.audit_table.show_rows(rows)

    def leave(self) -> bool:
        """Leave the kiosk (the Leave kiosk button of the unlocked view)."""
        if not self.unlocked:
            return False
        return self.close()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.unlocked or self.ask_pin():
            self.lock()  # leaving: the admin actions go with it
            event.accept()
            self.closed.emit()
        else:
            event.ignore()


def admin_pin(home) -> AdminPin:
    """The kiosk's admin PIN; PinError when none is set (nobody could leave the kiosk)."""
    pin = AdminPin(home)
    if not pin.is_set():
        raise PinError("set an admin PIN first: facelens kiosk set-pin")
    return pin


class KioskSession:
    """A kiosk window and the worker thread that feeds it; ``stop()`` ends the worker."""

    def __init__(self, window: KioskWindow, worker: KioskWorker, thread: QThread):
        self.window, self.worker, self.thread = window, worker, thread

    def stop(self) -> None:
        self.worker.stop()
        self.thread.quit()
        self.thread.wait(int((RETRY_S + 1) * 1000))
        station = self.window.station  # a door action still running gets its audit outcome
        station.wait_door(station.config.action_timeout_s + 1)


def start_kiosk(home, source: str = "0", policy: str | None = None,
                engine=None) -> KioskSession:
    """Open the station from the data folder `home` and start its worker on `source`.

    The window is not shown yet. Raises PinError when no admin PIN is set, and the station's
    own errors (settings, passphrase) as FaceLensError.
    """
    from ..kiosk.factory import open_station

    pin = admin_pin(home)
    station = open_station(home, engine=engine)
    if policy:
        station.config.policy = policy
        station.policy.policy = policy
    window = KioskWindow(station, pin, home=home)
    worker = KioskWorker(station, source)
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.view_ready.connect(window.show_view)
    thread.start()
    return KioskSession(window, worker, thread)


def run_kiosk(args: argparse.Namespace) -> int:
    """``facelens kiosk``: open the station from the data folder and run full screen."""
    from ..paths import data_home
    from .config_repair import load_kiosk_files, load_or_repair

    home = data_home(args.home)
    from .qt_start import start_qt

    app = start_qt(sys.argv[:1])  # if Qt cannot start: says which packages to install
    if load_or_repair(lambda: load_kiosk_files(home)) is None:  # damaged: show, offer a reset
        return 2
    admin_pin(home)  # before any window: without a PIN nobody could leave the kiosk
    session = start_kiosk(home, args.camera or getattr(args, "source", None) or "0",
                          args.policy)
    app.aboutToQuit.connect(session.worker.stop)
    if args.windowed:
        session.window.resize(1280, 720)
        session.window.show()
    else:
        session.window.showFullScreen()
    QTimer.singleShot(0, session.window.claim.setFocus)
    code = app.exec()
    session.stop()
    return code
