"""The status bar: source, resolution, camera FPS, processed FPS, latency, provider, pack."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from ..live.scene import Scene

FIELDS = ("source", "resolution", "camera_fps", "processed_fps", "latency", "provider", "pack")


class LiveStatusBar(QStatusBar):
    """Permanent fields on the right; transient messages on the left."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.fields: dict[str, QLabel] = {}
        for key in FIELDS:
            label = QLabel("")
            label.setObjectName(f"status_{key}")
            self.fields[key] = label
            self.addPermanentWidget(label)
        self.set_source("no source")

    def text(self, key: str) -> str:
        return self.fields[key].text()

    def set_source(self, text: str) -> None:
        self.fields["source"].setText(f"Source: {text}")

    def set_engine(self, provider: str, pack: str, fell_back: bool = False) -> None:
        note = " (CUDA unavailable, fell back)" if fell_back else ""
        self.fields["provider"].setText(f"Provider: {provider}{note}")
        self.fields["provider"].setStyleSheet("color: #c60;" if fell_back else "")
        self.fields["pack"].setText(f"Pack: {pack}")

    def show_scene(self, scene: Scene) -> None:
        s = scene.stats
        self.fields["resolution"].setText(f"{scene.width}x{scene.height}")
        self.fields["camera_fps"].setText(f"Camera {s.camera_fps:.1f} FPS")
        self.fields["processed_fps"].setText(
            f"Processed {s.processed_fps:.1f} FPS (detect {s.analysed_fps:.0f}/s)")
        self.fields["latency"].setText(f"Latency {scene.latency_ms:.0f} ms")
