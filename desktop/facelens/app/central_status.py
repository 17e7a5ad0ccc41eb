"""The status bar field of a central gallery: connected, or offline since when, rows queued."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel


class CentralStatusLabel(QLabel):
    """Shows `gallery().status()` every `every_ms`; hidden for a gallery without one (local)."""

    def __init__(self, gallery: Callable[[], object], every_ms: int = 2000, parent=None):
        super().__init__("", parent)
        self.setObjectName("status_central")
        self._gallery = gallery
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(every_ms)
        self.refresh()

    def refresh(self) -> None:
        status = getattr(self._gallery(), "status", None)
        text = status() if callable(status) else ""
        self.setText(text)
        self.setVisible(bool(text))
