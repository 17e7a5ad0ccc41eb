"""`facelens bench-engine`: detection, embedding and search speed, and peak memory.

Frames come from insightface's bundled ``t1.jpg`` (six people): the whole photo scaled to
640x480 for six faces, and a 4:3 window around one face for one face.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from .faces import largest_face
from .recognizer import FaceEngine

MIN_FACE = 40  # px, in the benchmarked frame


def sample_photo() -> np.ndarray:
    """insightface's t1.jpg: six people around a table."""
    import insightface

    path = Path(insightface.__file__).parent / "data" / "images" / "t1.jpg"
    img = cv2.imread(str(path))
    if img is None:
        raise FileNotFoundError(path)
    return img


def one_face_frame(engine: FaceEngine, photo: np.ndarray) -> np.ndarray:
    """A 640x480 frame around the largest face of `photo`."""
    face = largest_face(engine.detect(photo, 20))
    cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
    w = face.size * 2.4
    h = w * 3 / 4
    x1, y1 = int(max(cx - w / 2, 0)), int(max(cy - h / 2, 0))
    window = photo[y1:int(y1 + h), x1:int(x1 + w)]
    return cv2.resize(window, (640, 480), interpolation=cv2.INTER_AREA)


def median_ms(fn: Callable[[], object], repeat: int, warmup: int = 3) -> float:
    """Median wall time of `fn` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def run_bench(engine: FaceEngine, repeat: int = 30) -> dict:
    """All figures of `facelens bench-engine` as one dict."""
    from ..gallery.bench import bench_search

    photo = sample_photo()
    six = cv2.resize(photo, (640, 480), interpolation=cv2.INTER_AREA)
    one = one_face_frame(engine, photo)
    one_small = cv2.resize(one, (320, 240), interpolation=cv2.INTER_AREA)
    counts = {k: len(engine.detect(f, MIN_FACE))
              for k, f in (("320_1", one_small), ("640_1", one), ("640_6", six))}
    crops = [engine.align(photo, f.landmarks) for f in engine.detect(photo, 20)]
    batch8 = (crops * 2)[:8]
    figures = {
        "det_ms_320_1face": median_ms(lambda: engine.detect(one_small, MIN_FACE), repeat),
        "det_ms_640_1face": median_ms(lambda: engine.detect(one, MIN_FACE), repeat),
        "det_ms_640_6faces": median_ms(lambda: engine.detect(six, MIN_FACE), repeat),
        "embed_ms_per_face_b1": median_ms(lambda: engine.embed(batch8[:1]), repeat),
        "embed_ms_per_face_b8": median_ms(lambda: engine.embed(batch8), repeat) / 8,
        "search_ms_1k": bench_search(1_000, engine.dim),
        "search_ms_100k": bench_search(100_000, engine.dim),
    }
    figures = {k: round(v, 3) for k, v in figures.items()}
    figures["faces_found"] = counts
    figures["min_face_px"] = MIN_FACE
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["provider"] = engine.provider
    return figures
