"""``facelens bench-style --options``: which way of styling live 640x480 video is fastest here.

Each option is measured on this machine, on frames of a synthetic video made from face
photos (``--photos``, e.g. ``faces-dev``; else scikit-image's astronaut):

- the network as FaceLens runs it (fp32, instance norms fused) against copies made for the
  measurement only: int8 (static QDQ, calibrated on the first half of the frames) and fp16,
  each checked against fp32 on the other half (PSNR; a copy under :data:`MIN_PSNR_DB` is
  rejected whatever its speed);
- ONNX Runtime session settings: graph optimisation level, execution mode;
- the split of the two cores: 2 workers x 1 thread against 1 worker x 2 threads;
- how the styled frame is scaled back up: bilinear, or bilinear plus the camera frame's lost
  detail (:mod:`.upscale`), each compared with styling at full size.

Per option: wall time and CPU time per frame at 320x240 and 640x480 (one frame at a time,
median), and, for the live options, the frames per second displayed for 640x480 input at
30 FPS over ``seconds``. CPU time per frame is the fairer figure when other programs load
the machine.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from . import models
from .bench import live_run
from .live import threads_per_worker
from .render import AUTO
from .styles import bgr_to_rgb01

MIN_PSNR_DB = 30.0  # a faster copy must stay this close to fp32 (mean over styles and frames)
QUALITY_STYLES = (0, 7, 19)
SIZES = ((320, 240), (640, 480))


def synthetic_frames(photos: Path | None, n: int = 60, size: tuple[int, int] = (640, 480),
                     ) -> list[np.ndarray]:
    """`n` frames of six faces from `photos` (one per subfolder) moving on a backdrop."""
    if photos is None:
        from .bench import _camera_frames

        return _camera_frames(n, *size)
    from ..live.synth import Actor, render

    root = photos / "people" if (photos / "people").is_dir() else photos
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    files = [next(iter(sorted(f.glob("*.jpg")) + sorted(f.glob("*.png"))), None)
             for f in folders]
    actors = [Actor.from_file(f) for f in files if f is not None][:6]
    if not actors:
        raise FileNotFoundError(f"{photos}: no face photos (people/<name>/*.jpg) found")
    return [frame for frame, _ in render(actors, n / 30.0, 30.0, size, face_px=120)]


def _session(path: Path, threads: int, level: ort.GraphOptimizationLevel =
             ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
             mode: ort.ExecutionMode = ort.ExecutionMode.ORT_SEQUENTIAL) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = level
    opts.execution_mode = mode
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _feed(bgr: np.ndarray, size: tuple[int, int], style: int = 0) -> dict[str, np.ndarray]:
    small = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    image = np.ascontiguousarray(bgr_to_rgb01(small).transpose(2, 0, 1)[None])
    return {"image": image, "style_weights": np.eye(models.NUM_STYLES, dtype=np.float32)[style]}


def time_session(session: ort.InferenceSession, frame: np.ndarray, size: tuple[int, int],
                 runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of one styling call at `size`."""
    feed = _feed(frame, size)
    session.run(None, feed)
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        session.run(None, feed)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two images in 0..1 (clipped first)."""
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def compare(reference: ort.InferenceSession, other: ort.InferenceSession,
            frames: list[np.ndarray], size: tuple[int, int] = (320, 240)) -> dict:
    """PSNR (mean and worst) and mean absolute difference (0..255) of `other` against
    `reference`, over `frames` and :data:`QUALITY_STYLES`."""
    values, diffs = [], []
    for frame in frames:
        for style in QUALITY_STYLES:
            feed = _feed(frame, size, style)
            a = np.clip(reference.run(None, feed)[0], 0, 1)
            b = np.clip(other.run(None, feed)[0], 0, 1)
            values.append(psnr(a, b))
            diffs.append(float(np.abs(a - b).mean()) * 255)
    return {"psnr_db": round(statistics.mean(values), 1), "psnr_min_db": round(min(values), 1),
            "mean_abs_diff_255": round(statistics.mean(diffs), 2)}


def quantize_int8(fp32: Path, target: Path, frames: list[np.ndarray]) -> Path:
    """Static QDQ int8 copy of the 26-style net (Conv only, per-channel weights), with
    activation ranges calibrated on `frames` at 320x240 over several styles."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    feeds = [_feed(f, (320, 240), s) for i, f in enumerate(frames)
             for s in range(i % 3, models.NUM_STYLES, 3)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(feeds)

        def get_next(self) -> dict | None:
            return next(self._it, None)

    quantize_static(str(fp32), str(target), Reader(), quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=["Conv"], per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return target


def convert_fp16(fp32: Path, target: Path) -> Path:
    """fp16 copy (inputs and outputs stay fp32)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    onnx.save(convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True), str(target))
    return target


def _sharpness(bgr: np.ndarray) -> float:
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return float(np.mean(np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0)))
                 + np.mean(np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1))))


def upscale_figures(session: ort.InferenceSession, frames: list[np.ndarray]) -> dict:
    """Styled at 320x240 and scaled to 640x480, bilinear vs with detail, against styling at
    640x480: extra CPU ms, PSNR to the full-size result, and edge strength as a share of it."""
    from .styles import rgb01_to_bgr
    from .upscale import upscale, upscale_with_detail

    out: dict[str, dict[str, list[float]]] = {"bilinear": {}, "detail": {}}
    for frame in frames:
        for style in QUALITY_STYLES:
            small = cv2.resize(frame, (320, 240), interpolation=cv2.INTER_AREA)
            styled = rgb01_to_bgr(session.run(None, _feed(frame, (320, 240), style))[0][0]
                                  .transpose(1, 2, 0))
            full = rgb01_to_bgr(session.run(None, _feed(frame, (640, 480), style))[0][0]
                                .transpose(1, 2, 0))
            for name in ("bilinear", "detail"):
                c = time.process_time()
                big = (upscale(styled, (640, 480)) if name == "bilinear"
                       else upscale_with_detail(styled, frame, small))
                row = out[name]
                row.setdefault("cpu_ms", []).append((time.process_time() - c) * 1000)
                row.setdefault("psnr", []).append(psnr(big / 255.0, full / 255.0))
                row.setdefault("edges", []).append(_sharpness(big) / _sharpness(full))
    return {name: {"upscale_cpu_ms": round(statistics.median(r["cpu_ms"]), 1),
                   "psnr_vs_full_size_db": round(statistics.mean(r["psnr"]), 1),
                   "edges_vs_full_size": round(statistics.mean(r["edges"]), 2)}
            for name, r in out.items()}


def run_options_bench(photos: Path | None = None, seconds: float = 10.0,
                      json: bool = False) -> dict:
    """Measure every option (see the module docstring); print a table, or one JSON object."""
    frames = synthetic_frames(photos)
    calib, held = frames[:len(frames) // 2:6], frames[len(frames) // 2::6]
    fp32 = models.multistyle_model()
    result: dict = {"photos": str(photos) if photos else "scikit-image astronaut",
                    "load_average_1min_start": round(os.getloadavg()[0], 2),
                    "cpu_count": os.cpu_count(), "min_psnr_db": MIN_PSNR_DB, "models": {},
                    "session": {}, "live": {}}
    with tempfile.TemporaryDirectory() as tmp:
        files = {"fp32": fp32,
                 "int8_qdq": quantize_int8(fp32, Path(tmp) / "int8.onnx", calib),
                 "fp16": convert_fp16(fp32, Path(tmp) / "fp16.onnx")}
        ref = _session(fp32, 1)
        for name, path in files.items():
            one, two = _session(path, 1), _session(path, 2)
            row: dict = {}
            for w, h in SIZES:
                runs = 8 if w == 320 else 4
                row[f"cpu_ms_{w}x{h}_1thread"] = round(time_session(one, frames[0], (w, h),
                                                                    runs)[1], 1)
                row[f"ms_{w}x{h}_2threads"] = round(time_session(two, frames[0], (w, h),
                                                                 runs)[0], 1)
            if name != "fp32":
                row.update(compare(ref, one, held))
                row["accepted"] = row["psnr_db"] >= MIN_PSNR_DB
            result["models"][name] = row
        levels, seq = ort.GraphOptimizationLevel, ort.ExecutionMode.ORT_SEQUENTIAL
        for name, level, mode in (
                ("optimisation all (used)", levels.ORT_ENABLE_ALL, seq),
                ("optimisation extended", levels.ORT_ENABLE_EXTENDED, seq),
                ("optimisation basic", levels.ORT_ENABLE_BASIC, seq),
                ("parallel execution mode", levels.ORT_ENABLE_ALL,
                 ort.ExecutionMode.ORT_PARALLEL)):
            session = _session(fp32, 1, level, mode)
            result["session"][name] = {"cpu_ms_320x240_1thread": round(
                time_session(session, frames[0], (320, 240), 8)[1], 1)}
        result["upscale"] = upscale_figures(ref, held[:3])
        live = [("auto + detail (default)", fp32, AUTO, 2, True),
                ("fp32 320x240, 2 workers x 1 thread", fp32, (320, 240), 2, False),
                ("fp32 320x240, 1 worker x 2 threads", fp32, (320, 240), 1, False),
                ("int8 320x240, 2 workers x 1 thread", files["int8_qdq"], (320, 240), 2, False),
                ("fp32 640x480, 2 workers x 1 thread", fp32, None, 2, False)]
        for name, path, size, workers, detail in live:
            run = live_run("cpu", seconds, 30.0, size, workers, frames=frames, model=path,
                           detail=detail)
            result["live"][name] = {"fps_displayed": round(run["fps"], 1),
                                    "cpu_ms_per_frame": round(run["cpu_ms"], 1),
                                    "latency_p95_ms": round(run["p95"], 1),
                                    "styled_at": run["sizes"],
                                    "threads_per_worker": threads_per_worker(workers)}
    result["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    if json:
        import json as _json

        print(_json.dumps(result), flush=True)
    else:
        print(format_options(result), flush=True)
    return result


def format_options(r: dict) -> str:
    """The option tables as text."""
    lines = [f"style options bench (CPU, {r['cpu_count']} cores, load average "
             f"{r['load_average_1min_start']} -> {r['load_average_1min_end']}; frames: "
             f"{r['photos']})",
             f"{'model':<10} {'CPU ms 320x240':>15} {'CPU ms 640x480':>15} {'ms 320x240':>11} "
             f"{'ms 640x480':>11}  quality vs fp32 (1 thread CPU ms; wall ms with 2 threads)"]
    for name, m in r["models"].items():
        q = "reference" if name == "fp32" else (
            f"PSNR {m['psnr_db']} dB (worst {m['psnr_min_db']}), mean |diff| "
            f"{m['mean_abs_diff_255']}/255: "
            f"{'quality within' if m['accepted'] else 'rejected, under'} the "
            f"{r['min_psnr_db']:g} dB bound")
        lines.append(f"{name:<10} {m['cpu_ms_320x240_1thread']:>15} "
                     f"{m['cpu_ms_640x480_1thread']:>15} {m['ms_320x240_2threads']:>11} "
                     f"{m['ms_640x480_2threads']:>11}  {q}")
    lines.append("session settings (fp32, CPU ms at 320x240, 1 thread):")
    lines += [f"  {name:<26} {s['cpu_ms_320x240_1thread']}" for name, s in r["session"].items()]
    lines.append("scaling 320x240 -> 640x480, against styling at 640x480:")
    lines += [f"  {name:<9} +{u['upscale_cpu_ms']} ms CPU, PSNR {u['psnr_vs_full_size_db']} "
              f"dB, edges {u['edges_vs_full_size']:.0%} of full size"
              for name, u in r["upscale"].items()]
    lines.append("live 640x480 at 30 FPS in:")
    for name, v in r["live"].items():
        used = ", ".join(f"{k} x{n}" for k, n in sorted(v["styled_at"].items()))
        lines.append(f"  {name:<36} {v['fps_displayed']:>5} FPS shown, {v['cpu_ms_per_frame']:>6} "
                     f"CPU ms per frame, p95 {v['latency_p95_ms']} ms (styled at {used})")
    return "\n".join(lines)
