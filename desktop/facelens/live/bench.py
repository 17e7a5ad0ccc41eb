"""``facelens bench``: a recorded 640x480 video played through the whole live pipeline (capture
thread, labeller, analyser), against a naive loop that detects and embeds every face of every
frame, and optionally a peer library run the same naive way. Figures: FPS in and labelled,
dropped frames, capture-to-label latency, CPU use and peak memory, and ground truth: how well
the boxes shown sit on the faces and whether the names are right (see :mod:`.truth`).

Videos are played at their real frame rate, as a camera delivers them, or with
``as_fast_as_possible`` read as fast as each loop takes frames (throughput, like for like).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import psutil

from ..errors import FaceLensError
from ..gallery import Gallery
from ..images import load_image
from .pipeline import LivePipeline
from .recognise import LiveConfig
from .scene import RECOGNISED
from .sources import IMAGE_SUFFIXES, FrameReader, SourceSpec
from .synth import Actor, SynthVideo, write_video
from .tracker import iou_matrix
from .truth import score_run

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine

MOTIONS = {"door": 0.5, "fast": 1.0}  # peak speed, face widths per 100 ms
PEERS = ("face_recognition",)

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
        self.cpu_s = sum(self.proc.cpu_times()[:2]) - self.cpu0
        self.cpu_percent = 100.0 * self.cpu_s / self.wall

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
        "cpu_ms_per_frame": round(1000.0 * meter.cpu_s / max(len(latencies), 1), 1),
        "peak_rss_mb": round(meter.peak / 2**20, 1),
    }


def _photo_folders(root: Path) -> list[Path]:
    """`root` if it holds images itself, else every folder below it that does (one person
    each, like ``faces-dev/people/<name>``), in name order."""
    def has_images(folder: Path) -> bool:
        return any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir() if p.is_file())

    if not root.is_dir():
        raise FaceLensError(f"{root}: no such folder")
    if has_images(root) and not any(p.is_dir() for p in root.iterdir()):
        return [root]
    return [f for f in sorted([root, *(p for p in root.rglob("*") if p.is_dir())])
            if has_images(f)]


def sample_faces(engine: FaceEngine, photos: Path | None = None,
                 limit: int = 6) -> list[np.ndarray]:
    """Face photos for the video, each of a different person: the first photo with exactly one
    face of each folder holding photos (all of them for a flat folder) of `photos`, else the
    six faces of insightface's bundled group photo, cropped square around each face. Photos
    with no face or several (group photos, pictures without people) are passed over; fewer
    than `limit` usable people is an error, since a repeated face would be two actors."""
    if photos is not None:
        picks: list[np.ndarray] = []
        folders = _photo_folders(photos)
        flat = folders == [photos]
        for folder in folders:
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            for path in files:
                image = load_image(path)
                if len(engine.detect(image, 20)) == 1:
                    picks.append(image)
                    if not flat:
                        break  # one photo per person folder
            if len(picks) >= limit:
                break
        if len(picks) < limit:
            raise FaceLensError(f"{photos}: {len(picks)} photo(s) of different people with "
                                f"exactly one face found; the bench needs {limit} (one "
                                "subfolder of photos per person, or a folder of one-face "
                                "photos of different people)")
        return picks[:limit]
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


def enrol_actors(engine: FaceEngine, gallery: Gallery, video: SynthVideo, frame: np.ndarray,
                 strangers: Sequence[str] = ()) -> set[str]:
    """Enrol each actor but the `strangers` from the video's first frame, each under its true
    label (detections are matched to the true boxes); returns the enrolled labels."""
    faces = engine.detect(frame, 40)
    truth = [(label, box) for label, box in video.boxes[0] if label not in strangers]
    if not faces or not truth:
        return set()
    ious = iou_matrix(np.array([b for _, b in truth], np.float32),
                      np.array([f.box for f in faces], np.float32))
    enrolled = set()
    for (label, _), row in zip(truth, ious, strict=True):
        best = int(np.argmax(row))
        if row[best] >= 0.3:
            emb = engine.embed([engine.align(frame, faces[best].landmarks)])
            gallery.enrol(label, emb)
            enrolled.add(label)
    return enrolled


def scene_answers(scene) -> list:
    """What the view shows for one scene: (box, name or None) per face."""
    return [(f.box, f.name if f.state == RECOGNISED else None) for f in scene.faces]


def run_pipeline(engine: FaceEngine, gallery: Gallery, video: SynthVideo, config: LiveConfig,
                 enrolled: set[str], paced: bool = True) -> dict:
    """The live pipeline; beside the common figures, how often detection ran and how old the
    detection behind a label was (boxes are followed between detections). Unpaced, detection
    runs in lockstep on every ``config.detect_every``-th frame, so it keeps pace with the video."""
    latencies: list[float] = []
    ages: list[float] = []
    answers: dict[int, list] = {}

    def on_scene(scene) -> None:
        latencies.append(scene.latency_ms)
        answers[scene.frame_id] = scene_answers(scene)
        if scene.detection_age_ms is not None:
            ages.append(scene.detection_age_ms)

    pipe = LivePipeline(engine, lambda: gallery, config, on_scene, lockstep=not paced,
                        paced=paced)
    with ResourceMeter() as meter:
        pipe.start(SourceSpec("file", str(video.path)))
        pipe.wait()
    out = figures(pipe.reader, latencies, meter)
    out["detections_per_s"] = round(pipe.analyses / meter.wall, 1)
    out["detection_age_p95_ms"] = round(float(np.percentile(ages or [float("nan")], 95)), 1)
    out.update(score_run(video.boxes, answers, enrolled))
    return out


def naive_loop(video: SynthVideo, enrolled: set[str], paced: bool,
               answer: Callable[[np.ndarray], list]) -> dict:
    """Newest frame each time, `answer(image)` -> [(box, name or None)] on every one."""
    latencies: list[float] = []
    answers: dict[int, list] = {}
    reader = FrameReader(SourceSpec("file", str(video.path)), paced=paced)
    with ResourceMeter() as meter:
        reader.start()
        last = -1
        while not reader.finished.is_set() or reader.latest(last, 0) is not None:
            frame = reader.latest(last, 0.25)
            if frame is None:
                continue
            last = frame.frame_id
            answers[frame.frame_id] = answer(frame.image)
            latencies.append((time.monotonic() - frame.captured) * 1000.0)
        reader.stop()
    out = figures(reader, latencies, meter)
    out.update(score_run(video.boxes, answers, enrolled))
    return out


def run_naive(engine: FaceEngine, gallery: Gallery, video: SynthVideo, threshold: float,
              enrolled: set[str], paced: bool = True) -> dict:
    """Detect on the full frame and embed every face, every frame."""

    def answer(image: np.ndarray) -> list:
        faces = engine.detect(image, 40)
        if not faces:
            return []
        embs = engine.embed([engine.align(image, f.landmarks) for f in faces])
        matches = gallery.identify(embs, threshold)
        return [(tuple(float(v) for v in f.box), m.name)
                for f, m in zip(faces, matches, strict=True)]

    return naive_loop(video, enrolled, paced, answer)


def load_peer(name: str):
    """The peer library's module; FaceLensError (with what to install) when it is absent."""
    if name not in PEERS:
        raise FaceLensError(f"--peer {name}: unknown peer; the one supported is "
                            f"{', '.join(PEERS)}")
    try:
        import face_recognition
    except (ImportError, SystemExit) as exc:  # face_recognition quit()s without its models
        raise FaceLensError(
            f"--peer {name}: the package is not installed ({exc}); install the extra with "
            "pip install 'facelens[peer]' (face-recognition, face-recognition-models, "
            "dlib-bin, setuptools<81)") from exc
    return face_recognition


