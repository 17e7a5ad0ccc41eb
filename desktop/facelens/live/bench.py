"""``facelens bench``: a recorded 640x480 video played at its real frame rate through the whole
live pipeline (capture thread, labeller, analyser), against a naive loop that detects and
embeds every face of every frame. Figures: FPS in and labelled, dropped frames, capture-to-label
latency, CPU use and peak memory."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import psutil

from ..gallery import Gallery
from ..images import load_image
from .pipeline import LivePipeline
from .recognise import LiveConfig
from .sources import IMAGE_SUFFIXES, FrameReader, SourceSpec
from .synth import Actor, write_video

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine


class ResourceMeter:
    """CPU use (percent of one core) and peak RSS of this process while it runs."""

    def __init__(self, interval: float = 0.02):
        self.proc = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ResourceMeter:
        self.t0, self.cpu0 = time.monotonic(), sum(self.proc.cpu_times()[:2])
        self.peak = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.wall = time.monotonic() - self.t0
        self.cpu_percent = 100.0 * (sum(self.proc.cpu_times()[:2]) - self.cpu0) / self.wall

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.proc.memory_info().rss)


def figures(reader: FrameReader, latencies: list[float], meter: ResourceMeter) -> dict:
    """The figure set of one run; rates are per second of video played (first to last frame)."""
    lat = np.asarray(latencies or [float("nan")])
    frames_in = reader.frames_read
    span = (reader.last_time - reader.first_time) * frames_in / max(frames_in - 1, 1)
    span = span or meter.wall
    return {
        "fps_in": round(frames_in / span, 1),
        "fps_labelled": round(len(latencies) / span, 1),
        "dropped": max(0, frames_in - len(latencies)),
        "latency_p50_ms": round(float(np.percentile(lat, 50)), 1),
        "latency_p95_ms": round(float(np.percentile(lat, 95)), 1),
        "cpu_percent": round(meter.cpu_percent, 1),
        "peak_rss_mb": round(meter.peak / 2**20, 1),
    }


def sample_faces(engine: FaceEngine, photos: Path | None = None,
                 limit: int = 6) -> list[np.ndarray]:
    """Face photos for the video: one per subfolder (or file) of `photos`, else the six faces
    of insightface's bundled group photo, cropped square around each face."""
    if photos is not None:
        folders = sorted(p for p in photos.iterdir() if p.is_dir()) or [photos]
        picks = []
        for folder in folders:
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            picks += files[:1] if folder != photos else files
        return [load_image(p) for p in picks[:limit]]
    from ..engine.bench import sample_photo

    photo = sample_photo()
    faces = sorted(engine.detect(photo, 20), key=lambda f: f.box[0])[:limit]
    crops = []
    for f in faces:
        cx, cy = (f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2
        half = 0.55 * max(f.box[2] - f.box[0], f.box[3] - f.box[1])
        x1, y1 = int(max(0, cx - half)), int(max(0, cy - half))
        crops.append(photo[y1:int(cy + half), x1:int(cx + half)].copy())
    return crops


def enrol_actors(engine: FaceEngine, gallery: Gallery, actors: list[Actor],
                 frame: np.ndarray) -> None:
    """Enrol each actor from the video's first frame (so the gallery has real matches)."""
    faces = engine.detect(frame, 40)
    if faces:
        embs = engine.embed([engine.align(frame, f.landmarks) for f in faces])
        for i, emb in enumerate(embs):
            gallery.enrol(f"person{i + 1}", emb[None, :])


def run_pipeline(engine: FaceEngine, gallery: Gallery, video: Path, config: LiveConfig) -> dict:
    """The live pipeline; beside the common figures, how often detection ran and how old the
    detection behind a label was (boxes are followed by template matching in between)."""
    latencies: list[float] = []
    ages: list[float] = []

    def on_scene(scene) -> None:
        latencies.append(scene.latency_ms)
        if scene.detection_age_ms is not None:
            ages.append(scene.detection_age_ms)

    pipe = LivePipeline(engine, lambda: gallery, config, on_scene)
    with ResourceMeter() as meter:
        pipe.start(SourceSpec("file", str(video)))
        pipe.wait()
    out = figures(pipe.reader, latencies, meter)
    out["detections_per_s"] = round(pipe.analyses / meter.wall, 1)
    out["detection_age_p95_ms"] = round(float(np.percentile(ages or [float("nan")], 95)), 1)
    return out


def run_naive(engine: FaceEngine, gallery: Gallery, video: Path, threshold: float) -> dict:
    """Newest frame each time; detect on the full frame and embed every face, every frame."""
    latencies: list[float] = []
    reader = FrameReader(SourceSpec("file", str(video)))
    with ResourceMeter() as meter:
        reader.start()
        last = -1
        while not reader.finished.is_set() or reader.latest(last, 0) is not None:
            frame = reader.latest(last, 0.25)
            if frame is None:
                continue
            last = frame.frame_id
            faces = engine.detect(frame.image, 40)
            if faces:
                embs = engine.embed([engine.align(frame.image, f.landmarks) for f in faces])
                gallery.identify(embs, threshold)
            latencies.append((time.monotonic() - frame.captured) * 1000.0)
        reader.stop()
    return figures(reader, latencies, meter)


def run_bench(engine: FaceEngine, counts=(1, 3, 6), seconds: float = 10.0,
              photos: Path | None = None,
              config: LiveConfig | None = None,
              log: Callable[[str], None] = lambda m: None) -> dict:
    """Build a 640x480 30 FPS video per face count and measure pipeline and naive loop."""
    config = config or LiveConfig(engine.default_threshold)
    faces = sample_faces(engine, photos, max(counts))
    runs = []
    with tempfile.TemporaryDirectory(prefix="facelens-bench-") as tmp:
        for n in counts:
            actors = [Actor(faces[i % len(faces)], f"person{i + 1}") for i in range(n)]
            face_px = 140 if n <= 4 else 120
            video = write_video(Path(tmp) / f"faces{n}.avi", actors, seconds, 30.0,
                                face_px=face_px)
            cap = cv2.VideoCapture(str(video.path))
            first = cap.read()[1]
            cap.release()
            gallery = Gallery.open(Path(tmp) / f"gallery{n}.db", engine.model_id, engine.dim)
            enrol_actors(engine, gallery, actors, first)
            log(f"{n} face(s): pipeline...")
            pipeline = run_pipeline(engine, gallery, video.path, config)
            log(f"{n} face(s): naive loop...")
            naive = run_naive(engine, gallery, video.path, config.threshold)
            gallery.close()
            runs.append({"faces": n, "pipeline": pipeline, "naive": naive})
    return {"runs": runs, "provider": engine.provider, "pack": engine.pack_name,
            "seconds": seconds, "video": "640x480 MJPG at 30 FPS", "cpus": psutil.cpu_count()}


def format_table(result: dict) -> str:
    keys = ["fps_in", "fps_labelled", "dropped", "latency_p50_ms", "latency_p95_ms",
            "cpu_percent", "peak_rss_mb"]
    head = f"{'faces':>5} {'loop':<8} " + " ".join(f"{k:>15}" for k in keys)
    lines = [f"facelens bench: {result['video']}, {result['seconds']:.0f} s per run, "
             f"provider {result['provider']}, pack {result['pack']}, {result['cpus']} CPUs", head]
    for run in result["runs"]:
        for loop in ("pipeline", "naive"):
            lines.append(f"{run['faces']:>5} {loop:<8} "
                         + " ".join(f"{run[loop][k]:>15}" for k in keys))
        p, n = run["pipeline"], run["naive"]
        speedup = p["fps_labelled"] / max(n["fps_labelled"], 1e-9)
        lines.append(f"{'':>5} {'speed-up':<8} {speedup:>15.1f}x   (pipeline detections "
                     f"{p['detections_per_s']}/s, detection behind a label p95 "
                     f"{p['detection_age_p95_ms']} ms old)")
    return "\n".join(lines)
