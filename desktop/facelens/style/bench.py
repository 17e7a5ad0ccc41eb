"""``facelens bench --style``: style latency and live FPS on this machine, measured honestly."""

from __future__ import annotations

import json as _json
import os
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from .live import FrameResult, LiveStyler, default_workers, style_budget_ms, threads_per_worker
from .models import SessionCache, multistyle_model
from .render import AUTO, StyleRenderer
from .styles import BuiltinStyle, StyleLibrary


def sample_photo(w: int = 640, h: int = 480) -> np.ndarray:
    """A real photo (scikit-image's astronaut) cropped to 4:3 and sized w x h, BGR."""
    from skimage import data

    rgb = data.astronaut()[64:448]  # 384 x 512: 4:3
    return cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), (w, h), interpolation=cv2.INTER_AREA)


def _camera_frames(n: int, w: int, h: int) -> list[np.ndarray]:
    """`n` frames of a slow pan across the photo, like a hand-held camera."""
    big = sample_photo(w + 64, h + 48)
    return [big[(i % 48):(i % 48) + h, (i % 64):(i % 64) + w].copy() for i in range(n)]


def _style_ms(renderer: StyleRenderer, frame: np.ndarray, runs: int) -> float:
    renderer.render(frame)  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        renderer.render(frame)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def live_run(provider: str, seconds: float, camera_fps: float,
             process: tuple[int, int] | str | None, workers: int,
             frames: list[np.ndarray] | None = None, model: Path | None = None,
             detail: bool = True) -> dict:
    """Feed 640x480 frames at `camera_fps` to the live workers; FPS shown and latencies.

    `frames` default to a slow pan across a photo; `model` to the 26-style network as used;
    `detail` as in the panel (fine detail put back when scaling up).
    """
    cache = SessionCache(provider, threads_per_worker(workers))
    style = StyleLibrary(cache).builtin(0)
    if model is not None:
        style = BuiltinStyle(cache, style.weights, style.name, model)
    renderer = StyleRenderer(style, process_size=process, detail=detail,
                             auto_budget_ms=style_budget_ms(workers))
    results: list[tuple[float, FrameResult]] = []
    lock = threading.Lock()

    def on_result(_: np.ndarray, info: FrameResult) -> None:
        with lock:
            results.append((time.perf_counter(), info))

    frames = frames or _camera_frames(64, 640, 480)
    live = LiveStyler(renderer, on_result, workers)
    renderer.render(frames[0])  # warm-up before the clock starts
    cpu_start = time.process_time()
    t_start = time.perf_counter()
    n = 0
    while time.perf_counter() - t_start < seconds:
        live.submit(frames[n % len(frames)])
        n += 1
        time.sleep(max(0.0, t_start + n / camera_fps - time.perf_counter()))
    t_end = time.perf_counter()
    while not live.idle() and time.perf_counter() - t_end < 2.0:
        time.sleep(0.005)
    live.stop()
    cpu_ms = (time.process_time() - cpu_start) * 1000 / max(1, len(results))
    lat = sorted(info.latency_ms for _, info in results) or [float("nan")]
    sizes = Counter(f"{i.size[0]}x{i.size[1]}" for _, i in results)
    return {"fps": sum(t <= t_end for t, _ in results) / (t_end - t_start),
            "p50": statistics.median(lat), "p95": lat[round(0.95 * (len(lat) - 1))],
            "cpu_ms": cpu_ms, "submitted": n, "styled": len(results), "sizes": dict(sizes)}


def run_style_bench(json: bool = False, seconds: float = 5.0, provider: str = "auto",
                    camera_fps: float = 30.0, workers: int | None = None) -> dict:
    """Measure and print style latency at 320x240 and 640x480, and live FPS at 640x480.

    Latency per frame: one frame styled at its full size. Live: 640x480 frames of a real
    photo at `camera_fps` go to the same workers the panel uses (newest frame wins, styled at
    the panel's default automatic size of at least 320x240, scaled back up with the detail
    of the camera frame); FPS counts styled
    frames delivered per second, latency runs from submit to styled frame. A second live run
    at a fixed 320x240 is reported under ``fixed_320x240``.
    """
    cache = SessionCache(provider)
    full = StyleRenderer(StyleLibrary(cache).builtin(0), process_size=None)
    ms_small = _style_ms(full, sample_photo(320, 240), 10)
    ms_large = _style_ms(full, sample_photo(640, 480), 6)
    workers = workers or default_workers()
    auto = live_run(provider, seconds, camera_fps, AUTO, workers)
    fixed = live_run(provider, seconds, camera_fps, (320, 240), workers)
    result = {
        "style_ms_320x240": round(ms_small, 1),
        "style_ms_640x480": round(ms_large, 1),
        "fps_displayed_640x480": round(auto["fps"], 1),
        "latency_p95_ms": round(auto["p95"], 1),
        "latency_p50_ms": round(auto["p50"], 1),
        "process_size": "auto (320x240 or more)",
        "process_sizes_used": auto["sizes"],
        "fixed_320x240": {"fps_displayed": round(fixed["fps"], 1),
                          "latency_p95_ms": round(fixed["p95"], 1),
                          "latency_p50_ms": round(fixed["p50"], 1)},
        "camera_fps": camera_fps,
        "frames_submitted": auto["submitted"],
        "frames_styled": auto["styled"],
        "cpu_ms_per_styled_frame": round(auto["cpu_ms"], 1),
        "provider": cache.provider_used(),
        "threads": cache.get(multistyle_model()).get_session_options().intra_op_num_threads,
        "live_workers": workers,
        "live_threads_per_worker": threads_per_worker(workers),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
    if json:
        print(_json.dumps(result), flush=True)
        return result
    used = ", ".join(f"{k} x{v}" for k, v in sorted(auto["sizes"].items()))
    print(f"style bench ({result['provider']}, built-in style 0, photo: scikit-image astronaut)\n"
          f"  style latency 320x240: {ms_small:.1f} ms per frame (median of 10, "
          f"{result['threads']} threads)\n"
          f"  style latency 640x480: {ms_large:.1f} ms per frame (median of 6)\n"
          f"  live 640x480 at {camera_fps:g} fps in, automatic size: {auto['fps']:.1f} FPS "
          f"displayed, latency p50 {auto['p50']:.0f} ms, p95 {auto['p95']:.0f} ms "
          f"(styled at {used})\n"
          f"  live 640x480, fixed 320x240: {fixed['fps']:.1f} FPS displayed, latency p50 "
          f"{fixed['p50']:.0f} ms, p95 {fixed['p95']:.0f} ms\n"
          f"  {workers} worker(s) x {threads_per_worker(workers)} thread(s); CPU time per "
          f"styled frame {auto['cpu_ms']:.0f} ms\n"
          f"  machine: {os.cpu_count()} cores, load average {result['load_average_1min']} "
          "(other programs running make every figure slower)", flush=True)
    return result