def run_peer(fr, video: SynthVideo, first: np.ndarray, strangers: Sequence[str],
             paced: bool = True) -> dict:
    """ageitgey's face_recognition the way its README shows: HOG face_locations and
    face_encodings on every full frame, compared with faces enrolled from the first frame
    (under their true boxes) at its default tolerance 0.6."""
    rgb = np.ascontiguousarray(first[:, :, ::-1])
    known = [(label, (int(b[1]), int(b[2]), int(b[3]), int(b[0])))
             for label, b in video.boxes[0] if label not in strangers]
    names = [label for label, _ in known]
    encodings = fr.face_encodings(rgb, [loc for _, loc in known])

    def answer(image: np.ndarray) -> list:
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        locations = fr.face_locations(rgb)
        out = []
        for (top, right, bottom, left), enc in zip(
                locations, fr.face_encodings(rgb, locations), strict=True):
            name = None
            if names:
                distances = fr.face_distance(encodings, enc)
                best = int(np.argmin(distances))
                if distances[best] <= 0.6:
                    name = names[best]
            out.append(((float(left), float(top), float(right), float(bottom)), name))
        return out

    return naive_loop(video, set(names), paced, answer)


def run_bench(engine: FaceEngine, counts=(1, 3, 6), seconds: float = 10.0,
              photos: Path | None = None,
              config: LiveConfig | None = None,
              log: Callable[[str], None] = lambda m: None, motions: Sequence[str] = ("door",),
              paced: bool = True, peer=None) -> dict:
    """Build a 640x480 30 FPS video per face count and motion; measure the pipeline, the naive
    loop and (`peer`: a module from :func:`load_peer`) the peer. From 3 faces on, the last
    actor is a stranger (not enrolled)."""
    config = config or LiveConfig(engine.default_threshold)
    faces = sample_faces(engine, photos, max(counts))
    runs = []
    with tempfile.TemporaryDirectory(prefix="facelens-bench-") as tmp:
        for motion in motions:
            for n in counts:
                strangers = ("stranger",) if n >= 3 else ()
                actors = [Actor(faces[i % len(faces)], f"person{i + 1}") for i in range(n)]
                if strangers:
                    actors[-1].label = strangers[0]
                face_px = 140 if n <= 4 else 120
                video = write_video(Path(tmp) / f"faces{n}-{motion}.avi", actors, seconds,
                                    30.0, face_px=face_px, speed=MOTIONS[motion])
                cap = cv2.VideoCapture(str(video.path))
                first = cap.read()[1]
                cap.release()
                gallery = Gallery.open(Path(tmp) / f"gallery{n}-{motion}.db", engine.model_id,
                                       engine.dim)
                enrolled = enrol_actors(engine, gallery, video, first, strangers)
                if len(enrolled) < n - len(strangers):
                    gallery.close()
                    raise FaceLensError(f"{n} face(s), {motion} motion: only {len(enrolled)} "
                                        f"of {n - len(strangers)} actors could be enrolled "
                                        "from the video's first frame")
                run = {"faces": n, "motion": motion, "speed": MOTIONS[motion],
                       "enrolled": len(enrolled), "strangers": len(strangers)}
                log(f"{n} face(s), {motion} motion: pipeline...")
                run["pipeline"] = run_pipeline(engine, gallery, video, config, enrolled, paced)
                log(f"{n} face(s), {motion} motion: naive loop...")
                run["naive"] = run_naive(engine, gallery, video, config.threshold, enrolled,
                                         paced)
                if peer is not None:
                    log(f"{n} face(s), {motion} motion: peer face_recognition...")
                    run["peer"] = run_peer(peer, video, first, strangers, paced)
                gallery.close()
                runs.append(run)
    return {"runs": runs, "provider": engine.provider, "pack": engine.pack_name,
            "seconds": seconds, "cpus": psutil.cpu_count(), "paced": paced,
            "video": "640x480 MJPG at 30 FPS" + ("" if paced else ", read as fast as possible"),
            "load_average": [round(v, 2) for v in psutil.getloadavg()]}


