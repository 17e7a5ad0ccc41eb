"""Synthetic test videos: face photos moving across a background, with ground-truth boxes.

Tight face crops (like ``faces-dev/people``) are scaled to ``face_px`` and pasted on a plain,
face-free background, which gives the detector the context a crop lacks. Each actor drifts
around its own spot so faces never overlap; actors may enter and leave at given times.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..images import load_image


@dataclass
class Actor:
    """A face photo in the video: shown from `enter` to `leave` seconds."""

    image: np.ndarray  # BGR face crop
    label: str = ""
    enter: float = 0.0
    leave: float = math.inf

    @classmethod
    def from_file(cls, path: str | Path, label: str = "", **kw) -> Actor:
        return cls(load_image(path), label or Path(path).parent.name, **kw)


@dataclass
class SynthVideo:
    """A written video and where each actor's face is in every frame."""

    path: Path
    fps: float
    size: tuple[int, int]
    boxes: list[list[tuple[str, tuple[int, int, int, int]]]] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return len(self.boxes)


def background(size: tuple[int, int] = (640, 480), seed: int = 0) -> np.ndarray:
    """A face-free backdrop: a soft colour gradient with a few blurred blocks."""
    w, h = size
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([90 + 60 * xs / w, 110 + 40 * ys / h, 140 - 50 * xs / w], axis=-1)
    for _ in range(8):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        colour = [float(c) for c in rng.integers(60, 200, 3)]
        cv2.rectangle(img, (x, y), (x + int(rng.integers(30, 160)), y + int(rng.integers(20, 90))),
                      colour, -1)
    return cv2.GaussianBlur(img.astype(np.uint8), (0, 0), 3)


def spots(n: int, size: tuple[int, int], face_px: int) -> list[tuple[int, int]]:
    """Top-left corners of `n` non-overlapping home spots on a grid."""
    w, h = size
    cols = math.ceil(math.sqrt(n * w / h))
    rows = math.ceil(n / cols)
    cw, ch = w / cols, h / rows
    out = []
    for i in range(n):
        r, c = divmod(i, cols)
        out.append((int(c * cw + (cw - face_px) / 2), int(r * ch + (ch - face_px) / 2)))
    return out


def render(actors: Sequence[Actor], seconds: float, fps: float = 30.0,
           size: tuple[int, int] = (640, 480), face_px: int = 140, seed: int = 0,
           speed: float | None = None,
           ) -> Iterator[tuple[np.ndarray, list[tuple[str, tuple[int, int, int, int]]]]]:
    """Yield (frame, [(label, box)]) for every frame of the clip.

    `speed`: the faces' peak horizontal speed in face widths per 100 ms (a person at a door
    moves up to about 0.5); they swing across their own cell, vertically at a third of it.
    None: the original slow drift.
    """
    w, h = size
    back = background(size, seed)
    homes = spots(len(actors), size, face_px)
    cols = math.ceil(math.sqrt(len(actors) * w / h))
    rows = math.ceil(len(actors) / cols)
    room_x = max(0, int(w / cols - face_px) // 2 - 2)
    room_y = max(0, int(h / rows - face_px) // 2 - 2)
    fx = fy = 0.0
    if speed is not None:
        v = speed * face_px * 10.0  # pixels per second
        fx = v / (2 * math.pi * max(room_x, 1))
        fy = v / 3 / (2 * math.pi * max(room_y, 1))
    faces = [cv2.resize(a.image, (face_px, face_px), interpolation=cv2.INTER_CUBIC)
             for a in actors]
    for i in range(int(round(seconds * fps))):
        t = i / fps
        frame = back.copy()
        boxes = []
        for k, (actor, face, (hx, hy)) in enumerate(zip(actors, faces, homes, strict=True)):
            if not actor.enter <= t < actor.leave:
                continue
            if speed is None:
                x = hx + int(room_x * math.sin(2 * math.pi * (0.25 * t + k / 7)))
                y = hy + int(6 * math.sin(2 * math.pi * (0.4 * t + k / 5)))
            else:
                x = hx + int(round(room_x * math.sin(2 * math.pi * fx * t + k)))
                y = hy + int(round(room_y * math.sin(2 * math.pi * fy * t + 2 * k)))
            x, y = min(max(x, 0), w - face_px), min(max(y, 0), h - face_px)
            frame[y:y + face_px, x:x + face_px] = face
            boxes.append((actor.label, (x, y, x + face_px, y + face_px)))
        yield frame, boxes


def write_video(path: str | Path, actors: Sequence[Actor], seconds: float = 4.0,
                fps: float = 30.0, size: tuple[int, int] = (640, 480), face_px: int = 140,
                seed: int = 0, speed: float | None = None) -> SynthVideo:
    """Write an MJPG .avi of `actors` moving on a background; return it with its boxes
    (`speed`: see :func:`render`)."""
    path = Path(path)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    if not writer.isOpened():
        raise OSError(f"cannot write video {path}")
    video = SynthVideo(path, fps, size)
    try:
        for frame, boxes in render(actors, seconds, fps, size, face_px, seed, speed):
            writer.write(frame)
            video.boxes.append(boxes)
    finally:
        writer.release()
    return video
