"""Recognition labels drawn over styled video (boxes with names), in frame coordinates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Label:
    """One face label: box (x1, y1, x2, y2) in pixels, text, BGR colour."""

    box: tuple[int, int, int, int]
    text: str
    color: tuple[int, int, int] = (80, 220, 80)


def draw_labels(bgr: np.ndarray, labels: Sequence[Label]) -> np.ndarray:
    """Draw `labels` onto `bgr` in place and return it."""
    for lab in labels:
        x1, y1, x2, y2 = (int(v) for v in lab.box)
        cv2.rectangle(bgr, (x1, y1), (x2, y2), lab.color, 2)
        (tw, th), base = cv2.getTextSize(lab.text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        top = max(0, y1 - th - base - 4)
        cv2.rectangle(bgr, (x1, top), (x1 + tw + 6, top + th + base + 4), lab.color, -1)
        cv2.putText(bgr, lab.text, (x1 + 3, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return bgr
