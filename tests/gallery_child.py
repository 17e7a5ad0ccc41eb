"""What a second FaceLens process does in the concurrency tests (kept small: the forkserver's
children import only this, numpy and the gallery)."""

from __future__ import annotations

import time
import zlib
from pathlib import Path

import numpy as np

from facelens.gallery import Gallery


def create_and_enrol(path: str, model: str, dim: int, name: str, start_at: float,
                     errors) -> None:
    """At `start_at`, open (creating) the gallery at `path` and enrol `name`; any failure goes
    to the `errors` queue, never swallowed."""
    try:
        while time.time() < start_at:
            pass
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        v = rng.standard_normal((1, dim)).astype(np.float32)
        with Gallery.open(Path(path), model, dim) as g:
            g.enrol(name, v / np.linalg.norm(v))
    except BaseException as exc:
        errors.put(f"{name}: {type(exc).__name__}: {exc}")
