"""The status bar: source, resolution, camera FPS, processed FPS, latency, provider, pack."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStatusBar

from ..live.scene import Scene

FIELDS = ("source", "resolution", "camera_fps", "processed_fps", "latency", "provider", "pack")
RATES = ("camera_fps", "processed_fps", "latency")  # only true while a source runs
# the widest each rate usually gets: its label keeps this width, so the bar does not jiggle
RATE_TEMPLATES = {"camera_fps": "Camera 00.0 FPS",
                  "processed_fps": "Processed 00.0 FPS (detect 00/s)",
                  "latency": "Latency 0000 ms"}


class LiveStatusBar(QStatusBar):
    """Permanent fields on the right; transient messages on the left."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.fields: dict[str, QLabel] = {}
        for key in FIELDS:
            label = QLabel("")
            label.setObjectName(f"status_{key}")
            self.fields[key] = label
            self.addPermanentWidget(label)
        self.set_source("no source")
        self.attendance = QLabel("")  # shown while attendance mode is on
        self.attendance.setObjectName("status_attendance")
        self.fields["attendance"] = self.attendance
        self.insertPermanentWidget(0, self.attendance)
        self.attendance_counts = [0, 0]  # people logged, unknown faces counted (this session)
        self.attendance_error = ""
        self.set_attendance(False)
        self.full_message = ""  # the whole text of the message shown (elided) on the left
        self._expires: float | None = None  # when that message goes (None: it stays)
        self.messageChanged.connect(lambda text: None if text else self.setToolTip(""))

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt name)
        """Show `text` on the left, elided to the room the fields leave (again whenever the
        bar is resized); the whole text is the status bar's tooltip."""
        self.full_message = text
        self._expires = time.monotonic() + timeout / 1000 if timeout else None
        self._show_elided(timeout)

    def currentMessage(self) -> str:  # noqa: N802 (Qt name)
        """The whole message shown (its visible part may be elided: see `shown_message`)."""
        return self.full_message if super().currentMessage() else ""

    def shown_message(self) -> str:
        """The message as painted, elided to fit."""
        return super().currentMessage()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        if super().currentMessage():
            left = None if self._expires is None else self._expires - time.monotonic()
            if left is None or left > 0:
                self._show_elided(0 if left is None else max(1, int(left * 1000)))

    def _show_elided(self, timeout: int) -> None:
        text = self.full_message
        room = self.width() - sum(w.width() + 6 for w in self.fields.values() if w.isVisible())
        shown = self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight,
                                              max(80, room - 24))
        super().showMessage(shown, timeout)
        self.setToolTip(text if shown != text else "")

    def clear_rates(self) -> None:
        """The source has ended or stopped: its rates and latency are no longer shown."""
        for key in RATES:
            self.fields[key].setText("")
            self.fields[key].setMinimumWidth(0)

    def text(self, key: str) -> str:
        return self.fields[key].text()

    def set_source(self, text: str) -> None:
        self.fields["source"].setText(f"Source: {text}")

    def set_engine(self, provider: str, pack: str, fell_back: bool = False) -> None:
        note = " (CUDA unavailable, fell back)" if fell_back else ""
        self.fields["provider"].setText(f"Provider: {provider}{note}")
        self.fields["provider"].setStyleSheet("color: #c60;" if fell_back else "")
        self.fields["pack"].setText(f"Pack: {pack}")

    def show_scene(self, scene: Scene) -> None:
        s = scene.stats
        self.fields["resolution"].setText(f"{scene.width}x{scene.height}")
        self.fields["camera_fps"].setText(f"Camera {s.camera_fps:.1f} FPS")
        self.fields["processed_fps"].setText(
            f"Processed {s.processed_fps:.1f} FPS (detect {s.analysed_fps:.0f}/s)")
        self.fields["latency"].setText(f"Latency {scene.latency_ms:.0f} ms")
        for key, template in RATE_TEMPLATES.items():
            label = self.fields[key]
            if not label.minimumWidth():
                label.setMinimumWidth(label.fontMetrics().horizontalAdvance(template))

    def set_attendance(self, on: bool) -> None:
        """Show or hide the attendance indicator."""
        self.attendance.setVisible(on)
        if not on:
            self.attendance_error = ""
        self._paint_attendance()

    def attendance_logged(self, entry=None) -> None:
        """Count one entry (a person, or an unknown face when `entry` is None or nameless)."""
        known = entry is not None and entry.person is not None
        self.attendance_counts[0 if known else 1] += 1
        if known:
            self.showMessage(f"Attendance: {entry.person} logged at {entry.ts[11:19]}", 5000)
        self._paint_attendance()

    def attendance_fault(self, message: str) -> None:
        """The log cannot be written now (red, with the reason); empty: it works again."""
        self.attendance_error = message
        if message:
            self.showMessage(f"Attendance NOT recorded: {message}", 15000)
        self._paint_attendance()

    def _paint_attendance(self) -> None:
        people, unknown = self.attendance_counts
        if self.attendance_error:
            self.attendance.setText("● Attendance: NOT RECORDING")
            self.attendance.setStyleSheet("color: #b3261e; font-weight: bold;")
            self.attendance.setToolTip(self.attendance_error)
        else:
            self.attendance.setText(f"● Attendance: {people} logged, {unknown} unknown")
            self.attendance.setStyleSheet("color: #16803c;")
            self.attendance.setToolTip("Attendance mode is on (Tools menu)")