TABLE_KEYS = ["fps_in", "fps_labelled", "dropped", "latency_p95_ms", "cpu_percent",
              "cpu_ms_per_frame", "iou_mean", "iou_ge_05", "named_right", "strangers_named",
              "frames_all_right", "correct_fraction"]


def format_table(result: dict) -> str:
    """The bench result as a text table, one line per loop and run."""
    keys = TABLE_KEYS
    head = f"{'faces':>5} {'motion':<6} {'loop':<8} " + " ".join(f"{k:>16}" for k in keys)
    lines = [f"facelens bench: {result['video']}, {result['seconds']:.0f} s per run, "
             f"provider {result['provider']}, pack {result['pack']}, {result['cpus']} CPUs, "
             f"load average {result['load_average'][0]} (others' work counts in CPU %)", head]
    for run in result["runs"]:
        for loop in ("pipeline", "naive", "peer"):
            if loop in run:
                cells = ["-" if run[loop][k] is None else run[loop][k] for k in keys]
                lines.append(f"{run['faces']:>5} {run['motion']:<6} {loop:<8} "
                             + " ".join(f"{c:>16}" for c in cells))
        p, n = run["pipeline"], run["naive"]
        speedup = p["fps_labelled"] / max(n["fps_labelled"], 1e-9)
        lines.append(f"{'':>5} {'':<6} {'speed-up':<8} {speedup:>16.1f}x   (pipeline "
                     f"detections {p['detections_per_s']}/s, detection behind a label p95 "
                     f"{p['detection_age_p95_ms']} ms old)")
    if result.get("peer_skipped"):
        lines.append(f"peer skipped: {result['peer_skipped']}")
    return "\n".join(lines)
