"""The "Unknown faces" tab: clusters of faces never recognised, to name, ignore or delete.

Shown when the unknown-face review is on (``unknown_review`` in ``settings.json``, off by
default). Each cluster is one row: the best crops as thumbnails and the count. "Name this
person" enrols the best crops (they passed the quality gate when kept); "Ignore" hides the
cluster; "Delete" removes its faces. "Learn from corrections" runs the triplet-loss adapter.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..errors import FaceLensError

THUMBS = 4


def _strip(faces) -> QIcon:
    """Up to THUMBS crops side by side."""
    import cv2

    crops = [cv2.imdecode(np.frombuffer(f.crop_png, np.uint8), cv2.IMREAD_COLOR)
             for f in faces[:THUMBS] if f.crop_png]
    crops = [cv2.resize(c, (56, 56)) for c in crops if c is not None]
    if not crops:
        return QIcon()
    rgb = np.ascontiguousarray(np.hstack(crops)[:, :, ::-1])
    img = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0],
                 QImage.Format.Format_RGB888).copy()
    return QIcon(QPixmap.fromImage(img))


class UnknownReviewPanel(QWidget):
    """Lists clusters of the store; `changed` after a person was enrolled from one."""

    changed = Signal()
    message = Signal(str)

    def __init__(self, store: Callable[[], object | None], gallery: Callable[[], object | None],
                 threshold: Callable[[], float], learn: Callable[[], str], parent=None):
        super().__init__(parent)
        self.store, self.gallery, self.threshold, self.learn = store, gallery, threshold, learn
        self.clusters: list = []
        self.list = QListWidget()
        self.list.setIconSize(self.list.iconSize().expandedTo(
            QPixmap(56 * THUMBS, 56).size()))
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.name_button = QPushButton("Name this person...")
        self.ignore_button = QPushButton("Ignore")
        self.delete_button = QPushButton("Delete")
        self.learn_button = QPushButton("Learn from corrections")
        row = QHBoxLayout()
        for b in (self.name_button, self.ignore_button, self.delete_button):
            row.addWidget(b)
        box = QVBoxLayout(self)
        box.addWidget(self.note)
        box.addWidget(self.list)
        box.addLayout(row)
        box.addWidget(self.learn_button)
        self.name_button.clicked.connect(lambda: self.name_cluster())
        self.ignore_button.clicked.connect(self.ignore_cluster)
        self.delete_button.clicked.connect(self.delete_cluster)
        self.learn_button.clicked.connect(lambda: self.message.emit(self.learn()))
        self.refresh()

    def refresh(self) -> None:
        store = self.store()
        self.list.clear()
        self.clusters = store.clusters(self.threshold()) if store is not None else []
        for c in self.clusters:
            item = QListWidgetItem(_strip(c.faces), f"{len(c.ids)} face(s)")
            item.setData(Qt.ItemDataRole.UserRole, c.number)
            self.list.addItem(item)
        self.note.setText("Faces that stayed 'not recognised' for a whole track, grouped by "
                          "person." if store is not None else "The unknown-face review is "
                          "off (unknown_review in settings.json).")
        if self.clusters:
            self.list.setCurrentRow(0)

    def _chosen(self):
        row = self.list.currentRow()
        return self.clusters[row] if 0 <= row < len(self.clusters) else None

    def name_cluster(self, name: str | None = None) -> int:
        """Enrol the chosen cluster's best crops as `name` (asked when None)."""
        import cv2

        c = self._chosen()
        if c is None or self.gallery() is None:
            return 0
        if name is None:
            name, ok = QInputDialog.getText(self, "Name this person", "Name:")
            if not ok or not name.strip():
                return 0
        best = c.faces[:3]
        crops = [cv2.imdecode(np.frombuffer(f.crop_png, np.uint8), cv2.IMREAD_COLOR)
                 for f in best if f.crop_png]
        try:
            added = self.gallery().enrol(name, np.stack([f.embedding for f in best]),
                                         sources=["unknown review"] * len(best),
                                         crops=crops if len(crops) == len(best) else None)
        except FaceLensError as exc:
            self.message.emit(f"Not enrolled: {exc}")
            return 0
        self.store().forget(c.ids)
        self.message.emit(f"Enrolled {name.strip()} from {added} face(s)")
        self.refresh()
        self.changed.emit()
        return added

    def ignore_cluster(self) -> None:
        c = self._chosen()
        if c is not None:
            self.store().ignore(c.ids)
            self.refresh()

    def delete_cluster(self) -> None:
        c = self._chosen()
        if c is not None:
            self.store().forget(c.ids)
            self.refresh()
