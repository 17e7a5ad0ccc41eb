"""The live style transfer panel: a gallery of styles over a live feed, with save and record.

Embedding: call ``panel.submit_frame(bgr, labels)`` from any thread (the newest frame wins),
connect to ``panel.styled`` for styled BGR frames, and read or set ``panel.show_labels``.
Styling runs on the engine's worker thread; this widget only shows what it emits.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..paths import data_home
from ..style.errors import StyleError
from ..style.live import (
    FrameResult,
    LiveStyler,
    default_workers,
    style_budget_ms,
    threads_per_worker,
)
from ..style.models import SessionCache
from ..style.overlay import Label
from ..style.record import Recorder, save_png
from ..style.render import AUTO, StyleRenderer
from ..style.styles import (
    IMAGE_SUFFIXES,
    Style,
    StyleLibrary,
    bgr_to_rgb01,
    blend,
    rgb01_to_bgr,
)
from .video_view import to_qimage

# Nothing below 320x240: smaller styled frames turn faces to mush when scaled up.
PROCESS_SIZES = [("Auto (320x240 or more)", AUTO), ("320x240", (320, 240)),
                 ("480x360", (480, 360)), ("640x480", (640, 480)), ("Full frame", None)]
DEFAULT_SIZE_INDEX = 0
SMOOTHING = 0.6
THUMB = 80


def sample_image() -> np.ndarray:
    """The thumbnail sample: the face of scikit-image's astronaut photo, BGR."""
    from skimage import data

    rgb = np.ascontiguousarray(data.astronaut()[10:266, 90:346])
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


