"""The status bar field of a central gallery: connected, or offline since when, rows queued."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from ..gallery.central_status import describe_text


class CentralStatusLabel(QLabel):
    """Shows `gallery().status()` every `every_ms`, with `describe()` (server user@host/db,
    replica counts and age, rows queued) as its tooltip; hidden for a local gallery."""

    def __init__(self, gallery: Callable[[], object], every_ms: int = 2000, parent=None):
        super().__init__("", parent)
        self.setObjectName("status_central")
        self._gallery = gallery
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(every_ms)
        self.refresh()

    def refresh(self) -> None:
        gallery = self._gallery()
        status = getattr(gallery, "status", None)
        text = status() if callable(status) else ""
        self.setText(text)
        self.setVisible(bool(text))
        describe = getattr(gallery, "describe", None)
        if text and callable(describe):
            try:
                self.setToolTip(describe_text(describe()))
            except (OSError, sqlite3.Error) as exc:  # a busy or damaged local file: say so
                self.setToolTip(f"{text}\n(details unreadable: {exc})")
