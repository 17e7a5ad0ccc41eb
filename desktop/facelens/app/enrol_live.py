"""Enrol from the live view: the picked face, its quality verdict, and a name."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from ..live.recognise import FaceCapture
from .thumbs import thumb_pixmap


def quality_text(capture: FaceCapture) -> str:
    q = capture.quality
    if q is None:
        return ""
    return f"size {q.size:.0f} px · sharpness {q.sharpness:.0f} · frontal {q.frontal:.2f}"


class EnrolLiveDialog(QDialog):
    """Shows the captured face; OK enrols it under the typed (or chosen) name."""

    retry = Signal()  # capture again (the face was not good enough)
    enrolRequested = Signal(str, object)  # name, FaceCapture

    def __init__(self, capture: FaceCapture, names: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Enrol face")
        self.capture = capture
        self.picture = QLabel()
        self.verdict = QLabel()
        self.details = QLabel()
        self.name_box = QComboBox()
        self.name_box.setEditable(True)
        self.name_box.addItems(names)
        self.name_box.setCurrentText("")
        self.name_box.lineEdit().setPlaceholderText("Name (new or existing person)")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.retry_button = QPushButton("Capture again")
        self.buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.retry_button.clicked.connect(self.retry.emit)
        self.name_box.editTextChanged.connect(self._update_ok)
        form = QFormLayout()
        form.addRow("Name", self.name_box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture)
        layout.addWidget(self.verdict)
        layout.addWidget(self.details)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.set_capture(capture)

    def set_capture(self, capture: FaceCapture) -> None:
        self.capture = capture
        self.picture.setPixmap(thumb_pixmap(capture.thumbnail, 112))
        if capture.ok:
            self.verdict.setText("<b style='color:#2a2'>Good enough to enrol</b>")
        else:
            self.verdict.setText(f"<b style='color:#c33'>Cannot enrol: {capture.reason}</b>")
        self.details.setText(quality_text(capture))
        self._update_ok()

    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self.capture.ok and bool(self.name_box.currentText().strip()))

    def _accept(self) -> None:
        name = self.name_box.currentText().strip()
        if self.capture.ok and name:
            self.enrolRequested.emit(name, self.capture)
            self.accept()
