"""Choose the face to enrol from a photo with several faces (or none of them)."""

from __future__ import annotations

import cv2
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QPushButton, QVBoxLayout

from ..live.photos import PhotoFaces
from .thumbs import thumb_pixmap
from .video_view import to_qimage

PREVIEW_SIDE = 520  # the photo is shown at most this wide or high
CROP_PX = 72
PER_ROW = 6  # face buttons per row


def numbered_preview(photo: PhotoFaces, side: int = PREVIEW_SIDE) -> QPixmap:
    """The photo scaled to fit `side`, each face boxed and numbered as on its button."""
    image = photo.image
    h, w = image.shape[:2]
    scale = min(1.0, side / max(h, w))
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1.0 else image.copy()
    for i, face in enumerate(photo.faces, 1):
        x1, y1, x2, y2 = (round(v * scale) for v in face.box)
        colour = (60, 200, 60) if face.ok else (40, 160, 230)
        cv2.rectangle(small, (x1, y1), (x2, y2), colour, 2)
        cv2.putText(small, str(i), (x1 + 3, max(14, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    colour, 2, cv2.LINE_AA)
    return QPixmap.fromImage(to_qimage(small))


class FacePickDialog(QDialog):
    """One button per face (disabled, with the reason, when it cannot be enrolled) and
    "None of these". ``chosen(index)`` carries the face's index, or None for none."""

    chosen = Signal(object)

    def __init__(self, photo: PhotoFaces, name: str, remaining: int = 0, parent=None):
        super().__init__(parent)
        self.photo = photo
        self.setWindowTitle(f"Which face is {name}?")
        self._answered = False
        n = len(photo.faces)
        more = f" ({remaining} more photo{'s' if remaining != 1 else ''} to check after this)" \
            if remaining else ""
        self.question = QLabel(f"<b>{photo.path.name}</b> has {n} faces. Choose {name}'s face, "
                               f"or None of these to leave the photo out{more}.")
        self.question.setWordWrap(True)
        self.preview = QLabel()
        self.preview.setPixmap(numbered_preview(photo))
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.face_buttons: list[QPushButton] = []
        grid = QGridLayout()
        for i, face in enumerate(photo.faces):
            text = str(i + 1) if face.ok else f"{i + 1}: {face.reason}"
            button = QPushButton(QIcon(thumb_pixmap(face.crop, CROP_PX)), text)
            button.setIconSize(QSize(CROP_PX, CROP_PX))
            button.setEnabled(face.ok)
            button.setToolTip(f"Face {i + 1}" if face.ok
                              else f"Face {i + 1} cannot be enrolled: {face.reason}")
            button.clicked.connect(lambda _=False, i=i: self.choose(i))
            self.face_buttons.append(button)
            grid.addWidget(button, i // PER_ROW, i % PER_ROW)
        grid.setColumnStretch(PER_ROW, 1)
        self.none_button = QPushButton("None of these")
        self.none_button.clicked.connect(lambda: self.choose(None))
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addWidget(self.preview)
        layout.addLayout(grid)
        layout.addWidget(self.none_button, 0, Qt.AlignmentFlag.AlignRight)

    def choose(self, index: int | None) -> None:
        """Answer with face `index` (None: none of them) and close."""
        if not self._answered:
            self._answered = True
            self.chosen.emit(index)
        self.accept()

    def reject(self) -> None:  # Escape or the close button: none of these
        if not self._answered:
            self._answered = True
            self.chosen.emit(None)
        super().reject()
