"""Verify (1:1): pick the claimed person; the face highlighted in the video (the largest,
or the one clicked) is checked against them."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from ..live.scene import VerifyResult

NOBODY = "(choose the claimed person)"


class VerifyPanel(QWidget):
    """Shows MATCH / NO MATCH in large letters with the similarity and the threshold."""

    claimChanged = Signal(object)  # str or None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result: VerifyResult | None = None
        self.person = QComboBox()
        self.verdict = QLabel("—")
        self.detail = QLabel("Pick who the person in front of the camera claims to be.")
        self.detail.setWordWrap(True)
        self.hint = QLabel("The face outlined \u201cVerifying\u201d in the video is checked "
                           "(the largest at first). Click another face to check it instead.")
        self.hint.setWordWrap(True)
        font = QFont(self.font())
        font.setPointSize(28)
        font.setBold(True)
        self.verdict.setFont(font)
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.verdict.setMinimumHeight(80)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Claimed identity"))
        layout.addWidget(self.person)
        layout.addWidget(self.verdict)
        layout.addWidget(self.detail)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        self.person.currentIndexChanged.connect(self._claim_changed)
        self.set_names([])

    @property
    def claimed(self) -> str | None:
        return self.person.currentData()

    def set_names(self, names: list[str]) -> None:
        keep = self.claimed
        self.person.blockSignals(True)
        self.person.clear()
        self.person.addItem(NOBODY, None)
        for name in names:
            self.person.addItem(name, name)
        index = self.person.findData(keep) if keep in names else 0
        self.person.setCurrentIndex(max(0, index))
        self.person.blockSignals(False)
        if self.claimed != keep:
            self._claim_changed()

    def claim(self, name: str | None) -> None:
        self.person.setCurrentIndex(max(0, self.person.findData(name)) if name else 0)

    def _claim_changed(self) -> None:
        self.result = None
        self.verdict.setText("—")
        self.verdict.setStyleSheet("")
        self.claimChanged.emit(self.claimed)

    def show_result(self, result: VerifyResult | None) -> None:
        """Show `result` (called for every frame: an unchanged result is not painted again)."""
        if result is None or result.claimed != self.claimed or result == self.result:
            return
        self.result = result
        if result.similarity is None:
            self.verdict.setText("No face")
            self.verdict.setStyleSheet("color: #b80;")
            self.detail.setText("No face large enough to check is in view.")
            return
        self.verdict.setText("MATCH" if result.match else "NO MATCH")
        self.verdict.setStyleSheet("color: #1a4;" if result.match else "color: #c22;")
        self.detail.setText(f"{result.claimed}: similarity {result.similarity:.2f}, "
                            f"threshold {result.threshold:.2f}")
