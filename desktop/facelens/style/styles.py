"""Style objects: each turns an RGB float image (H x W x 3, 0..1) into a styled one.

- :class:`BuiltinStyle`: the 26-style network with a weight vector (one style or a mix).
- :class:`PictureStyle`: Magenta's arbitrary stylisation, a 100-d vector predicted from a picture.
- :class:`MixStyle`: any two styles mixed at their outputs (used when the nets differ).
- :class:`StyleLibrary`: finds styles by number, name or picture, and caches them.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from pathlib import Path

import cv2
import numpy as np

from ..images import load_image
from . import models
from .errors import StyleError
from .models import SessionCache

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


class Style(ABC):
    """A style: ``apply(rgb)`` takes and returns float32 RGB in 0..1, same height and width."""

    name: str = "style"

    @abstractmethod
    def apply(self, rgb: np.ndarray) -> np.ndarray:
        """Style one H x W x 3 float32 RGB image with values in 0..1."""


def pad_to_multiple(rgb: np.ndarray, k: int = 4) -> np.ndarray:
    """Reflect-pad the bottom and right edges so height and width are multiples of `k`."""
    h, w = rgb.shape[:2]
    ph, pw = (-h) % k, (-w) % k
    if ph or pw:
        rgb = cv2.copyMakeBorder(rgb, 0, ph, 0, pw, cv2.BORDER_REFLECT_101)
    return rgb


def builtin_name(index: int) -> str:
    """Display name of built-in style `index` (the model ships without painting names)."""
    return f"Style {index}"


class BuiltinStyle(Style):
    """The conditional-instance-norm network of 26 styles; `weights` mixes them (sums to 1).

    `model`: another file with the same inputs and outputs (e.g. a quantised copy being
    measured); None uses :func:`models.multistyle_model`.
    """

    def __init__(self, cache: SessionCache, weights: np.ndarray, name: str,
                 model: Path | None = None) -> None:
        w = np.asarray(weights, dtype=np.float32).reshape(-1)
        if w.shape != (models.NUM_STYLES,) or (w < 0).any() or w.sum() <= 0:
            raise StyleError(f"style weights must be {models.NUM_STYLES} non-negative numbers")
        self.weights = w / w.sum()
        self.name = name
        self.model = model
        self._cache = cache

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        x = pad_to_multiple(rgb).transpose(2, 0, 1)[None]
        session = self._cache.get(self.model or models.multistyle_model())  # built on first use
        out = session.run(None, {"image": np.ascontiguousarray(x), "style_weights": self.weights})
        return np.ascontiguousarray(out[0][0].transpose(1, 2, 0)[:h, :w])


class PictureStyle(Style):
    """Any picture as the style: predictor vector + the 384x384 transform network."""

    def __init__(self, cache: SessionCache, vector: np.ndarray, name: str) -> None:
        self.vector = np.asarray(vector, dtype=np.float32).reshape(1, 1, 1, -1)
        self.name = name
        self._cache = cache

    @staticmethod
    def predict(cache: SessionCache, picture_rgb: np.ndarray) -> np.ndarray:
        """The 100-d style vector of an RGB float picture (centre square, 256x256)."""
        h, w = picture_rgb.shape[:2]
        side = min(h, w)
        y, x = (h - side) // 2, (w - side) // 2
        sq = picture_rgb[y:y + side, x:x + side]
        size = models.PREDICT_SIZE
        sq = cv2.resize(sq, (size, size), interpolation=cv2.INTER_AREA)
        session = cache.get(models.builtin_model(models.PREDICT))
        return session.run(None, {session.get_inputs()[0].name: sq[None]})[0]

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        path, free_size = models.transform_model()
        if free_size:  # styled at its own size and aspect ratio
            x = pad_to_multiple(rgb)
        else:  # the network as shipped: squeezed into 384x384 and back
            size = models.TRANSFORM_SIZE
            x = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
        session = self._cache.get(path)
        names = [i.name for i in session.get_inputs()]
        out = session.run(None, {names[0]: np.ascontiguousarray(x[None]),
                                 names[1]: self.vector})[0][0]
        if free_size:
            return np.ascontiguousarray(out[:h, :w])
        return cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)


class MixStyle(Style):
    """Two styles mixed at their outputs: ``(1 - t) * a + t * b``."""

    def __init__(self, a: Style, b: Style, t: float) -> None:
        self.a, self.b, self.t = a, b, float(t)
        self.name = f"{a.name} + {b.name} ({t:.0%})"

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        return cv2.addWeighted(self.a.apply(rgb), 1 - self.t, self.b.apply(rgb), self.t, 0)


def blend(a: Style, b: Style | None, t: float) -> Style:
    """Blend style `a` with `b` at `t` (0 = all a, 1 = all b), inside the network when possible.

    Two built-in styles mix their weight vectors; two picture styles mix their vectors;
    other pairs mix the two outputs.
    """
    t = float(np.clip(t, 0.0, 1.0))
    if b is None or t == 0.0:
        return a
    if t == 1.0:
        return b
    name = f"{a.name} + {b.name} ({t:.0%})"
    if isinstance(a, BuiltinStyle) and isinstance(b, BuiltinStyle):
        return BuiltinStyle(a._cache, (1 - t) * a.weights + t * b.weights, name, a.model)
    if isinstance(a, PictureStyle) and isinstance(b, PictureStyle):
        return PictureStyle(a._cache, (1 - t) * a.vector + t * b.vector, name)
    return MixStyle(a, b, t)


def bgr_to_rgb01(bgr: np.ndarray) -> np.ndarray:
    """uint8 BGR -> float32 RGB in 0..1."""
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) * (1.0 / 255.0)


def rgb01_to_bgr(rgb: np.ndarray) -> np.ndarray:
    """float32 RGB in 0..1 -> uint8 BGR (clipped, rounded)."""
    u8 = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(u8, cv2.COLOR_RGB2BGR)


class StyleLibrary:
    """All styles the user can pick: 26 built-in, pictures, and user models in a folder.

    Styles and picture vectors are cached, so switching back to a style is instant.
    """

    def __init__(self, cache: SessionCache | None = None, styles_dir: Path | None = None) -> None:
        self.cache = cache or SessionCache()
        self.styles_dir = Path(styles_dir) if styles_dir else None
        self._builtin: dict[int, BuiltinStyle] = {}
        self._pictures: dict[str, PictureStyle] = {}
        self._user: dict[str, Style] | None = None
        self.refused: list[tuple[Path, str]] = []

    def builtin(self, index: int) -> BuiltinStyle:
        """Built-in style number `index` (0..25)."""
        if not 0 <= index < models.NUM_STYLES:
            raise StyleError(f"built-in style must be 0 to {models.NUM_STYLES - 1}, got {index}")
        if index not in self._builtin:
            w = np.zeros(models.NUM_STYLES, np.float32)
            w[index] = 1.0
            self._builtin[index] = BuiltinStyle(self.cache, w, builtin_name(index))
        return self._builtin[index]

    def builtin_all(self) -> list[BuiltinStyle]:
        """All 26 built-in styles, in index order."""
        return [self.builtin(i) for i in range(models.NUM_STYLES)]

    def from_picture(self, picture: str | Path | np.ndarray,
                     name: str | None = None) -> PictureStyle:
        """A style taken from a picture file or a BGR uint8 array (vector cached)."""
        if isinstance(picture, np.ndarray):
            bgr = picture
            key = hashlib.sha1(np.ascontiguousarray(bgr).tobytes()).hexdigest()
            label = name or "picture"
        else:
            path = Path(picture)
            bgr = load_image(path)
            key = f"{path.resolve()}:{path.stat().st_mtime_ns}"
            label = name or path.stem
        if key not in self._pictures:
            vector = PictureStyle.predict(self.cache, bgr_to_rgb01(bgr))
            self._pictures[key] = PictureStyle(self.cache, vector, label)
        return self._pictures[key]

    def user_styles(self, rescan: bool = False) -> dict[str, Style]:
        """User models from the styles folder, by name; refused ones land in ``refused``."""
        if self._user is None or rescan:
            from .usermodels import scan_styles_folder

            loaded, self.refused = scan_styles_folder(self.styles_dir, self.cache)
            self._user = {s.name: s for s in loaded}
        return self._user

    def resolve(self, spec: str) -> Style:
        """A style from ``N``, ``styleN``, a user model name, or a picture path."""
        text = str(spec).strip()
        digits = text.lower().removeprefix("style").strip()
        if digits.isdigit():
            return self.builtin(int(digits))
        path = Path(text)
        if path.suffix.lower() in IMAGE_SUFFIXES or path.is_file():
            return self.from_picture(path)
        user = self.user_styles()
        if text in user:
            return user[text]
        known = ", ".join(sorted(user)) or "none installed"
        raise StyleError(f"unknown style {text!r}: use 0-{models.NUM_STYLES - 1}, a picture file, "
                         f"or a user model name ({known})")
