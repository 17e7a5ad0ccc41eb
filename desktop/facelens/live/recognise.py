"""One step of live recognition: detect, track, embed new or stale tracks, identify, label."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import cv2
import numpy as np

from .scene import (
    NOT_RECOGNISED,
    RECOGNISED,
    TOO_BLURRY,
    TOO_SMALL,
    PipelineStats,
    Scene,
    SceneFace,
    VerifyResult,
)
from .sources import Frame
from .tracker import IouTracker, Track


@dataclass
class LiveConfig:
    """Knobs of the live pipeline (the app fills them from Settings)."""

    threshold: float
    detect_scale: float = 0.5  # detection runs on the frame scaled by this
    min_face: int = 40  # full-frame pixels; smaller faces are marked "too small"
    recheck_frames: int = 15  # a judged track is embedded again after this many frames
    retry_frames: int = 3  # a track that could not be judged (blurry) is retried sooner
    detect_every: int = 1  # detect on every n-th frame, predict boxes in between
    verify_every: int = 3  # frames between 1:1 checks of the claimed person


@dataclass(frozen=True)
class FaceCapture:
    """A face picked in the live view for enrolment: quality verdict, embedding, thumbnail."""

    ok: bool
    reason: str | None
    embedding: np.ndarray | None = None  # float32 [dim]
    thumbnail: np.ndarray | None = None  # aligned 112x112 BGR crop
    track_id: int | None = None
    quality: object | None = None


def face_size(box: np.ndarray) -> float:
    """Side of a face box: the shorter of its width and height."""
    return float(min(box[2] - box[0], box[3] - box[1]))


def rescale_face(face, factor: float):
    """A copy of the engine's `face` with box and landmarks multiplied by `factor`."""
    box = np.asarray(face.box, np.float32) * factor
    lms = np.asarray(face.landmarks, np.float32) * factor
    if dataclasses.is_dataclass(face):
        return dataclasses.replace(face, box=box, landmarks=lms)
    return SimpleNamespace(box=box, landmarks=lms, score=getattr(face, "score", 1.0))


def quality_state(report) -> str | None:
    """Map an engine QualityReport to a live state: None when the face can be judged.

    A turned face is still identified live (its score is simply lower); only faces too small
    or too blurred to judge are marked instead of guessed.
    """
    reason = "" if report.ok else (report.reason or "").lower()
    if "small" in reason:
        return TOO_SMALL
    if "blur" in reason or "sharp" in reason:
        return TOO_BLURRY
    return None


