"""Following tracked faces between detections by template matching on a small grey frame.

Detection is the expensive step, so it runs on its own thread as often as it can; every frame
in between moves each track's box to where its face template matches best nearby (about a
millisecond per face at half resolution). :func:`follow_track` predicts where to look from the
track's velocity (an alpha-beta filter, i.e. a constant-velocity Kalman filter with a fixed
gain, written out here as it is three lines) and widens the search by the frames elapsed since
its box was last placed, so a face keeps its box when frames are dropped or a new track's box
is a detection a few frames old.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_MATCH = 0.45  # normalised correlation below this: the face is not followed this frame


def small_grey(image: np.ndarray, scale: float) -> np.ndarray:
    """The frame in grey, scaled by `scale` (what templates are cut from and matched in)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    if scale == 1.0:
        return grey
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _inner(box: np.ndarray, scale: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The central 70% of a face box in small-frame pixels, clipped to the frame."""
    x1, y1, x2, y2 = (np.asarray(box, np.float32) * scale).tolist()
    mx, my = 0.15 * (x2 - x1), 0.15 * (y2 - y1)
    h, w = shape
    return (int(max(0, x1 + mx)), int(max(0, y1 + my)),
            int(min(w, x2 - mx)), int(min(h, y2 - my)))


def cut_template(grey: np.ndarray, box: np.ndarray, scale: float) -> np.ndarray | None:
    """The face's template from the small grey frame; None when too small or outside."""
    x1, y1, x2, y2 = _inner(box, scale, grey.shape[:2])
    if x2 - x1 < 6 or y2 - y1 < 6:
        return None
    return grey[y1:y2, x1:x2].copy()


VELOCITY_GAIN = 0.5  # weight of the newest measured velocity (alpha-beta filter)
MAX_GAP = 6  # frames: the search widens with the frames since the box was placed, up to this
SEARCH = 0.6  # search margin around the box, as a share of the template side, per frame


def follow_track(grey: np.ndarray, track, frame_id: int, scale: float) -> float:
    """Move `track` to frame `frame_id`: look where its velocity says, update the velocity.

    Uses and sets ``track.box``, ``track.velocity`` (full-frame pixels per frame) and
    ``track.box_frame`` (frame the box was placed on; ``track.seen_frame`` when newer).
    Returns the match score.
    """
    gap = max(1, frame_id - max(track.box_frame, track.seen_frame))
    v = track.velocity
    old = np.asarray(track.box, np.float32)
    box, score = follow(grey, track.template, old, scale, search=SEARCH * min(gap, MAX_GAP),
                        offset=(float(v[0]) * gap, float(v[1]) * gap))
    if score >= MIN_MATCH:
        moved = (box[:2] - old[:2]) / gap
        track.velocity = (1 - VELOCITY_GAIN) * v + VELOCITY_GAIN * moved
        track.box = box
    track.box_frame = frame_id
    return score


def follow(grey: np.ndarray, template: np.ndarray, box: np.ndarray, scale: float,
           search: float = 0.4, offset: tuple[float, float] = (0.0, 0.0),
           ) -> tuple[np.ndarray, float]:
    """Move `box` (full-frame pixels) to where `template` matches best near it, searching
    around the box moved by `offset` (a predicted motion, full-frame pixels).

    Returns the new box and the match score (the box is unchanged when the score is low).
    """
    box = np.asarray(box, np.float32)
    shift = np.array([offset[0], offset[1], offset[0], offset[1]], np.float32)
    x1, y1, x2, y2 = _inner(box + shift, scale, grey.shape[:2])
    bx1, by1 = _inner(box, scale, grey.shape[:2])[:2]
    th, tw = template.shape[:2]
    pad = int(search * max(tw, th)) + 2
    h, w = grey.shape[:2]
    rx1, ry1 = max(0, x1 - pad), max(0, y1 - pad)
    rx2, ry2 = min(w, x1 + tw + pad), min(h, y1 + th + pad)
    region = grey[ry1:ry2, rx1:rx2]
    if region.shape[0] < th or region.shape[1] < tw:
        return box, 0.0
    result = cv2.matchTemplate(region, template, cv2.TM_CCOEFF_NORMED)
    _, score, _, (bx, by) = cv2.minMaxLoc(result)
    if score < MIN_MATCH:
        return box, float(score)
    dx, dy = (rx1 + bx - bx1) / scale, (ry1 + by - by1) / scale
    return box + np.array([dx, dy, dx, dy], np.float32), float(score)


SIZE_GAIN = 0.3  # weight of a new detection's box size (its size jitters from frame to frame)


def steady_size(old: np.ndarray, new: np.ndarray, gain: float = SIZE_GAIN) -> np.ndarray:
    """`new` box (centre kept) with its size blended into the `old` box's size."""
    old, new = np.asarray(old, np.float32), np.asarray(new, np.float32)
    centre = (new[:2] + new[2:]) / 2
    size = (1 - gain) * (old[2:] - old[:2]) + gain * (new[2:] - new[:2])
    return np.concatenate([centre - size / 2, centre + size / 2]).astype(np.float32)
