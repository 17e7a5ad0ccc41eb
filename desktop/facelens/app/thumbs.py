"""Thumbnails (BGR arrays or encoded image bytes) as Qt pixmaps."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap

from .video_view import to_qimage


def thumb_pixmap(thumbnail, size: int = 64) -> QPixmap:
    """A square pixmap of `thumbnail` (ndarray BGR, encoded bytes, or None: a grey tile)."""
    image = None
    if isinstance(thumbnail, np.ndarray) and thumbnail.size:
        image = thumbnail
    elif isinstance(thumbnail, bytes | bytearray | memoryview) and len(thumbnail):
        image = cv2.imdecode(np.frombuffer(bytes(thumbnail), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        pix = QPixmap(size, size)
        pix.fill(QColor(90, 90, 90))
        return pix
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return QPixmap.fromImage(to_qimage(image)).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
