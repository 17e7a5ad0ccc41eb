"""Photos for enrolment: find the face in each file, check its quality, embed it (no Qt)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import FaceLensError
from ..images import load_image

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine


@dataclass(frozen=True)
class PhotoResult:
    """One photo: its embedding and aligned crop, or why it was rejected."""

    path: Path
    reason: str | None  # None: accepted
    embedding: np.ndarray | None = None
    thumbnail: np.ndarray | None = None
    note: str | None = None  # e.g. "3 faces: used the largest"

    @property
    def ok(self) -> bool:
        return self.reason is None


def prepare_photo(engine: FaceEngine, path: str | Path, min_face: int = 40) -> PhotoResult:
    """Detect the largest face of `path`, quality-check and embed it."""
    path = Path(path)
    try:
        image = load_image(path)
        faces = engine.analyze_photo(image, min_face=20)
    except FaceLensError as exc:
        return PhotoResult(path, str(exc).removeprefix(f"{path}: "))
    except MemoryError:
        return PhotoResult(path, "not enough memory to process this image; try a smaller one")
    except Exception as exc:  # a decoder or model failure on odd input: this photo only
        return PhotoResult(path, f"could not be processed ({type(exc).__name__})")
    if not faces:
        return PhotoResult(path, "no face found")
    best = faces[0]
    report = engine.quality(image, best.face, crop=best.crop, min_size=min_face)
    if not report.ok:
        return PhotoResult(path, report.reason, thumbnail=best.crop)
    note = f"{len(faces)} faces: used the largest" if len(faces) > 1 else None
    return PhotoResult(path, None, best.embedding, best.crop, note)


def prepare_photos(engine: FaceEngine, paths: Sequence[str | Path], min_face: int = 40,
                   progress: Callable[[int, int], None] | None = None,
                   cancelled: Callable[[], bool] | None = None) -> list[PhotoResult]:
    """:func:`prepare_photo` for each path, reporting ``progress(done, total)``."""
    results = []
    for i, path in enumerate(paths):
        if cancelled and cancelled():
            break
        results.append(prepare_photo(engine, path, min_face))
        if progress:
            progress(i + 1, len(paths))
    return results


def rejection_summary(results: Sequence[PhotoResult]) -> str:
    """A short text: how many were used, and each rejected file with its reason."""
    used = sum(r.ok for r in results)
    lines = [f"{used} of {len(results)} photos used."]
    lines += [f"{r.path.name}: {r.reason}" for r in results if not r.ok]
    return "\n".join(lines)


@dataclass(frozen=True)
class FaceOption:
    """One face found in a photo: its box, aligned crop, embedding and quality verdict."""

    box: tuple[float, float, float, float]
    crop: np.ndarray
    embedding: np.ndarray
    reason: str | None  # None: good enough to enrol

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class PhotoFaces:
    """A photo with every face found in it (largest first), or why none can be used."""

    path: Path
    image: np.ndarray | None
    faces: tuple[FaceOption, ...]
    reason: str | None  # the photo cannot be read or holds no face

    def result(self, index: int | None) -> PhotoResult:
        """The enrolment result when face `index` is chosen (None: none chosen).

        One face is taken without asking; with several, only the chosen one is used and a
        photo where none was chosen is rejected with the reason, never enrolled silently.
        """
        if self.reason is not None:
            return PhotoResult(self.path, self.reason)
        if index is None and len(self.faces) == 1:
            index = 0
        if index is None:
            return PhotoResult(self.path, f"{len(self.faces)} faces found and none chosen: "
                               "use a photo of one person, or choose their face")
        face = self.faces[index]
        if not face.ok:
            return PhotoResult(self.path, face.reason, thumbnail=face.crop)
        note = f"face {index + 1} of {len(self.faces)}, chosen" if len(self.faces) > 1 else None
        return PhotoResult(self.path, None, face.embedding, face.crop, note)


def photo_faces(engine, path: str | Path, min_face: int = 40) -> PhotoFaces:
    """Every face of `path` with its quality verdict, for the user to choose from."""
    path = Path(path)
    try:
        image = load_image(path)
    except FaceLensError as exc:
        return PhotoFaces(path, None, (), str(exc).removeprefix(f"{path}: "))
    found = engine.analyze_photo(image, min_face=20)
    if not found:
        return PhotoFaces(path, image, (), "no face found")
    options = []
    for f in found:
        report = engine.quality(image, f.face, crop=f.crop, min_size=min_face)
        options.append(FaceOption(tuple(float(v) for v in f.face.box), f.crop, f.embedding,
                                  None if report.ok else report.reason))
    return PhotoFaces(path, image, tuple(options), None)
