"""Qt side of the live pipeline: worker-thread callbacks become signals on the UI thread."""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..attendance import AttendanceFault, AttendanceStore
from ..live.pipeline import LivePipeline
from ..live.recognise import FaceCapture, LiveConfig
from ..live.scene import NOT_RECOGNISED, RECOGNISED, Scene
from ..live.sources import SourceSpec

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine


class LiveController(QObject):
    """Owns the pipeline; the UI connects to its signals and never runs a model itself.

    Scenes are coalesced: if the UI has not painted the previous one yet, the newer replaces
    it, so a slow paint never builds a queue of stale frames.
    """

    sceneReady = Signal()  # read .take_scene()
    sourceEvent = Signal(object)  # SourceEvent
    captured = Signal(object)  # FaceCapture

    def __init__(self, engine: FaceEngine, gallery_factory, config: LiveConfig, parent=None,
                 engine_lock: threading.RLock | None = None, **reader_options):
        super().__init__(parent)
        self.engine = engine
        self.pipeline = LivePipeline(engine, gallery_factory, config, self._on_scene,
                                     self.sourceEvent.emit, engine_lock, **reader_options)
        self.spec: SourceSpec | None = None
        self._lock = threading.Lock()
        self._latest: Scene | None = None
        self.attendance: AttendanceLogger | None = None  # gets every scene when set

    @property
    def config(self) -> LiveConfig:
        return self.pipeline.config

    def start(self, spec: SourceSpec, reader=None) -> None:
        self.spec = spec
        self.pipeline.start(spec, reader)

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

    def choose_verify_face(self, track_id: int | None) -> None:
        """Verify the face of track `track_id` (None: the largest face)."""
        self.pipeline.recogniser.choose_verify_face(track_id)

    def capture(self, track_id: int | None) -> None:
        """Ask the worker for an enrolment capture; the answer comes as ``captured``."""
        self.pipeline.recogniser.request_capture(track_id, self._on_capture)

    def _on_capture(self, capture: FaceCapture) -> None:
        self.captured.emit(capture)

    def _on_scene(self, scene: Scene) -> None:
        attendance = self.attendance
        if attendance is not None:
            attendance.submit(scene)
        with self._lock:
            pending = self._latest is not None
            self._latest = scene
        if not pending:
            self.sceneReady.emit()


class AttendanceLogger(QObject):
    """Logs the faces of every scene to the attendance store, on its own thread.

    ``submit`` only queues (the pipeline's thread never waits on the disk). Recognised people
    go to the store on every batch, which logs each at most once per its window; an unknown
    face is counted once per track, when it has stayed unrecognised for ``unknown_after_s``.
    A write that fails (database locked, disk full) is reported through ``fault`` and tried
    again with the next scenes; nothing is lost while the person stays in view.
    """

    logged = Signal(object)  # Entry
    counted = Signal()  # an unknown face was counted
    fault = Signal(str)
    recovered = Signal()

    def __init__(self, open_store: Callable[[], AttendanceStore], unknown_after_s: float = 1.0,
                 parent=None):
        super().__init__(parent)
        self.open_store = open_store
        self.unknown_after_s = unknown_after_s
        self.store: AttendanceStore | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=1000)
        self._tracks: dict[int, list] = {}  # track id -> [first unknown time, last seen, done]
        self._unknown_due = 0  # unknown faces counted but not yet written
        self._faulty = False
        self._thread = threading.Thread(target=self._run, name="facelens-attendance",
                                        daemon=True)
        self._thread.start()

    def submit(self, scene: Scene) -> None:
        """Queue a scene's faces (never blocks; when the queue is full the scene is dropped)."""
        try:
            self._queue.put_nowait((scene.captured, scene.faces))
        except queue.Full:
            pass

    def close(self, timeout: float = 0.0) -> None:
        """Write what is queued, then stop; wait up to `timeout` seconds for that."""
        self._queue.put(None)
        if timeout:
            self._thread.join(timeout)

    def _run(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            stop = None in batch
            try:
                self._log([b for b in batch if b is not None])
            except (AttendanceFault, sqlite3.Error, OSError) as exc:
                self._faulty = True
                self.fault.emit(str(exc))
                time.sleep(0.5)  # let a locked database go before trying again
            else:
                if self._faulty:
                    self._faulty = False
                    self.recovered.emit()
        if self.store is not None:
            self.store.close()

    def _log(self, batch: list) -> None:
        if not batch:
            return
        people: dict[str, float] = {}
        for captured, faces in batch:
            for face in faces:
                track = self._tracks.setdefault(face.track_id, [None, captured, False])
                track[1] = captured
                if face.state == RECOGNISED:
                    people[face.name] = max(face.similarity or 0.0, people.get(face.name, 0.0))
                    track[2] = True  # a recognised track is never counted as unknown
                elif face.state == NOT_RECOGNISED and not track[2]:
                    track[0] = captured if track[0] is None else track[0]
                    if captured - track[0] >= self.unknown_after_s:
                        track[2] = True
                        self._unknown_due += 1
        newest = batch[-1][0]
        self._tracks = {k: t for k, t in self._tracks.items() if newest - t[1] < 60.0}
        if self.store is None:
            self.store = self.open_store()
        for name, similarity in people.items():
            entry = self.store.log(name, similarity, source="app")
            if entry is not None:
                self.logged.emit(entry)
        while self._unknown_due:
            self.store.log(None, None, source="app")
            self._unknown_due -= 1
            self.counted.emit()


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
