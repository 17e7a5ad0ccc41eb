"""The live pipeline: a capture thread and an inference thread, emitting a Scene per frame."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from .recognise import AnalysisJob, LiveConfig, Recogniser
from .scene import PipelineStats, Scene
from .sources import FrameReader, RateMeter, SourceEvent, SourceSpec

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine

SLIDESHOW_FPS = 5.0  # slower sources are stills: each frame is analysed before it is shown


class LivePipeline:
    """Reads a source on one thread and recognises the newest frame on another.

    ``on_scene(scene)`` and ``on_event(event)`` are called from the worker threads; the Qt app
    turns them into signals. Stale frames are never queued: the worker always takes the newest.
    """

    def __init__(self, engine: FaceEngine, gallery_factory: Callable[[], object | None],
                 config: LiveConfig,
                 on_scene: Callable[[Scene], None],
                 on_event: Callable[[SourceEvent], None] | None = None,
                 engine_lock: threading.RLock | None = None, lockstep: bool = False,
                 **reader_options):
        self.recogniser = Recogniser(engine, gallery_factory, config, engine_lock)
        # lockstep: every detect_every-th frame waits for the analyser and is always analysed
        # (for recorded video read as fast as possible: detection keeps pace with the frames)
        self.lockstep = lockstep
        self.on_scene = on_scene
        self.on_event = on_event or (lambda event: None)
        self.reader_options = reader_options
        self.reader: FrameReader | None = None
        self.frames_processed = 0
        self.analyses = 0  # detections run on the last source
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def config(self) -> LiveConfig:
        return self.recogniser.config

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, spec: SourceSpec, reader: FrameReader | None = None) -> None:
        """Open `spec` and start processing (stops any running source first). `reader`: one
        already reading `spec` (the window's preview) to carry on with instead."""
        self.stop()
        self._stop = threading.Event()
        self.frames_processed = 0
        if reader is not None:
            reader.on_event = self.on_event
        self.reader = reader or FrameReader(spec, self.on_event, **self.reader_options).start()
        self._thread = threading.Thread(target=self._run, args=(self.reader, self._stop),
                                        name="facelens-inference", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self.reader is not None:
            self.reader.stop(timeout)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the source ends and its last frame is processed; True if it did."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _run(self, reader: FrameReader, stop: threading.Event) -> None:
        analyser = Analyser(self.recogniser, self.on_event)
        last_id, offered, meter, latency = -1, -10**9, RateMeter(), 0.0
        try:
            while not stop.is_set():
                frame = reader.latest(last_id, timeout=0.25)
                if frame is None:
                    if reader.finished.is_set():
                        break
                    continue
                last_id = frame.frame_id
                self.frames_processed += 1
                stats = PipelineStats(reader.fps, meter.tick(), latency, reader.frames_read,
                                      self.frames_processed, analyser.meter.rate)
                if 0 < reader.source_fps < SLIDESHOW_FPS:  # stills: each is a new picture
                    self.recogniser.forget_tracks()
                    scene = self.recogniser.process(frame, stats)
                else:
                    scene, job = self.recogniser.label(frame, stats=stats)
                    if frame.frame_id - offered >= self.config.detect_every:
                        if self.lockstep:
                            analyser.wait_idle()
                        if analyser.offer(job):
                            offered = frame.frame_id
                latency = scene.latency_ms if latency == 0.0 \
                    else 0.8 * latency + 0.2 * scene.latency_ms
                self.on_scene(scene)
        finally:
            analyser.close()
            self.analyses = analyser.count
        if not stop.is_set():
            self.on_event(SourceEvent("stopped",
                                      "source stopped; choose another in the Source menu"))


class Analyser:
    """The analyser thread: takes one job at a time; offers while it is busy are refused."""

    def __init__(self, recogniser: Recogniser, on_event: Callable[[SourceEvent], None]):
        self.recogniser = recogniser
        self.on_event = on_event
        self.meter = RateMeter()
        self.count = 0
        self._cond = threading.Condition()
        self._job: AnalysisJob | None = None
        self._busy = False
        self._closed = False
        self._failed = False
        self._thread = threading.Thread(target=self._run, name="facelens-analyse", daemon=True)
        self._thread.start()

    def offer(self, job: AnalysisJob) -> bool:
        with self._cond:
            if self._busy or self._closed:
                return False
            self._job, self._busy = job, True
            self._cond.notify_all()
            return True

    def wait_idle(self) -> None:
        """Wait until the analyser has finished its job (if any)."""
        with self._cond:
            while self._busy and not self._closed:
                self._cond.wait(0.5)

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._job is None and not self._closed:
                    self._cond.wait()
                if self._job is None:  # closed with nothing left; a job offered just before
                    return  # close() is still run (it was lost when the source ended at once)
                job, self._job = self._job, None
            try:
                self.recogniser.analyse(job)
                self.meter.tick()
                self.count += 1
            except Exception as exc:  # a model error must not kill the live view
                if not self._failed:
                    traceback.print_exc()
                    self.on_event(SourceEvent("error", f"recognition failed: {exc}"))
                self._failed = True
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
