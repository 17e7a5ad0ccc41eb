"""Reading user images robustly into 8-bit BGR arrays.

An image is refused before it is decoded when its header declares more than ``MAX_PIXELS``
(a few hundred bytes can declare a 30000x30000 picture, which would take gigabytes and a
minute to allocate). The declared size is read with Pillow's lazy open, which parses only
the header; the pixels are then decoded by OpenCV straight to 8-bit BGR, large JPEGs at a
reduced scale. (OpenCV's decoder briefly needs twice the decoded size.)
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import ImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}  # files we read
MAX_PIXELS = 100_000_000  # images declaring more pixels (100 MP) are refused, not decoded
LOAD_PIXELS = 40_000_000  # larger images are downscaled to this on load (JPEGs as they decode)
MAX_FILE_BYTES = 200 * 1024 * 1024
_BAND_ROWS = 1024  # alpha is composited this many rows at a time (bounded scratch memory)


def to_bgr8(img: np.ndarray) -> np.ndarray:
    """Convert greyscale, 16-bit, float or alpha images to 3-channel uint8 BGR.

    Works in place or band by band where it can, so a large image needs little more memory
    than its 8-bit result: a float or signed `img` is clipped in place.
    """
    img = _to_uint8(img)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    channels = img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 2:  # grey + alpha
        return _on_white(img[:, :, :1], img[:, :, 1])
    if channels == 4:
        return _on_white(img[:, :, :3], img[:, :, 3])
    return np.ascontiguousarray(img[:, :, :3])


def _to_uint8(img: np.ndarray) -> np.ndarray:
    """16-bit values scaled down by 257; floats in 0..1 scaled up to 0..255; others clipped."""
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        return cv2.convertScaleAbs(img, alpha=1 / 257)
    if img.dtype not in (np.int8, np.int16, np.int32, np.float32, np.float64):
        img = img.astype(np.float32)
    if img.dtype.kind == "f":
        np.nan_to_num(img, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
    np.clip(img, 0, None, out=img)  # convertScaleAbs would mirror negative values
    top = float(img.max()) if img.size else 0.0
    return cv2.convertScaleAbs(img, alpha=255.0 if img.dtype.kind == "f" and top <= 1.0 else 1.0)


def _on_white(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite uint8 `colour` (1 or 3 channels) over white with uint8 `alpha`."""
    h, w = alpha.shape
    out = np.empty((h, w, 3), np.uint8)
    for y in range(0, h, _BAND_ROWS):
        rows = slice(y, y + _BAND_ROWS)
        band = colour[rows]
        if band.shape[2] == 1:
            band = cv2.cvtColor(np.ascontiguousarray(band[:, :, 0]), cv2.COLOR_GRAY2BGR)
        a = cv2.merge([np.ascontiguousarray(alpha[rows])] * 3)
        inverse = cv2.subtract(np.full_like(a, 255), np.ascontiguousarray(band))
        cv2.multiply(inverse, a, dst=inverse, scale=1 / 255)  # (255 - c) * a
        out[rows] = 255 - inverse  # c * a + 255 * (1 - a)
    return out


@dataclass(frozen=True)
class Header:
    """What an image file's header declares, read without decoding any pixel."""

    width: int
    height: int
    alpha: bool  # has an alpha channel or a transparent colour
    format: str  # Pillow's name for it: "JPEG", "PNG", ...


def read_header(data: bytes, name: str = "image") -> Header:
    """The declared size, transparency and format of an image file's bytes (Pillow's lazy
    open parses only the header). Raises :class:`ImageError` for an unknown or damaged one."""
    from PIL import Image  # imported on first use: the CLI starts without it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about large sizes: we judge them
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
                alpha = "A" in im.mode or "transparency" in im.info
                fmt = im.format or ""
    except Image.DecompressionBombError as exc:  # Pillow names only the pixel count
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)) / 1e6:.0f} MP" if found else "a huge size"
        raise ImageError(f"{name}: declares {size}, more than FaceLens reads "
                         f"({MAX_PIXELS // 10**6} MP); scale the image down and try "
                         "again") from None
    except Exception:  # Pillow's parsers raise many kinds on damaged headers
        raise ImageError(f"{name}: not a readable image (unknown format or damaged header); "
                         "use a JPEG, PNG, WebP, BMP or TIFF file") from None
    return Header(int(width), int(height), bool(alpha), fmt)


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as uint8 BGR; raise :class:`ImageError` with a clear reason.

    Files declaring more than ``MAX_PIXELS`` pixels are refused before any pixel is decoded;
    images above ``LOAD_PIXELS`` are scaled down to it (JPEGs by the decoder itself, and
    transparency is then ignored), so memory stays well under 1.5 GB.
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    try:
        size = path.stat().st_size
        if size == 0:
            raise ImageError(f"{path}: empty file (0 bytes)")
        if size > MAX_FILE_BYTES:
            raise ImageError(f"{path}: file too large ({size // 2**20} MiB; FaceLens reads "
                             f"images up to {MAX_FILE_BYTES // 2**20} MiB)")
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    head = read_header(data, str(path))
    check_pixels(head.width, head.height, str(path))
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), _decode_flags(head))
    except cv2.error as exc:
        raise ImageError(f"{path}: not a readable image ({_first_line(exc)})") from None
    del data
    if img is None or img.size == 0:
        raise ImageError(f"{path}: not a readable image (corrupt, truncated or not an image)")
    check_pixels(img.shape[1], img.shape[0], str(path))  # the decoder's own view, to be sure
    img = to_bgr8(img)
    h, w = img.shape[:2]
    if h * w > LOAD_PIXELS:
        f = (LOAD_PIXELS / (h * w)) ** 0.5
        img = cv2.resize(img, (max(1, int(w * f)), max(1, int(h * f))),
                         interpolation=cv2.INTER_AREA)
    return img


def _decode_flags(head: Header) -> int:
    """OpenCV flags: 8-bit BGR (decoded at 1/2, 1/4 or 1/8 for large JPEGs), or every channel
    and depth as stored when there is transparency to composite (images up to LOAD_PIXELS)."""
    pixels = head.width * head.height
    if head.alpha and pixels <= LOAD_PIXELS:
        return cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION
    flags = cv2.IMREAD_COLOR
    if head.format == "JPEG" and pixels > LOAD_PIXELS:
        for factor, reduced in ((2, cv2.IMREAD_REDUCED_COLOR_2), (4, cv2.IMREAD_REDUCED_COLOR_4),
                                (8, cv2.IMREAD_REDUCED_COLOR_8)):
            flags = reduced
            if pixels / factor**2 <= LOAD_PIXELS:
                break
    return flags | cv2.IMREAD_IGNORE_ORIENTATION


def check_pixels(width: int, height: int, name: str = "image") -> None:
    """Refuse sizes that are empty or above ``MAX_PIXELS``."""
    if width <= 0 or height <= 0:
        raise ImageError(f"{name}: not a readable image (it declares {width}x{height} pixels)")
    if width * height > MAX_PIXELS:
        raise ImageError(f"{name}: {width}x{height} pixels ({width * height / 1e6:.0f} MP) is "
                         f"more than FaceLens reads ({MAX_PIXELS // 10**6} MP); scale the "
                         "image down and try again")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1].strip() if text else type(exc).__name__


def encode_jpeg(bgr: np.ndarray, quality: int = 90) -> bytes | None:
    """A BGR image as JPEG bytes (thumbnails for the gallery); None if it cannot be encoded."""
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data.tobytes() if ok else None
