"""Qt side of the live pipeline: worker-thread callbacks become signals on the UI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from ..live.pipeline import LivePipeline
from ..live.recognise import FaceCapture, LiveConfig
from ..live.scene import Scene
from ..live.sources import SourceSpec


class LiveController(QObject):
    """Owns the pipeline; the UI connects to its signals and never runs a model itself.

    Scenes are coalesced: if the UI has not painted the previous one yet, the newer replaces
    it, so a slow paint never builds a queue of stale frames.
    """

    sceneReady = Signal()  # read .take_scene()
    sourceEvent = Signal(object)  # SourceEvent
    captured = Signal(object)  # FaceCapture

    def __init__(self, engine, gallery_factory, config: LiveConfig, parent=None,
                 **reader_options):
        super().__init__(parent)
        self.engine = engine
        self.pipeline = LivePipeline(engine, gallery_factory, config, self._on_scene,
                                     self.sourceEvent.emit, **reader_options)
        self.spec: SourceSpec | None = None
        self._lock = threading.Lock()
        self._latest: Scene | None = None

    @property
    def config(self) -> LiveConfig:
        return self.pipeline.config

    def start(self, spec: SourceSpec) -> None:
        self.spec = spec
        self.pipeline.start(spec)

    def stop(self) -> None:
        self.pipeline.stop()

    def take_scene(self) -> Scene | None:
        with self._lock:
            scene, self._latest = self._latest, None
        return scene

    def gallery_changed(self) -> None:
        self.pipeline.recogniser.gallery_changed()

    def set_verify(self, name: str | None) -> None:
        self.pipeline.recogniser.set_verify(name)

    def capture(self, track_id: int | None) -> None:
        """Ask the worker for an enrolment capture; the answer comes as ``captured``."""
        self.pipeline.recogniser.request_capture(track_id, self._on_capture)

    def _on_capture(self, capture: FaceCapture) -> None:
        self.captured.emit(capture)

    def _on_scene(self, scene: Scene) -> None:
        with self._lock:
            pending = self._latest is not None
            self._latest = scene
        if not pending:
            self.sceneReady.emit()


class EngineLoader(QObject):
    """Loads (and on first use builds) the model pack on a thread, reporting progress."""

    progress = Signal(str, float)
    loaded = Signal(object)
    failed = Signal(str)

    def load(self, pack: str, provider: str) -> None:
        threading.Thread(target=self._run, args=(pack, provider), daemon=True,
                         name="facelens-engine-load").start()

    def _run(self, pack: str, provider: str) -> None:
        from ..engine.recognizer import FaceEngine

        try:
            engine = FaceEngine.load(pack=pack, provider=provider,
                                     progress=lambda m, f: self.progress.emit(str(m), float(f)))
        except Exception as exc:  # shown in the window; the app stays usable
            self.failed.emit(f"could not load model pack {pack!r}: {exc}")
            return
        self.loaded.emit(engine)
