"""Test and calibration sequences for the liveness cue, made from real still photos.

- :func:`print_attack`: one photo moved, scaled and rotated a little from frame to frame,
  with small brightness changes and sensor noise, as a hand-held print looks to a camera.
- :func:`photo_sequence`: a person's *different* photos in a row, each placed the same way.
  It is a stand-in for a living face (expression, pose and lighting change between frames);
  it is not a recording of one, and the threshold calibrated on it says so.
"""

from __future__ import annotations

import cv2
import numpy as np

CANVAS = (360, 480)  # h, w of the synthetic camera frame
FACE_PX = 200  # the photo's longer side on the frame, pixels


def _background(rng: np.random.Generator) -> np.ndarray:
    h, w = CANVAS
    base = np.linspace(90, 150, w, dtype=np.float32)[None, :].repeat(h, 0)
    tex = cv2.GaussianBlur(rng.normal(0, 12, (h, w)).astype(np.float32), (0, 0), 6)
    return cv2.cvtColor(np.clip(base + tex, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def place(photo: np.ndarray, rng: np.random.Generator, angle: float = 0.0, scale: float = 1.0,
          shift: tuple[float, float] = (0.0, 0.0), gain: float = 1.0, noise: float = 2.0,
          background: np.ndarray | None = None) -> np.ndarray:
    """Draw `photo` (a tight face crop) on a camera-sized frame with a similarity transform."""
    h, w = CANVAS
    frame = (background if background is not None else _background(rng)).copy()
    f = FACE_PX / max(photo.shape[:2])  # the longer side becomes FACE_PX, aspect kept
    face = cv2.resize(photo, (round(photo.shape[1] * f), round(photo.shape[0] * f)),
                      interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    if face.ndim == 2:
        face = cv2.cvtColor(face, cv2.COLOR_GRAY2BGR)
    fh, fw = face.shape[:2]
    centre = (w / 2 + shift[0], h / 2 + shift[1])
    m = cv2.getRotationMatrix2D((fw / 2, fh / 2), angle, scale)
    m[:, 2] += np.array(centre) - np.array([fw / 2, fh / 2])
    warped = cv2.warpAffine(face, m, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.full((fh, fw), 255, np.uint8), m, (w, h)) > 127
    frame[mask] = warped[mask]
    out = frame.astype(np.float32) * gain + rng.normal(0, noise, frame.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def _motion(rng: np.random.Generator, n: int) -> list[dict]:
    """A smooth hand-held trajectory: drift plus tremor in position, scale and angle."""
    t = np.linspace(0, 1, n)
    a0, s0, x0, y0 = rng.uniform(-1, 1, 4)
    return [dict(angle=4 * np.sin(2 * np.pi * (ti + a0)) + rng.normal(0, 0.5),
                 scale=1 + 0.07 * np.sin(2 * np.pi * (ti + s0)) + rng.normal(0, 0.01),
                 shift=(18 * np.sin(2 * np.pi * (ti + x0)) + rng.normal(0, 1.5),
                        12 * np.sin(2 * np.pi * (ti + y0)) + rng.normal(0, 1.5)),
                 gain=1 + rng.normal(0, 0.03))
            for ti in t]


def print_attack(photo: np.ndarray, n: int = 8, seed: int = 0) -> list[np.ndarray]:
    """`n` camera frames of one still photo held up and moved by hand."""
    rng = np.random.default_rng(seed)
    bg = _background(rng)
    return [place(photo, rng, background=bg, **m) for m in _motion(rng, n)]


def photo_sequence(photos: list[np.ndarray], n: int = 8, seed: int = 0) -> list[np.ndarray]:
    """`n` camera frames cycling through a person's different photos (living-face stand-in)."""
    rng = np.random.default_rng(seed)
    bg = _background(rng)
    moves = _motion(rng, n)
    return [place(photos[i % len(photos)], rng, background=bg, **moves[i]) for i in range(n)]
