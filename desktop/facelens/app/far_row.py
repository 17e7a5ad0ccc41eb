"""Settings row: how often a stranger may be named (the operating point), and what it costs.

Choosing a rate sets the match threshold from the pack's impostor tail and the gallery size;
"raw threshold" leaves the slider to experts. `show_point` says the threshold in force, the
expected false-accept rate per identification and the miss rate on the calibration set (the
dialog shows it above the slider's own text).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QVBoxLayout, QWidget

from ..settings import Settings
from ..thresholds import resolve_operating_point

RATES = ((1e-2, "1 in 100 identifications"), (1e-3, "1 in 1,000 identifications"),
         (1e-4, "1 in 10,000 identifications"), (1e-5, "1 in 100,000 identifications"))
RAW = "raw threshold (experts): the slider below"


class FarRow(QWidget):
    """A rate chooser and the operating point it gives; `changed` carries the threshold."""

    changed = Signal(float)

    def __init__(self, settings: Settings, default_threshold: float, pack: str | None,
                 gallery_size: int | None, parent=None):
        super().__init__(parent)
        self.settings, self.default = settings, default_threshold
        self.pack, self.gallery_size = pack, max(int(gallery_size or 0), 1)
        self.choice = QComboBox()
        for rate, text in RATES:
            self.choice.addItem(text, rate)
        if settings.far is not None and all(abs(settings.far - r) > 1e-12 for r, _ in RATES):
            self.choice.addItem(f"1 in {1 / settings.far:,.0f} identifications", settings.far)
        self.choice.addItem(RAW, None)
        self.text = ""  # the operating point in words; the dialog shows it under the slider
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.choice)
        start = None if settings.threshold is not None else settings.far
        self.choice.setCurrentIndex(max(0, self.choice.findData(start)))
        self.choice.currentIndexChanged.connect(self._chosen)

    def far(self) -> float | None:
        """The chosen rate, or None for a raw threshold."""
        return self.choice.currentData()

    def threshold(self) -> float:
        """The threshold the chosen rate gives over this gallery."""
        point = resolve_operating_point(
            self.default, replace(self.settings, threshold=None, far=self.far()),
            pack=self.pack, gallery_size=self.gallery_size)
        return point.threshold

    def set_raw(self) -> None:
        """The user moved the slider: a raw threshold from now on."""
        self.choice.blockSignals(True)
        self.choice.setCurrentIndex(self.choice.findData(None))
        self.choice.blockSignals(False)

    def show_point(self, threshold: float) -> str:
        """`threshold` over this gallery in words (its rate and miss rate, where measured)."""
        raw = self.far() is None
        point = resolve_operating_point(
            self.default, replace(self.settings, threshold=threshold if raw else None,
                                  far=self.far()),
            pack=self.pack, gallery_size=self.gallery_size)
        if point.fpir != point.fpir:  # NaN: the pack has no measured impostor tail
            self.text = (f"In force: threshold {point.threshold:.3f} (this pack's impostor "
                         "scores are not measured: the rate per identification is not known).")
        else:
            self.text = f"In force: {point.describe()}."
        return self.text

    def _chosen(self) -> None:
        if self.far() is not None:
            self.changed.emit(self.threshold())


def openset_checks(settings: Settings) -> tuple[QCheckBox, QCheckBox]:
    """The two opt-ins (both off by default): keep unknown faces for review; calibrate the
    operating point from the site's unknown faces (embeddings only)."""
    review = QCheckBox("Keep faces never recognised for review (best crop per track)")
    review.setChecked(settings.unknown_review)
    site = QCheckBox("Site calibration: keep their embeddings (not images) for the false-accept "
                     "rate")
    site.setChecked(settings.site_calibration)
    return review, site
