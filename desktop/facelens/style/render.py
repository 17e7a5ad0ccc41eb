"""Styling one frame: processing resolution, strength, temporal smoothing."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from .styles import Style, bgr_to_rgb01, rgb01_to_bgr

DEFAULT_PROCESS_SIZE = (320, 240)


def fit_size(w: int, h: int, box: tuple[int, int] | None) -> tuple[int, int]:
    """(w, h) scaled down to fit inside `box` keeping the aspect ratio; never scaled up."""
    if box is None:
        return w, h
    f = min(box[0] / w, box[1] / h, 1.0)
    return max(4, round(w * f)), max(4, round(h * f))


class TemporalSmoother:
    """Reduces flicker: blends each styled frame with the previous one where the scene is still.

    Per pixel the previous output keeps weight ``amount * exp(-change / 0.04)``, where
    ``change`` is how much the input pixel moved, so moving parts do not leave ghosts.
    """

    def __init__(self, amount: float = 0.6) -> None:
        self.amount = float(amount)
        self._lock = threading.Lock()  # live workers may call it from two threads
        self._prev_in: np.ndarray | None = None
        self._prev_out: np.ndarray | None = None

    def reset(self) -> None:
        with self._lock:
            self._prev_in = self._prev_out = None

    def __call__(self, content: np.ndarray, styled: np.ndarray) -> np.ndarray:
        with self._lock:
            return self._smooth(content, styled)

    def _smooth(self, content: np.ndarray, styled: np.ndarray) -> np.ndarray:
        if self.amount <= 0 or self._prev_out is None or self._prev_out.shape != styled.shape:
            out = styled
        else:
            change = np.abs(content - self._prev_in).mean(axis=2, keepdims=True)
            keep = self.amount * np.exp(change * (-1.0 / 0.04))
            out = styled + keep * (self._prev_out - styled)
        self._prev_in, self._prev_out = content, out
        return out


class StyleRenderer:
    """Turns a BGR frame into a styled BGR frame of the same size.

    The frame is scaled down to fit `process_size`, styled, smoothed over time if asked,
    scaled back up and mixed with the original by `strength` (0 = original, 1 = full style).
    Settings may be changed from another thread; each frame uses one consistent set.
    """

    def __init__(self, style: Style | None = None, strength: float = 1.0,
                 process_size: tuple[int, int] | None = DEFAULT_PROCESS_SIZE,
                 smoothing: float = 0.0) -> None:
        self._lock = threading.Lock()
        self.style = style
        self.strength = float(strength)
        self.process_size = process_size
        self.smoother = TemporalSmoother(smoothing)

    def configure(self, **changes: object) -> None:
        """Change ``style``, ``strength``, ``process_size`` or ``smoothing`` at once."""
        with self._lock:
            for key, value in changes.items():
                if key == "smoothing":
                    self.smoother.amount = float(value)  # type: ignore[arg-type]
                elif key in ("style", "strength", "process_size"):
                    setattr(self, key, value)
                else:
                    raise TypeError(f"unknown renderer setting {key!r}")
            if "style" in changes or "process_size" in changes:
                self.smoother.reset()

    def render(self, bgr: np.ndarray) -> np.ndarray:
        """The styled frame (a new array; the input is not modified)."""
        with self._lock:
            style, strength, box = self.style, float(self.strength), self.process_size
        if style is None or strength <= 0.0:
            return bgr.copy()
        h, w = bgr.shape[:2]
        pw, ph = fit_size(w, h, box)
        small = bgr
        if (pw, ph) != (w, h):
            small = cv2.resize(bgr, (pw, ph), interpolation=cv2.INTER_AREA)
        content = bgr_to_rgb01(small)
        styled = self.smoother(content, style.apply(content))
        out = rgb01_to_bgr(styled)
        if (pw, ph) != (w, h):
            out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
        if strength < 1.0:
            out = cv2.addWeighted(bgr, 1.0 - strength, out, strength, 0)
        return out