class StylePanel(QWidget):
    """Live neural style transfer over the camera feed."""

    styled = Signal(np.ndarray)  # styled BGR frame, same size as the submitted one
    _result = Signal(object, object)  # (bgr, FrameResult) from the worker thread
    _done = Signal(object, object)  # (callback, result or exception) from a background job
    _failed = Signal(str)  # styling error from the worker thread

    def __init__(self, home: str | Path | None = None, provider: str = "auto",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.home = data_home(home)
        workers = default_workers()
        cache = SessionCache(provider, threads_per_worker(workers))
        self.library = StyleLibrary(cache, self.home / "styles")
        self.renderer = StyleRenderer(None, auto_budget_ms=style_budget_ms(workers), detail=True)
        self.live = LiveStyler(self.renderer, lambda bgr, info: self._result.emit(bgr, info),
                               workers, lambda exc: self._failed.emit(f"Styling failed: {exc}"))
        self.last_styled: np.ndarray | None = None
        self.last_info: FrameResult | None = None
        self._last_input: tuple[np.ndarray, Sequence[Label] | None] | None = None
        self._styles: dict[str, Style] = {}
        self._times: deque[float] = deque(maxlen=30)
        self._recorder: Recorder | None = None
        self._jobs: list[threading.Thread] = []
        self._result.connect(self._on_result)
        self._failed.connect(lambda text: self.status.setText(text))
        self._done.connect(lambda cb, res: cb(res))
        self.setAcceptDrops(True)
        app = QCoreApplication.instance()
        if app is not None:  # embedded panels get no closeEvent: finish recordings on quit
            app.aboutToQuit.connect(self.shutdown)
        self._build()
        self._load_gallery()

    # ---- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        self.preview = QLabel("Waiting for frames...")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(320, 240)
        self.preview.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.preview.setStyleSheet("background: #111; color: #aaa;")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        left = QVBoxLayout()
        left.addWidget(self.preview, 1)
        left.addWidget(self.status)

        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(THUMB, THUMB))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setSpacing(4)
        self.gallery.setMinimumWidth(3 * (THUMB + 24))
        self.gallery.currentItemChanged.connect(lambda *_: self._apply())
        self.picture_button = QPushButton("Style from picture...")
        self.picture_button.clicked.connect(self._choose_picture)

        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(100)
        self.strength.valueChanged.connect(lambda *_: self._apply())
        self.blend_with = QComboBox()
        self.blend_with.addItem("(none)", None)
        self.blend_with.currentIndexChanged.connect(lambda *_: self._apply())
        self.blend_amount = QSlider(Qt.Orientation.Horizontal)
        self.blend_amount.setRange(0, 100)
        self.blend_amount.setValue(50)
        self.blend_amount.valueChanged.connect(lambda *_: self._apply())
        self.size_box = QComboBox()
        for text, size in PROCESS_SIZES:
            self.size_box.addItem(text, size)
        self.size_box.setCurrentIndex(DEFAULT_SIZE_INDEX)
        self.size_box.currentIndexChanged.connect(lambda *_: self._apply())
        self.labels_box = QCheckBox("Show recognition labels")
        self.labels_box.setChecked(True)
        self.labels_box.toggled.connect(self._labels_toggled)
        self.detail_box = QCheckBox("Sharp detail when scaled up")
        self.detail_box.setToolTip("Put back the camera picture's fine lines (eyes, mouth) that "
                                   "styling at a smaller size loses")
        self.detail_box.setChecked(True)
        self.detail_box.toggled.connect(lambda *_: self._apply())
        self.smooth_box = QCheckBox("Temporal smoothing (less flicker)")
        self.smooth_box.toggled.connect(lambda *_: self._apply())
        self.snapshot_button = QPushButton("Snapshot PNG")
        self.snapshot_button.clicked.connect(self._snapshot_clicked)
        self.record_button = QPushButton("Record MP4")
        self.record_button.setCheckable(True)
        self.record_button.toggled.connect(self._record_toggled)
        self.refused_label = QLabel("")
        self.refused_label.setWordWrap(True)
        self.refused_label.setStyleSheet("color: #b00;")

        form = QFormLayout()
        form.addRow("Strength", self.strength)
        form.addRow("Blend with", self.blend_with)
        form.addRow("Blend", self.blend_amount)
        form.addRow("Process at", self.size_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.snapshot_button)
        buttons.addWidget(self.record_button)
        right = QVBoxLayout()
        right.addWidget(QLabel("Styles"))
        right.addWidget(self.gallery, 1)
        right.addWidget(self.picture_button)
        right.addLayout(form)
        right.addWidget(self.labels_box)
        right.addWidget(self.detail_box)
        right.addWidget(self.smooth_box)
        right.addLayout(buttons)
        right.addWidget(self.refused_label)
        top = QHBoxLayout(self)
        top.addLayout(left, 3)
        top.addLayout(right, 2)

    # ---- gallery ------------------------------------------------------------------------

    def _add_style(self, key: str, style: Style, tooltip: str = "") -> QListWidgetItem:
        self._styles[key] = style
        item = QListWidgetItem(style.name)
        item.setData(Qt.ItemDataRole.UserRole, key)
        item.setToolTip(tooltip or style.name)
        item.setSizeHint(QSize(THUMB + 20, THUMB + 28))
        self.gallery.addItem(item)
        self.blend_with.addItem(style.name, key)
        return item

    def _load_gallery(self) -> None:
        for i, style in enumerate(self.library.builtin_all()):
            self._add_style(f"builtin:{i}", style, f"Built-in style {i} (multistyle26 network)")
        self.gallery.setCurrentRow(0)
        self._render_thumbs(list(self._styles))
        self.user_styles_loaded = False
        self._background(lambda: self.library.user_styles(rescan=True), self._add_user_styles)

    def _add_user_styles(self, result: object) -> None:
        """User models are validated (with a trial run) off the UI thread, then added."""
        self.user_styles_loaded = True
        if isinstance(result, Exception):
            self.refused_label.setText(f"User styles could not be read: {result}")
            return
        keys = []
        for name, style in result.items():
            keys.append(f"user:{name}")
            self._add_style(keys[-1], style, f"User model {name}, licence {style.licence}")
        if self.library.refused:
            self.refused_label.setText("Refused user styles:\n" + "\n".join(
                reason for _, reason in self.library.refused))
        if keys:
            self._render_thumbs(keys)

    def _render_thumbs(self, keys: list[str]) -> None:
        """Thumbnails are styled off the UI thread and set as they arrive."""
        styles = [(k, self._styles[k]) for k in keys]

        def work() -> list[tuple[str, np.ndarray]]:
            rgb = bgr_to_rgb01(cv2.resize(sample_image(), (THUMB, THUMB)))
            return [(key, rgb01_to_bgr(style.apply(rgb))) for key, style in styles]

        self._background(work, self._set_thumbs)

    def _set_thumbs(self, result: list[tuple[str, np.ndarray]] | Exception) -> None:
        if isinstance(result, Exception):
            self.status.setText(f"Thumbnails failed: {result}")
            return
        icons = {key: QIcon(QPixmap.fromImage(to_qimage(bgr))) for key, bgr in result}
        for row in range(self.gallery.count()):
            item = self.gallery.item(row)
            icon = icons.get(item.data(Qt.ItemDataRole.UserRole))
            if icon is not None:
                item.setIcon(icon)

    def thumbnails_ready(self) -> bool:
        """True when every style in the gallery has its thumbnail."""
        return all(not self.gallery.item(r).icon().isNull() for r in range(self.gallery.count()))

    def _background(self, fn: Callable[[], object], then: Callable[[object], None]) -> None:
        def run() -> None:
            try:
                result = fn()
            except Exception as exc:  # shown to the user by `then`
                result = exc
            try:
                self._done.emit(then, result)
            except RuntimeError:  # the panel was deleted meanwhile
                pass

        thread = threading.Thread(target=run, daemon=True)
        self._jobs = [t for t in self._jobs if t.is_alive()] + [thread]
        thread.start()

    # ---- public API -----------------------------------------------------------------------

    def style_keys(self) -> list[str]:
        """Keys of the styles in the gallery (``builtin:N``, ``user:NAME``, ``picture:PATH``)."""
        return list(self._styles)

    def select_style(self, key: str) -> None:
        """Make `key` the current style."""
        for row in range(self.gallery.count()):
            if self.gallery.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self.gallery.setCurrentRow(row)
                return
        raise KeyError(key)

    def set_strength(self, value: float) -> None:
        """0 = the original frame, 1 = full style."""
        self.strength.setValue(round(float(np.clip(value, 0, 1)) * 100))

    def set_blend(self, key: str | None, amount: float = 0.5) -> None:
        """Blend the current style with `key` (None: no blend); `amount` is its share."""
        self.blend_with.setCurrentIndex(max(0, self.blend_with.findData(key)))
        self.blend_amount.setValue(round(float(np.clip(amount, 0, 1)) * 100))

    def set_process_size(self, size: tuple[int, int] | str | None) -> None:
        """Style frames scaled to fit `size` (None: full frame, "auto": chosen by speed)."""
        index = self.size_box.findData(size)
        if index < 0:
            self.size_box.addItem(f"{size[0]}x{size[1]}", size)
            index = self.size_box.count() - 1
        self.size_box.setCurrentIndex(index)

    def set_smoothing(self, on: bool) -> None:
        """Turn temporal smoothing on or off."""
        self.smooth_box.setChecked(on)

    def add_picture_style(self, path: str | Path,
                          then: Callable[[str], None] | None = None) -> None:
        """Turn a picture into a style (in the background), add it and select it."""
        path = Path(path)
        self.status.setText(f"Reading style from {path.name}...")

        def done(result: object) -> None:
            if isinstance(result, Exception):
                self.status.setText(f"Cannot use {path.name} as a style: {result}")
                return
            key = f"picture:{path}"
            if key not in self._styles:
                self._add_style(key, result, f"Style from picture {path}")
                self._render_thumbs([key])
            self.select_style(key)
            if then:
                then(key)

        self._background(lambda: self.library.from_picture(path), done)

    @property
    def show_labels(self) -> bool:
        """Whether recognition labels are drawn over the styled video."""
        return self.labels_box.isChecked()

    @show_labels.setter
    def show_labels(self, value: bool) -> None:
        self.labels_box.setChecked(bool(value))

    def submit_frame(self, bgr: np.ndarray, labels: Sequence[Label] | None = None) -> None:
        """Style `bgr` (thread-safe; a frame still waiting is dropped for the newest)."""
        self._last_input = (bgr, labels)
        self.live.submit(bgr, labels)

    def snapshot(self, path: str | Path | None = None) -> Path:
        """Save the last styled frame as PNG (default: ``<home>/snapshots``)."""
        if self.last_styled is None:
            raise StyleError("no styled frame yet: start the camera first")
        path = Path(path) if path else self.home / "snapshots" / f"style-{_stamp()}.png"
        save_png(path, self.last_styled)
        self.status.setText(f"Snapshot saved: {path}")
        return path

    def start_recording(self, path: str | Path | None = None) -> Path:
        """Record styled frames to MP4 (default: ``<home>/recordings``) until stopped."""
        path = Path(path) if path else self.home / "recordings" / f"style-{_stamp()}.mp4"
        self._recorder = Recorder(path, self.displayed_fps() or 15.0)
        if not self.record_button.isChecked():
            self.record_button.blockSignals(True)
            self.record_button.setChecked(True)
            self.record_button.blockSignals(False)
        return path

    def stop_recording(self) -> Path | None:
        """Finish the recording; returns its path (None when not recording)."""
        rec, self._recorder = self._recorder, None
        self.record_button.blockSignals(True)
        self.record_button.setChecked(False)
        self.record_button.blockSignals(False)
        if rec is None:
            return None
        path = rec.close()
        self.status.setText(f"Recording saved: {path} ({rec.frames} frames)")
        return path

    def displayed_fps(self) -> float:
        """Styled frames shown per second over the last 30."""
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(1e-6, self._times[-1] - self._times[0])

    def shutdown(self) -> None:
        """Stop the workers and background jobs and finish any recording."""
        self.stop_recording()
        self.live.stop()
        for job in self._jobs:
            job.join(10.0)

    # ---- internals ------------------------------------------------------------------------

    def _current_style(self) -> Style | None:
        item = self.gallery.currentItem()
        if item is None:
            return None
        style = self._styles[item.data(Qt.ItemDataRole.UserRole)]
        other = self.blend_with.currentData()
        if other is not None:
            style = blend(style, self._styles[other], self.blend_amount.value() / 100)
        return style

    def _apply(self) -> None:
        self.renderer.configure(style=self._current_style(),
                                strength=self.strength.value() / 100,
                                process_size=self.size_box.currentData(),
                                detail=self.detail_box.isChecked(),
                                smoothing=SMOOTHING if self.smooth_box.isChecked() else 0.0)
        if self._last_input is not None:
            self.live.submit(*self._last_input)  # show the change even on a still frame

    def _labels_toggled(self, on: bool) -> None:
        self.live.show_labels = on
        if self._last_input is not None:
            self.live.submit(*self._last_input)

    @Slot(object, object)
    def _on_result(self, bgr: np.ndarray, info: FrameResult) -> None:
        self.last_styled, self.last_info = bgr, info
        self._times.append(time.perf_counter())
        if self._recorder is not None:
            try:
                self._recorder.write(bgr)
            except StyleError as exc:
                self._recorder = None
                self.status.setText(str(exc))
        pix = QPixmap.fromImage(to_qimage(bgr)).scaled(
            self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation)
        self.preview.setPixmap(pix)
        rec = "  ● REC" if self._recorder is not None else ""
        provider = self.library.cache.provider_used()
        self.status.setText(status_text(provider, info, (bgr.shape[1], bgr.shape[0]),
                                        self.renderer.detail, self.displayed_fps()) + rec)
        self.styled.emit(bgr)

    def _choose_picture(self) -> None:
        exts = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, "Style from picture", "", f"Images ({exts})")
        if path:
            self.add_picture_style(path)

    def _snapshot_clicked(self) -> None:
        try:
            self.snapshot()
        except StyleError as exc:
            self.status.setText(str(exc))

    def _record_toggled(self, on: bool) -> None:
        if on:
            path = self.start_recording()
            self.status.setText(f"Recording to {path}")
        else:
            self.stop_recording()

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if _dropped_picture(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt API)
        path = _dropped_picture(event.mimeData())
        if path is not None:
            self.add_picture_style(path)
            event.acceptProposedAction()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.shutdown()
        super().closeEvent(event)


def status_text(provider: str, info: FrameResult, shown: tuple[int, int], detail: bool,
                fps: float) -> str:
    """The line under the picture: where and at what size frames are styled, how fast."""
    size = f"styled at {info.size[0]}x{info.size[1]}"
    if info.size != shown:
        size += f", shown at {shown[0]}x{shown[1]}" + (" with detail" if detail else "")
    return (f"{provider} | {size} in {info.style_ms:.0f} ms | latency {info.latency_ms:.0f} ms"
            f" | {fps:.1f} FPS shown")


def _dropped_picture(mime) -> Path | None:
    for url in mime.urls() if mime.hasUrls() else []:
        path = Path(url.toLocalFile())
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            return path
    return None


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")
