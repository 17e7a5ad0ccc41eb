"""Enrol from photo files: file dialog or drag and drop, progress bar, rejection summary.

A photo with several faces is never enrolled silently: the user chooses the face (or none)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ..live.photos import PhotoFaces, PhotoResult, photo_faces, rejection_summary
from ..live.sources import IMAGE_SUFFIXES
from .face_picker import FacePickDialog
from .folders import FolderMemory

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine

IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES)) + ")"


class EnrolFilesDialog(QDialog):
    """Collect photos for one person; a worker thread checks and embeds them.

    ``finishedResults(name, results)`` carries the results to the main window, which writes
    the accepted ones to the gallery.
    """

    progressed = Signal(int, int)
    finishedResults = Signal(str, object)
    _done = Signal(object)

    def __init__(self, engine: FaceEngine, names: list[str], name: str = "", min_face: int = 40,
                 engine_lock: threading.RLock | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Enrol from photos")
        self.setAcceptDrops(True)
        self.engine, self.min_face = engine, min_face
        self.lock = engine_lock or threading.RLock()
        self.paths: list[Path] = []
        self.results: list[PhotoResult] | None = None
        self.found: list[PhotoFaces] = []  # the last check: every photo's faces
        self.choices: dict[int, int | None] = {}  # photo index -> chosen face (None: none)
        self.picker: FacePickDialog | None = None  # open while a face is being chosen
        self._pending: list[int] = []  # photos with several faces still to choose from
        self._name = ""
        self.folders: FolderMemory | None = None  # where Add photos opens (last folder)
        self._cancel = threading.Event()
        self.name_box = QComboBox()
        self.name_box.setEditable(True)
        self.name_box.addItems(names)
        self.name_box.setCurrentText(name)
        self.list = QListWidget()
        self.hint = QLabel("Drop photos here, or use Add photos. One face per photo is best; "
                           "for a group photo you choose the face.")
        self.hint.setWordWrap(True)
        self.progress = QProgressBar()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.add_button = QPushButton("Add photos...")
        self.enrol_button = QPushButton("Enrol")
        self.close_button = QPushButton("Close")
        self.add_button.clicked.connect(self.browse)
        self.enrol_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.reject)
        self.progressed.connect(self._on_progress)
        self._done.connect(self._on_done)
        form = QFormLayout()
        form.addRow("Person", self.name_box)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.enrol_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.list)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        self.resize(480, 420)

    def add_paths(self, paths) -> None:
        for path in map(Path, paths):
            if path.is_dir():
                self.add_paths(sorted(p for p in path.iterdir()
                                      if p.suffix.lower() in IMAGE_SUFFIXES))
            elif path not in self.paths:
                self.paths.append(path)
                self.list.addItem(path.name)

    def browse(self) -> None:
        start = self.folders.start() if self.folders else ""
        files, _ = QFileDialog.getOpenFileNames(self, "Photos of this person", start,
                                                IMAGE_FILTER)
        if files and self.folders:
            self.folders.remember(files[0])
        self.add_paths(files)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.add_paths(u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile())
        event.acceptProposedAction()

    def start(self) -> None:
        """Check and embed the listed photos on a worker thread."""
        name = self.name_box.currentText().strip()
        if not name or not self.paths:
            self.summary.setText("Type a name and add at least one photo.")
            return
        self.enrol_button.setEnabled(False)
        self.progress.setRange(0, len(self.paths))
        self.progress.setValue(0)
        self.summary.setText("Checking photos...")
        threading.Thread(target=self._work, args=(name, list(self.paths)), daemon=True,
                         name="facelens-enrol-files").start()

    def _work(self, name: str, paths: list[Path]) -> None:
        results = []
        for i, path in enumerate(paths):
            if self._cancel.is_set():
                break
            with self.lock:  # per photo: the live view gets the engine in between
                results.append(photo_faces(self.engine, path, self.min_face))
            self.progressed.emit(i + 1, len(paths))
        self._done.emit((name, results))

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setValue(done)

    def _on_done(self, payload) -> None:
        self._name, self.found = payload
        self.choices = {}
        self._pending = [i for i, p in enumerate(self.found) if len(p.faces) > 1]
        self._ask_next()

    def _ask_next(self) -> None:
        """Ask which face to use for the next photo with several faces; then finish."""
        if not self._pending:
            self.picker = None
            self._finish()
            return
        index = self._pending.pop(0)
        self.summary.setText(f"{self.found[index].path.name}: several faces; choose one.")
        self.picker = FacePickDialog(self.found[index], self._name, len(self._pending), self)
        self.picker.chosen.connect(lambda face: self._chosen(index, face))
        self.picker.open()

    def _chosen(self, index: int, face: int | None) -> None:
        self.choices[index] = face
        self._ask_next()

    def _finish(self) -> None:
        if self._cancel.is_set():
            return
        results = [p.result(self.choices.get(i)) for i, p in enumerate(self.found)]
        self.results = results
        self.summary.setText(rejection_summary(results))
        self.enrol_button.setEnabled(True)
        self.finishedResults.emit(self._name, results)

    def reject(self) -> None:
        self._cancel.set()  # nothing of this check is enrolled
        self._pending = []
        if self.picker is not None:
            self.picker.close()
        super().reject()
