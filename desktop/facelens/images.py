"""Reading user images robustly into 8-bit BGR arrays."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .errors import ImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}  # files we read
MAX_PIXELS = 40_000_000  # larger images are downscaled to this many pixels on load
MAX_FILE_BYTES = 200 * 1024 * 1024


def to_bgr8(img: np.ndarray) -> np.ndarray:
    """Convert greyscale, 16-bit, float or alpha images to 3-channel uint8 BGR."""
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(img.astype(np.float32) * (255.0 if img.max() <= 1.0 else 1.0), 0, 255)
        img = img.astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        alpha = img[:, :, 3:4].astype(np.float32) / 255.0
        white = np.full_like(img[:, :, :3], 255, dtype=np.float32)
        return (img[:, :, :3] * alpha + white * (1 - alpha)).astype(np.uint8)
    if img.shape[2] == 1:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(img[:, :, :3])


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as uint8 BGR; raise :class:`ImageError` with a clear reason."""
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    size = path.stat().st_size
    if size == 0:
        raise ImageError(f"{path}: empty file (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise ImageError(f"{path}: file too large ({size // 2**20} MiB)")
    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None or img.size == 0:
        raise ImageError(f"{path}: not a readable image (corrupt, truncated or not an image)")
    img = to_bgr8(img)
    h, w = img.shape[:2]
    if h * w > MAX_PIXELS:
        f = (MAX_PIXELS / (h * w)) ** 0.5
        size = (max(1, int(w * f)), max(1, int(h * f)))
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    return img


def encode_jpeg(bgr: np.ndarray, quality: int = 90) -> bytes | None:
    """A BGR image as JPEG bytes (thumbnails for the gallery); None if it cannot be encoded."""
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data.tobytes() if ok else None
