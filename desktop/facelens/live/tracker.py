"""A small IoU tracker: each detected face keeps its track id from frame to frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .smoothing import ScoreSmoother


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in `a` [n,4] with every box in `b` [m,4]."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-6)


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
