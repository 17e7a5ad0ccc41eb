"""Photos for enrolment: find the face in each file, check its quality, embed it (no Qt)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FaceLensError
from ..images import load_image


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


def prepare_photo(engine, path: str | Path, min_face: int = 40) -> PhotoResult:
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


def prepare_photos(engine, paths: Sequence[str | Path], min_face: int = 40,
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
