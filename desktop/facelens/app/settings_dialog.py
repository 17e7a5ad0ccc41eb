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
    QVBoxLayout,
    QWidget,
)

from ..far_table import FarTable
from ..modelpack.facts import pack_facts
from ..modelpack.pack import recognition_packs
from ..settings import Settings
from .far_row import FarRow, openset_checks

PROVIDERS = [("Auto (CUDA if it loads, else CPU)", "auto"), ("CPU", "cpu"), ("CUDA", "cuda")]
PACKS = recognition_packs()  # the packs the engine can run (not download-only recipes)


def pack_text(name: str) -> str:
    """What the Settings dialog says about a pack (built, size, licence, cost, threshold)."""
    try:
        f = pack_facts(name)
    except Exception as exc:  # an unknown pack named in settings.json: say so, keep going
        return str(exc)
    cost = (f"about {f['embed_ms_per_face']:.0f} ms per face ({f['cost_measured_on']}), paid "
            "once per tracked face" if f["embed_ms_per_face"] is not None else "cost not measured")
    calib = (f"calibrated threshold {f['threshold']:.2f}: {f['far']:.2%} false accepts "
             f"(at most {f['far_upper95']:.2%})" if f["threshold"] is not None else
             "not calibrated")
    use = "commercial use allowed" if f["commercial_use"] else "non-commercial use only"
    built = "built" if f["built"] else "not built yet (built when chosen)"
    spoof = "" if f["antispoof"] else "; no anti-spoofing model (kiosk: temporal cue only)"
    return (f"{built}, {f['size_mb']} MB; {f['licence']} ({use}); {cost}; {calib}{spoof}. "
            "Switching re-embeds the gallery from its stored face crops.")


def threshold_meaning(value: float, default: float, far: float | None,
                      table: FarTable | None = None) -> str:
    """What a threshold means: with the pack's impostor table, the false-accept rate measured
    at `value` itself; without it, the calibration at the default only."""
    if table is not None:
        side = "" if abs(value - default) < 0.005 else (
            "; lower than the default: more strangers accepted" if value < default
            else "; higher than the default: fewer strangers accepted, more people missed")
        return (f"The false-accept rate at {value:.2f} is {table.describe(value)}{side}. "
                f"Calibrated default {default:.2f}: {table.far(default):.2%}. Rates are per "
                "comparison: with N people enrolled, a stranger is named about N times as "
                "often.")
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
                 data_folder: str, provider_note: str = "", parent=None,
                 far_table: FarTable | None = None, pack: str | None = None,
                 gallery_size: int | None = None, pack_refused: str = ""):
        """`pack_refused`: why the pack cannot be changed here (a central gallery), shown
        in place of the pack's description, with the choice disabled."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.default, self.far, self.far_table = default_threshold, far, far_table
        value = settings.match_threshold(default_threshold, pack, gallery_size)
        self.far_row = FarRow(settings, default_threshold, pack, gallery_size)
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
        self.pack_info = QLabel(pack_text(settings.model_pack))
        self.pack_info.setWordWrap(True)
        self.pack.currentTextChanged.connect(self._show_pack)
        if pack_refused:
            self.pack.setEnabled(False)
            self.pack.setToolTip(pack_refused)
            self.pack_info.setText(pack_refused)
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
        threshold_box = QWidget()  # slider and its meaning in one cell: the text never
        box = QVBoxLayout(threshold_box)  # overlaps the slider, however many lines it wraps to
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(slider_row)
        box.addWidget(self.meaning)
        self.meaning.setMinimumWidth(360)
        self.pack_info.setMinimumWidth(360)
        form = QFormLayout(self)
        form.addRow("Strangers named at most", self.far_row)
        form.addRow("Match threshold", threshold_box)
        form.addRow("Detection scale", self.scale)
        form.addRow("Minimum face size", self.min_face)
        form.addRow("Re-check a face every", self.recheck)
        form.addRow("Provider", self.provider)
        if provider_note:  # no empty row when there is nothing to say
            form.addRow("", self.provider_note)
        self.unknown_review, self.site_calibration = openset_checks(settings)
        form.addRow("Unknown faces", self.unknown_review)
        form.addRow("", self.site_calibration)
        form.addRow("Model pack", self.pack)
        form.addRow("", self.pack_info)
        folder_widget = QWidget()
        folder_widget.setLayout(folder_row)
        form.addRow("Data folder (next start)", folder_widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.slider.valueChanged.connect(self._slider_changed)
        self.reset.clicked.connect(self.far_row.set_raw)
        self.far_row.changed.connect(lambda t: self.slider.setValue(round(t * 100)))
        self.reset.clicked.connect(lambda: self.slider.setValue(round(self.default * 100)))
        self._show_threshold()

    @property
    def threshold(self) -> float:
        return self.slider.value() / 100.0

    def _show_threshold(self) -> None:
        self.slider_value.setText(f"{self.threshold:.2f}")
        point = self.far_row.show_point(self.threshold if self.far_row.far() is None
                                        else self.far_row.threshold())
        self.meaning.setText(point + "\n" + threshold_meaning(self.threshold, self.default,
                                                              self.far, self.far_table))
        self._fit(self.meaning)

    def _slider_changed(self, value: int) -> None:
        """A value the chosen rate does not give is a raw threshold (for experts)."""
        if self.far_row.far() is not None and value != round(self.far_row.threshold() * 100):
            self.far_row.set_raw()
        self._show_threshold()

    def _show_pack(self, name: str) -> None:
        self.pack_info.setText(pack_text(name))
        self._fit(self.pack_info)

    def _fit(self, label: QLabel) -> None:
        """Grow a wrapped label (and the dialog) so every line of its text shows: a form
        layout does not pass a label's height-for-width on to the window by itself."""
        width = max(label.width(), label.minimumWidth())
        needed = label.heightForWidth(width)
        if needed > label.minimumHeight():
            label.setMinimumHeight(needed)
        self.layout().activate()  # the form takes the taller text before it is painted
        self.resize(self.width(), max(self.height(), self.layout().minimumSize().height()))

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)  # the labels have their real width only now
        self._fit(self.meaning)
        self._fit(self.pack_info)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Data folder", self.folder.text())
        if path:
            self.folder.setText(path)

    def result_settings(self) -> Settings:
        threshold = None if abs(self.threshold - self.default) < 0.005 else self.threshold
        far = self.far_row.far()  # a chosen rate: the threshold follows the gallery
        return replace(self.settings, threshold=None if far is not None else threshold,
                       far=far, unknown_review=self.unknown_review.isChecked(),
                       site_calibration=self.site_calibration.isChecked(),
                       detect_scale=self.scale.value(),
                       min_face=self.min_face.value(), recheck_frames=self.recheck.value(),
                       provider=self.provider.currentData(), model_pack=self.pack.currentText())

    def data_folder(self) -> str:
        return self.folder.text().strip()
