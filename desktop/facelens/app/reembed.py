"""Re-embed the gallery for a newly chosen model pack on a thread, with a progress dialog."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine
    from ..gallery import Gallery


class GalleryReembedder(QObject):
    """Runs :meth:`Gallery.reembed` off the UI thread; the dialog shows faces done of total."""

    progress = Signal(int, int)
    finished = Signal(object)  # ReembedReport
    failed = Signal(str)

    def __init__(self, gallery: Gallery, engine: FaceEngine, lock: threading.RLock,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.gallery, self.engine, self.lock = gallery, engine, lock
        self.dialog = QProgressDialog(f"Re-embedding the gallery for {engine.pack_name}...",
                                      None, 0, 0, parent)
        self.dialog.setWindowTitle("Model pack")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.progress.connect(self._show)
        self.finished.connect(lambda _: self.dialog.close())
        self.failed.connect(lambda _: self.dialog.close())

    def start(self) -> None:
        self.dialog.show()
        threading.Thread(target=self._run, daemon=True, name="facelens-reembed").start()

    def _show(self, done: int, total: int) -> None:
        self.dialog.setMaximum(max(total, 1))
        self.dialog.setValue(done)
        self.dialog.setLabelText(f"Re-embedding the gallery for {self.engine.pack_name}: "
                                 f"{done} of {total} faces")

    def _run(self) -> None:
        try:
            with self.lock:  # the engine is shared with the live pipeline
                report = self.gallery.reembed(self.engine.embed,
                                              lambda d, t: self.progress.emit(d, t))
        except Exception as exc:  # shown in the window; the old templates are untouched
            self.failed.emit(f"re-embedding the gallery failed: {exc}")
            return
        self.finished.emit(report)
