"""Qt side of the gallery watcher: another process's change becomes a signal on the UI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..gallery.watch import ChangeWatcher


class GalleryWatcher(QObject):
    """Emits ``changed`` (queued to the UI thread) when another process commits to the file."""

    changed = Signal()

    def __init__(self, path: Path, interval_s: float = 1.0, parent=None):
        super().__init__(parent)
        self.path = Path(path)
        self._watcher = ChangeWatcher(self.path, self.changed.emit, interval_s).start()

    def stop(self) -> None:
        self._watcher.stop()
