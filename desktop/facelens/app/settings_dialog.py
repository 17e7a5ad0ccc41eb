"""Settings: threshold (with its calibrated false-accept rate), detection, re-check, provider,
model pack and data folder."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from ..settings import Settings

PROVIDERS = [("Auto (CUDA if it loads, else CPU)", "auto"), ("CPU", "cpu"), ("CUDA", "cuda")]
PACKS = ["lite"]


def threshold_meaning(value: float, default: float, far: float | None) -> str:
    """What a threshold means, from the pack's calibration (measured at its default only)."""
    if far is None:
        base = f"calibrated default {default:.2f} (no false-accept rate recorded)"
    else:
        base = f"at the calibrated default {default:.2f} the false-accept rate was {far:.2%}"
    if abs(value - default) < 0.005:
        return base
    side = ("lower: more strangers accepted" if value < default
            else "higher: fewer strangers accepted, more people missed")
    return f"{side}; {base}"


class SettingsDialog(QDialog):
    """Edits a copy of :class:`Settings`; :meth:`result_settings` returns it."""

    def __init__(self, settings: Settings, default_threshold: float, far: float | None,
                 data_folder: str, provider_note: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.default, self.far = default_threshold, far
        value = settings.match_threshold(default_threshold)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(5, 100)  # thresholds.THRESHOLD_MIN-MAX
        self.slider.setValue(round(value * 100))
        self.slider_value = QLabel()
        self.meaning = QLabel()
        self.meaning.setWordWrap(True)
        self.reset = QPushButton("Use calibrated default")
        self.scale = QDoubleSpinBox()
        self.scale.setRange(0.2, 1.0)
        self.scale.setSingleStep(0.05)
        self.scale.setValue(settings.detect_scale)
        self.min_face = QSpinBox()
        self.min_face.setRange(16, 400)
        self.min_face.setSuffix(" px")
        self.min_face.setValue(settings.min_face)
        self.recheck = QSpinBox()
        self.recheck.setRange(1, 300)
        self.recheck.setSuffix(" frames")
        self.recheck.setValue(settings.recheck_frames)
        self.provider = QComboBox()
        for text, key in PROVIDERS:
            self.provider.addItem(text, key)
        self.provider.setCurrentIndex(max(0, self.provider.findData(settings.provider)))
        self.provider_note = QLabel(provider_note)
        self.provider_note.setWordWrap(True)
        self.provider_note.setStyleSheet("color: #b60;")
        self.pack = QComboBox()
        self.pack.addItems(sorted(set(PACKS) | {settings.model_pack}))
        self.pack.setCurrentText(settings.model_pack)
        self.folder = QLineEdit(data_folder)
        browse = QPushButton("Choose...")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder)
        folder_row.addWidget(browse)
        slider_row = QHBoxLayout()
        slider_row.addWidget(self.slider)
        slider_row.addWidget(self.slider_value)
        slider_row.addWidget(self.reset)
        form = QFormLayout(self)
        form.addRow("Match threshold", slider_row)
        form.addRow("", self.meaning)
        form.addRow("Detection scale", self.scale)
        form.addRow("Minimum face size", self.min_face)
        form.addRow("Re-check a face every", self.recheck)
        form.addRow("Provider", self.provider)
        form.addRow("", self.provider_note)
        form.addRow("Model pack", self.pack)
        folder_widget = QWidget()
        folder_widget.setLayout(folder_row)
        form.addRow("Data folder (next start)", folder_widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.slider.valueChanged.connect(self._show_threshold)
        self.reset.clicked.connect(lambda: self.slider.setValue(round(self.default * 100)))
        self._show_threshold()

    @property
    def threshold(self) -> float:
        return self.slider.value() / 100.0

    def _show_threshold(self) -> None:
        self.slider_value.setText(f"{self.threshold:.2f}")
        self.meaning.setText(threshold_meaning(self.threshold, self.default, self.far))

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Data folder", self.folder.text())
        if path:
            self.folder.setText(path)

    def result_settings(self) -> Settings:
        threshold = None if abs(self.threshold - self.default) < 0.005 else self.threshold
        return replace(self.settings, threshold=threshold, detect_scale=self.scale.value(),
                       min_face=self.min_face.value(), recheck_frames=self.recheck.value(),
                       provider=self.provider.currentData(), model_pack=self.pack.currentText())

    def data_folder(self) -> str:
        return self.folder.text().strip()