class Recogniser:
    """Synchronous per-frame recognition; the worker thread calls :meth:`process`."""

    def __init__(self, engine, gallery_factory: Callable[[], object | None], config: LiveConfig,
                 engine_lock: threading.RLock | None = None):
        self.engine = engine
        self.gallery_factory = gallery_factory
        self.config = config
        self.lock = engine_lock or threading.RLock()  # align may run inside embed's lock
        self.tracker = IouTracker()
        self.gallery = None
        self._gallery_stale = True
        self._faces: dict[int, object] = {}  # track id -> engine Face in full-frame pixels
        self._index = 0
        self.verify_name: str | None = None
        self._verify: VerifyResult | None = None
        self._captures: list[tuple[int | None, Callable[[FaceCapture], None]]] = []
        self._captures_lock = threading.Lock()

    # -- requests from other threads -------------------------------------------------------
    def gallery_changed(self) -> None:
        """Reopen the gallery before the next frame and check every face again."""
        self._gallery_stale = True

    def set_verify(self, name: str | None) -> None:
        self.verify_name = name or None
        self._verify = None

    def request_capture(self, track_id: int | None,
                        callback: Callable[[FaceCapture], None]) -> None:
        """Capture track `track_id` (None: the largest face) on the next frame."""
        with self._captures_lock:
            self._captures.append((track_id, callback))

    # -- the frame step ------------------------------------------------------------------
    def process(self, frame: Frame, stats: PipelineStats | None = None,
                now: Callable[[], float] | None = None) -> Scene:
        now = now or time.monotonic
        if self._gallery_stale:
            self._gallery_stale = False
            self.gallery = self.gallery_factory()
            self.tracker.reset_scores()
        image = frame.image
        detected = self._index % max(1, self.config.detect_every) == 0
        tracks = self._detect(image) if detected else self.tracker.predict()
        if detected:
            self._check(image, tracks)
        self._serve_captures(image, tracks)
        if self.verify_name and detected:
            self._run_verify(image, tracks)
        faces = tuple(self._label(t) for t in tracks)
        self._index += 1
        h, w = image.shape[:2]
        return Scene(frame.frame_id, frame.captured, now(), w, h, faces, image,
                     self._verify if self.verify_name else None, stats or PipelineStats())

    def _detect(self, image: np.ndarray) -> list[Track]:
        scale = self.config.detect_scale
        small = image if scale == 1.0 else cv2.resize(
            image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        min_small = max(12, int(self.config.min_face * scale * 0.6))
        with self.lock:
            found = self.engine.detect(small, min_face=min_small)
        full = [rescale_face(f, 1.0 / scale) for f in found]
        boxes = np.array([f.box for f in full], np.float32).reshape(-1, 4)
        tracks = self.tracker.update(boxes, [f.landmarks for f in full])
        self._faces = {t.track_id: f for t, f in zip(tracks, full, strict=True)}
        return tracks

    def _due(self, track: Track) -> bool:
        if track.last_checked is None:
            return True
        wait = self.config.retry_frames if track.quality_state else self.config.recheck_frames
        return self._index - track.last_checked >= wait

    def _check(self, image: np.ndarray, tracks: list[Track]) -> None:
        """Embed tracks that are new or due for a re-check, in one batch; update their scores."""
        todo, crops = [], []
        for track in tracks:
            if face_size(track.box) < self.config.min_face:
                track.quality_state = TOO_SMALL
                track.last_checked = None  # check as soon as it is big enough
                continue
            if not self._due(track):
                continue
            face = self._faces[track.track_id]
            with self.lock:
                report = self.engine.quality(image, face)
            track.last_checked = self._index
            track.quality_state = quality_state(report)
            if track.quality_state is None:
                todo.append(track)
                crops.append(self._align(image, face))
        if not crops:
            return
        with self.lock:
            embs = self.engine.embed(crops)
        if self.gallery is None:
            for track in todo:
                track.smoother.add(None, 0.0)
            return
        for track, match in zip(todo, self.gallery.identify(embs, -1.0), strict=True):
            track.smoother.add(match.name, match.similarity)

    def _align(self, image: np.ndarray, face) -> np.ndarray:
        with self.lock:
            return self.engine.align(image, face.landmarks)

    def _label(self, track: Track) -> SceneFace:
        box = tuple(float(v) for v in track.box)
        if track.quality_state and not len(track.smoother):
            return SceneFace(track.track_id, box, track.quality_state)
        if track.quality_state == TOO_SMALL:
            return SceneFace(track.track_id, box, TOO_SMALL)
        name, score = track.smoother.decide(self.config.threshold)
        if name is None:
            return SceneFace(track.track_id, box, NOT_RECOGNISED, None, score)
        return SceneFace(track.track_id, box, RECOGNISED, name, score)

    def _largest(self, tracks: list[Track]) -> Track | None:
        usable = [t for t in tracks if t.track_id in self._faces]
        return max(usable, key=lambda t: face_size(t.box)) if usable else None

    def _run_verify(self, image: np.ndarray, tracks: list[Track]) -> None:
        if self._verify is not None and self._index % self.config.verify_every:
            return
        threshold = self.config.threshold
        track = self._largest(tracks)
        if track is None or face_size(track.box) < self.config.min_face or self.gallery is None:
            self._verify = VerifyResult(self.verify_name, None, threshold)
            return
        with self.lock:
            emb = self.engine.embed([self._align(image, self._faces[track.track_id])])[0]
        match = self.gallery.verify(self.verify_name, emb, threshold)
        self._verify = VerifyResult(self.verify_name, float(match.similarity), threshold,
                                    track.track_id)

    def _serve_captures(self, image: np.ndarray, tracks: list[Track]) -> None:
        with self._captures_lock:
            pending, self._captures = self._captures, []
        for track_id, callback in pending:
            callback(self.capture(image, tracks, track_id))

    def capture(self, image: np.ndarray, tracks: list[Track],
                track_id: int | None) -> FaceCapture:
        """Quality-check and embed one face of the current frame for enrolment."""
        track = next((t for t in tracks if t.track_id == track_id), None) \
            if track_id is not None else self._largest(tracks)
        if track is None or track.track_id not in self._faces:
            return FaceCapture(False, "no face in view" if track_id is None
                               else "that face is no longer in view")
        face = self._faces[track.track_id]
        with self.lock:
            report = self.engine.quality(image, face)
        if not report.ok:
            return FaceCapture(False, report.reason or "quality too low",
                               track_id=track.track_id, quality=report)
        crop = self._align(image, face)
        with self.lock:
            emb = self.engine.embed([crop])[0]
        return FaceCapture(True, None, emb, crop, track.track_id, report)
