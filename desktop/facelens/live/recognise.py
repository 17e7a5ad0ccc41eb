"""Live recognition in two halves: a cheap per-frame labeller and an expensive analyser.

``label(frame)`` follows every track to the new frame by template matching and emits the
scene with each track's current label; it runs on every frame. ``analyse(job)`` detects faces
on a downscaled frame, reconciles them with the tracks, and embeds faces whose track is new or
due for a re-check (one batch). Each track's identity is the mean of its last few embeddings
(single crops jitter with the landmarks); the gallery's answer for it feeds the track's
smoother. A track not yet named is checked again at every detection until that pool is full,
and judged on its newest pool alone (it supersedes the smaller pools before it).
The pipeline runs the two on separate threads; :meth:`Recogniser.process` runs both in turn.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..engine.faces import Face, box_size
from ..errors import FaceLensError
from .follow import cut_template, follow_track, small_grey, steady_size
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
from .tracker import POOL, IouTracker, Track, pooled

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine

FOLLOW_SCALE = 0.5


@dataclass
class LiveConfig:
    """Knobs of the live pipeline (the app fills them from Settings)."""

    threshold: float
    detect_scale: float = 0.5  # detection runs on the frame scaled by this
    min_face: int = 40  # full-frame pixels; smaller faces are marked "too small"
    recheck_frames: int = 15  # a judged track is embedded again after this many frames
    retry_frames: int = 3  # a track that could not be judged (blurry), or is not yet named
    # and has fewer than POOL pooled crops, is checked again this soon
    detect_every: int = 4  # frames between detections (at most; slower if detection is slow)
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


@dataclass
class AnalysisJob:
    """A frame handed to the analyser, with its small grey copy and the track boxes on it."""

    frame: Frame
    grey: np.ndarray
    boxes: dict[int, np.ndarray]


def rescale_face(face: Face, factor: float) -> Face:
    """A copy of the engine's `face` with box and landmarks multiplied by `factor`."""
    return dataclasses.replace(face, box=np.asarray(face.box, np.float32) * factor,
                               landmarks=np.asarray(face.landmarks, np.float32) * factor)


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
    """Tracks, labels and recognises faces; thread-safe between one labeller and one analyser."""

    def __init__(self, engine: FaceEngine, gallery_factory: Callable[[], object | None],
                 config: LiveConfig,
                 engine_lock: threading.RLock | None = None):
        self.engine = engine
        self.gallery_factory = gallery_factory
        self.config = config
        self.lock = engine_lock or threading.RLock()  # engine calls (shared with other users)
        self._state = threading.RLock()  # tracker and tracks
        self.tracker = IouTracker(max_misses=3)
        self.gallery = None
        self._gallery_stale = True
        self.verify_name: str | None = None
        self.verify_track: int | None = None  # the face chosen for verify (None: the largest)
        self._verify: VerifyResult | None = None
        self._last_verify = -10**9
        self._captures: list[tuple[int | None, Callable[[FaceCapture], None]]] = []
        self.analysed_captured: float | None = None  # capture time of the last analysed frame
        self.unknown_sink = None  # openset.unknowns.UnknownCollector when the review is on

    # -- requests from other threads -------------------------------------------------------
    def gallery_changed(self) -> None:
        """Re-read the gallery before the next analysis and check every face again."""
        self._gallery_stale = True

    def set_verify(self, name: str | None) -> None:
        self.verify_name = name or None
        self._verify = None
        self._last_verify = -10**9

    def choose_verify_face(self, track_id: int | None) -> None:
        """Verify track `track_id` from the next check on (None: the largest face again)."""
        self.verify_track = track_id
        self._last_verify = -10**9

    def request_capture(self, track_id: int | None,
                        callback: Callable[[FaceCapture], None]) -> None:
        """Capture track `track_id` (None: the largest face) at the next analysis."""
        with self._state:
            self._captures.append((track_id, callback))

    # -- labeller side: every frame ------------------------------------------------------------
    def label(self, frame: Frame, grey: np.ndarray | None = None,
              stats: PipelineStats | None = None) -> tuple[Scene, AnalysisJob]:
        """Follow the tracks to `frame`; return its scene and a job the analyser may take."""
        grey = small_grey(frame.image, FOLLOW_SCALE) if grey is None else grey
        with self._state:
            for track in self.tracker.tracks:
                if track.template is not None and track.seen_frame != frame.frame_id:
                    follow_track(grey, track, frame.frame_id, FOLLOW_SCALE)
            faces = tuple(f for f in map(self._label, self.tracker.tracks) if f is not None)
            boxes = {t.track_id: t.box.copy() for t in self.tracker.tracks}
            verify = self._verify if self.verify_name else None
        h, w = frame.image.shape[:2]
        scene = Scene(frame.frame_id, frame.captured, time.monotonic(), w, h, faces, frame.image,
                      verify, stats or PipelineStats(), self.analysed_captured)
        return scene, AnalysisJob(frame, grey, boxes)

    def _label(self, track: Track) -> SceneFace | None:
        """The track's face in the scene; None while its first check is still running."""
        box = tuple(float(v) for v in track.box)
        if track.quality_state == TOO_SMALL or (track.quality_state and not len(track.smoother)):
            return SceneFace(track.track_id, box, track.quality_state)
        if not len(track.smoother):
            return None
        name, score = track.smoother.decide(self.config.threshold)
        if name is None:
            return SceneFace(track.track_id, box, NOT_RECOGNISED, None, score)
        return SceneFace(track.track_id, box, RECOGNISED, name, score)

    # -- analyser side -------------------------------------------------------------------------
    def analyse(self, job: AnalysisJob) -> None:
        """Detect, reconcile tracks, embed new or due faces, identify, serve captures."""
        if self._gallery_stale:
            self._gallery_stale = False
            self.gallery = self.gallery_factory()
            with self._state:
                self.tracker.reset_scores()
        image, fid = job.frame.image, job.frame.frame_id
        faces = self._detect(image)
        with self._state:
            pairs = self._reconcile(job, faces)
            due = [(t, f) for t, f in pairs if self._due(t, fid)]
            captures, self._captures = self._captures, []
        self._check(image, fid, due)
        self.analysed_captured = job.frame.captured
        for track_id, callback in captures:
            callback(self.capture(image, pairs, track_id))
        if self.verify_name and fid - self._last_verify >= self.config.verify_every:
            self._last_verify = fid
            self._run_verify(image, pairs)

    def forget_tracks(self) -> None:
        """Drop every track (the next frame is an unrelated picture, e.g. a slideshow)."""
        with self._state:
            self.tracker.tracks = []

    def process(self, frame: Frame, stats: PipelineStats | None = None) -> Scene:
        """Analyse and label one frame synchronously (slideshows, tests, still images)."""
        _, job = self.label(frame)
        self.analyse(job)
        return self.label(frame, job.grey, stats)[0]

    def _detect(self, image: np.ndarray) -> list:
        scale = self.config.detect_scale
        small = image if scale == 1.0 else cv2.resize(
            image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        min_small = max(12, int(self.config.min_face * scale * 0.75))
        with self.lock:
            found = self.engine.detect(small, min_face=min_small)
        return [rescale_face(f, 1.0 / scale) for f in found]

    def _reconcile(self, job: AnalysisJob, faces: list) -> list[tuple[Track, object]]:
        """Match detections on the job's frame to tracks as they were on it; bring the
        matched boxes forward by the motion followed since. Returns (track, face) pairs."""
        now = {t.track_id: t.box for t in self.tracker.tracks}
        for t in self.tracker.tracks:
            t.box = job.boxes.get(t.track_id, t.box)
        boxes = np.array([f.box for f in faces], np.float32).reshape(-1, 4)
        matched = self.tracker.update(boxes, [f.landmarks for f in faces])
        for track, face in zip(matched, faces, strict=True):
            if track.track_id in now and track.track_id in job.boxes:
                moved = face.box + (now[track.track_id] - job.boxes[track.track_id])
                track.box = steady_size(now[track.track_id], moved)
            track.template = cut_template(job.grey, face.box, FOLLOW_SCALE)
            track.seen_frame = job.frame.frame_id
        seen = {t.track_id for t in matched}
        for t in self.tracker.tracks:
            if t.track_id not in seen and t.track_id in now:
                t.box = now[t.track_id]
        return list(zip(matched, faces, strict=True))

    def _due(self, track: Track, fid: int) -> bool:
        if box_size(track.box) < self.config.min_face:
            track.quality_state, track.last_checked = TOO_SMALL, None
            return False
        if track.last_checked is None:
            return True
        unsure = track.smoother.current is None and len(track.embeddings) < POOL
        wait = self.config.retry_frames if track.quality_state or unsure \
            else self.config.recheck_frames
        return fid - track.last_checked >= wait

    def _align(self, image: np.ndarray, face) -> np.ndarray:
        with self.lock:
            return self.engine.align(image, face.landmarks)

    def _assess(self, image: np.ndarray, face) -> tuple[np.ndarray, object]:
        """The face's aligned crop and the engine's quality report on it."""
        with self.lock:
            crop = self.engine.align(image, face.landmarks)
            return crop, self.engine.quality(image, face, crop=crop,
                                             min_size=self.config.min_face)

    def _check(self, image: np.ndarray, fid: int, due: list[tuple[Track, object]]) -> None:
        """Quality-check and embed the due faces in one batch; feed the gallery's answers."""
        todo, crops, states, reports, filling = [], [], {}, {}, set()
        for track, face in due:
            crop, report = self._assess(image, face)
            reports[track.track_id] = report
            states[track.track_id] = quality_state(report)
            if states[track.track_id] is None:
                todo.append(track)
                crops.append(crop)
        matches = []
        if crops:
            with self.lock:
                embs = self.engine.embed(crops)
            with self._state:
                for track, emb in zip(todo, embs, strict=True):
                    if len(track.embeddings) < POOL:
                        filling.add(track.track_id)
                    track.embeddings.append(emb)
                pools = np.stack([pooled(t.embeddings) for t in todo])
            matches = self.gallery.identify(pools, -1.0) if self.gallery is not None \
                else [None] * len(todo)
        with self._state:
            for track, _ in due:
                track.last_checked = fid
                track.quality_state = states[track.track_id]
            for track, match in zip(todo, matches, strict=True):
                name, similarity = (None, 0.0) if match is None \
                    else (match.name, match.similarity)
                if track.smoother.current is None and track.track_id in filling:
                    track.smoother.restart(name, similarity)  # the pool grew: judge it anew
                else:
                    track.smoother.add(name, similarity)
            sink, alive = self.unknown_sink, {t.track_id for t in self.tracker.tracks}
        if sink is not None:  # unknown-face review: candidates, then the tracks that ended
            sink.threshold = self.config.threshold
            for track, crop, emb, match in zip(todo, crops, embs if crops else [], matches,
                                               strict=True):
                sink.observe(track.track_id, crop, emb,
                             -1.0 if match is None or match.name is None else match.similarity,
                             reports[track.track_id])
            sink.tracks_alive(alive)

    def _largest(self, pairs: list[tuple[Track, object]]) -> tuple[Track, object] | None:
        return max(pairs, key=lambda p: box_size(p[1].box)) if pairs else None

    def _run_verify(self, image: np.ndarray, pairs: list[tuple[Track, object]]) -> None:
        threshold = self.config.threshold
        chosen = [p for p in pairs if p[0].track_id == self.verify_track]
        if self.verify_track is not None and not chosen:
            with self._state:
                tracked = any(t.track_id == self.verify_track for t in self.tracker.tracks)
            if tracked:
                return  # the chosen face was missed by this detection: keep the last answer
            self.verify_track = None  # the chosen face has left: back to the largest
        best = chosen[0] if chosen else self._largest(pairs)
        if best is None or box_size(best[1].box) < self.config.min_face or self.gallery is None:
            self._verify = VerifyResult(self.verify_name, None, threshold)
            return
        with self.lock:
            emb = self.engine.embed([self._align(image, best[1])])[0]
        try:
            match = self.gallery.verify(self.verify_name, emb, threshold)
        except FaceLensError:  # the claimed person was removed meanwhile
            self._verify = VerifyResult(self.verify_name, None, threshold)
            return
        self._verify = VerifyResult(self.verify_name, float(match.similarity), threshold,
                                    best[0].track_id)

    def capture(self, image: np.ndarray, pairs: list[tuple[Track, object]],
                track_id: int | None) -> FaceCapture:
        """Quality-check and embed one face of the analysed frame for enrolment."""
        if track_id is None:
            pair = self._largest(pairs)
        else:
            pair = next((p for p in pairs if p[0].track_id == track_id), None)
        if pair is None:
            return FaceCapture(False, "no face in view" if track_id is None
                               else "that face is no longer in view")
        track, face = pair
        crop, report = self._assess(image, face)
        if not report.ok:
            return FaceCapture(False, report.reason or "quality too low", None, crop,
                               track.track_id, report)
        with self.lock:
            emb = self.engine.embed([crop])[0]
        return FaceCapture(True, None, emb, crop, track.track_id, report)
