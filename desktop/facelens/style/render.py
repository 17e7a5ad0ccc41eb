"""Styling one frame: processing resolution, strength, temporal smoothing."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np

from .styles import Style, bgr_to_rgb01, rgb01_to_bgr
from .upscale import upscale, upscale_with_detail

DEFAULT_PROCESS_SIZE = (320, 240)
AUTO = "auto"  # process_size value: pick the largest size that keeps within a time budget
# Automatic sizes never go below 320x240: smaller frames turn faces to mush when scaled up.
AUTO_LADDER = [(320, 240), (384, 288), (448, 336), (512, 384), (576, 432), (640, 480)]


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


class AutoSize:
    """Chooses the processing size from measured styling times (dynamic resolution).

    Starts at the smallest size; steps one size down when the smoothed styling time exceeds
    `budget_ms`, one size up when the next size would still fit with a margin; waits a few
    frames after each step. It never goes below the first size of the ladder.
    """

    def __init__(self, budget_ms: float = 70.0, ladder: list[tuple[int, int]] | None = None,
                 settle: int = 4) -> None:
        self.budget_ms = float(budget_ms)
        self.ladder = list(ladder or AUTO_LADDER)
        self.index = 0
        self.settle = settle
        self._lock = threading.Lock()
        self._ema: float | None = None
        self._since = 0

    def box(self) -> tuple[int, int]:
        with self._lock:
            return self.ladder[self.index]

    def observe(self, box: tuple[int, int], ms: float) -> None:
        """Record that styling at `box` took `ms`."""
        with self._lock:
            if box != self.ladder[self.index]:
                return  # a frame started before the last step
            self._ema = ms if self._ema is None else 0.7 * self._ema + 0.3 * ms
            self._since += 1
            if self._since < self.settle:
                return
            area = box[0] * box[1]
            if self._ema > self.budget_ms and self.index > 0:
                step = -1
            elif self.index + 1 < len(self.ladder) and self._ema * self._area(1) / area \
                    < 0.8 * self.budget_ms:
                step = 1
            else:
                return
            self._ema *= self._area(step) / area
            self.index += step
            self._since = 0

    def _area(self, step: int) -> int:
        w, h = self.ladder[self.index + step]
        return w * h


class StyleRenderer:
    """Turns a BGR frame into a styled BGR frame of the same size.

    The frame is scaled down to fit `process_size` (a (w, h) box, None for full size, or
    :data:`AUTO` to let :class:`AutoSize` keep styling within a time budget), styled,
    smoothed over time if asked, scaled back up (with `detail`, the camera frame's fine
    detail lost by scaling down is put back: see :mod:`.upscale`) and mixed with the original
    by `strength` (0 = original, 1 = full style).
    Settings may be changed from another thread; each frame uses one consistent set.
    """

    def __init__(self, style: Style | None = None, strength: float = 1.0,
                 process_size: tuple[int, int] | None = DEFAULT_PROCESS_SIZE,
                 smoothing: float = 0.0, auto_budget_ms: float = 70.0,
                 detail: bool = False) -> None:
        self._lock = threading.Lock()
        self.auto = AutoSize(auto_budget_ms)
        self.style = style
        self.strength = float(strength)
        self.process_size = process_size
        self.detail = bool(detail)
        self.smoother = TemporalSmoother(smoothing)

    def configure(self, **changes: object) -> None:
        """Change ``style``, ``strength``, ``process_size``, ``smoothing`` or ``detail``."""
        with self._lock:
            for key, value in changes.items():
                if key == "smoothing":
                    self.smoother.amount = float(value)  # type: ignore[arg-type]
                elif key in ("style", "strength", "process_size", "detail"):
                    setattr(self, key, value)
                else:
                    raise TypeError(f"unknown renderer setting {key!r}")
            if "style" in changes or "process_size" in changes:
                self.smoother.reset()

    def render(self, bgr: np.ndarray) -> np.ndarray:
        """The styled frame (a new array; the input is not modified)."""
        return self.render_at(bgr)[0]

    def render_at(self, bgr: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """The styled frame and the (width, height) it was styled at."""
        with self._lock:
            style, strength, box = self.style, float(self.strength), self.process_size
            detail = self.detail
        h, w = bgr.shape[:2]
        if style is None or strength <= 0.0:
            return bgr.copy(), (w, h)
        auto = box == AUTO
        if auto:
            box = self.auto.box()
        pw, ph = fit_size(w, h, box)
        small = bgr
        if (pw, ph) != (w, h):
            small = cv2.resize(bgr, (pw, ph), interpolation=cv2.INTER_AREA)
        content = bgr_to_rgb01(small)
        t0 = time.perf_counter()
        styled = style.apply(content)
        if auto:
            self.auto.observe(box, (time.perf_counter() - t0) * 1000)
        styled = self.smoother(content, styled)
        out = rgb01_to_bgr(styled)
        if (pw, ph) != (w, h):
            out = upscale_with_detail(out, bgr, small) if detail else upscale(out, (w, h))
        if strength < 1.0:
            out = cv2.addWeighted(bgr, 1.0 - strength, out, strength, 0)
        return out, (pw, ph)
