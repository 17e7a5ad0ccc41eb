"""A small IoU tracker: each detected face keeps its track id from frame to frame."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..engine.faces import iou_matrix
from .smoothing import ScoreSmoother

__all__ = ["IouTracker", "Track", "iou_matrix"]

POOL = 5  # recent good-quality embeddings pooled into a track's identity


def pooled(embeddings) -> np.ndarray:
    """The unit-length mean of unit-length embeddings [k, dim] (template pooling, as video
    face recognition does: alignment jitter of single crops averages out)."""
    mean = np.mean(np.asarray(embeddings, np.float32), axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-10)


@dataclass
class Track:
    """One face followed over time, with what the pipeline knows about it."""

    track_id: int
    box: np.ndarray  # float32 [4], full-frame pixels
    landmarks: np.ndarray | None = None  # float32 [5,2], full-frame pixels
    misses: int = 0
    last_checked: int | None = None  # processed-frame index of the last embedding
    quality_state: str | None = None  # "too small" / "too blurry" when it cannot be judged
    smoother: ScoreSmoother = field(default_factory=ScoreSmoother)
    template: np.ndarray | None = None  # small grey patch followed between detections
    seen_frame: int = -1  # frame id of the last detection that matched this track
    box_frame: int = -1  # frame id the box was last followed to
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2, np.float32))  # px/frame
    embeddings: deque = field(default_factory=lambda: deque(maxlen=POOL))  # recent, unit length


class IouTracker:
    """Greedy IoU matching of detections to tracks; unmatched tracks live ``max_misses`` frames."""

    def __init__(self, iou_threshold: float = 0.3, max_misses: int = 5):
        self.iou_threshold = iou_threshold
        self.max_misses = max_misses
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, boxes: np.ndarray, landmarks: list[np.ndarray | None]) -> list[Track]:
        """Match `boxes` [n,4] to tracks; return the tracks seen in this frame, in box order."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        old = np.array([t.box for t in self.tracks], np.float32).reshape(-1, 4)
        ious = iou_matrix(old, boxes)
        matched: dict[int, Track] = {}
        used: set[int] = set()
        for flat in np.argsort(-ious, axis=None):
            ti, di = np.unravel_index(flat, ious.shape)
            if ious[ti, di] < self.iou_threshold:
                break
            if ti in used or di in matched:
                continue
            track = self.tracks[ti]
            track.box, track.landmarks = boxes[di], landmarks[di]
            track.misses = 0
            used.add(int(ti))
            matched[int(di)] = track
        for ti, track in enumerate(self.tracks):
            if ti not in used:
                track.misses += 1
        self.tracks = [t for t in self.tracks if t.misses <= self.max_misses]
        for di in range(len(boxes)):
            if di not in matched:
                track = Track(self._next_id, boxes[di], landmarks[di])
                self._next_id += 1
                self.tracks.append(track)
                matched[di] = track
        return [matched[di] for di in range(len(boxes))]

    def reset_scores(self) -> None:
        """Forget every track's scores (the gallery changed): each face is checked again."""
        for track in self.tracks:
            track.smoother = ScoreSmoother()
            track.last_checked = None
            track.embeddings.clear()
