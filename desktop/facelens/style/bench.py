"""``facelens bench --style``: style latency and live FPS on this machine, measured honestly."""

from __future__ import annotations

import json as _json
import os
import statistics
import threading
import time

import cv2
import numpy as np

from .live import FrameResult, LiveStyler, default_workers, threads_per_worker
from .models import SessionCache, multistyle_model
from .render import StyleRenderer
from .styles import StyleLibrary


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


def _live(provider: str, seconds: float, camera_fps: float, process: tuple[int, int],
          workers: int) -> dict:
    library = StyleLibrary(SessionCache(provider, threads_per_worker(workers)))
    renderer = StyleRenderer(library.builtin(0), process_size=process)
    results: list[tuple[float, FrameResult]] = []
    lock = threading.Lock()

    def on_result(_: np.ndarray, info: FrameResult) -> None:
        with lock:
            results.append((time.perf_counter(), info))

    frames = _camera_frames(64, 640, 480)
    live = LiveStyler(renderer, on_result, workers)
    renderer.render(frames[0])  # warm-up before the clock starts
    period = 1.0 / camera_fps
    cpu_start = time.process_time()
    t_start = time.perf_counter()
    n = 0
    while time.perf_counter() - t_start < seconds:
        live.submit(frames[n % len(frames)])
        n += 1
        time.sleep(max(0.0, t_start + n * period - time.perf_counter()))
    t_end = time.perf_counter()
    while not live.idle() and time.perf_counter() - t_end < 2.0:
        time.sleep(0.005)
    live.stop()
    cpu_ms = (time.process_time() - cpu_start) * 1000 / max(1, len(results))
    shown = [info for t, info in results if t <= t_end]
    lat = sorted(info.latency_ms for _, info in results) or [float("nan")]
    return {"fps": len(shown) / (t_end - t_start), "p50": statistics.median(lat),
            "p95": lat[round(0.95 * (len(lat) - 1))], "cpu_ms": cpu_ms,
            "submitted": n, "styled": len(results)}


def run_style_bench(json: bool = False, seconds: float = 5.0, provider: str = "auto",
                    camera_fps: float = 30.0, process: tuple[int, int] = (320, 240),
                    workers: int | None = None) -> dict:
    """Measure and print style latency at 320x240 and 640x480, and live FPS at 640x480.

    The live figure feeds 640x480 frames of a real photo at `camera_fps` into the same
    worker the panel uses (newest frame wins, styled at `process`, scaled back up) and counts
    styled frames delivered per second; latency runs from submit to styled frame.
    """
    cache = SessionCache(provider)
    library = StyleLibrary(cache)
    full = StyleRenderer(library.builtin(0), process_size=None)
    ms_small = _style_ms(full, sample_photo(320, 240), 10)
    ms_large = _style_ms(full, sample_photo(640, 480), 6)
    workers = workers or default_workers()
    live = _live(provider, seconds, camera_fps, process, workers)
    result = {
        "style_ms_320x240": round(ms_small, 1),
        "style_ms_640x480": round(ms_large, 1),
        "fps_displayed_640x480": round(live["fps"], 1),
        "latency_p95_ms": round(live["p95"], 1),
        "latency_p50_ms": round(live["p50"], 1),
        "process_size": f"{process[0]}x{process[1]}",
        "camera_fps": camera_fps,
        "frames_submitted": live["submitted"],
        "frames_styled": live["styled"],
        "cpu_ms_per_styled_frame": round(live["cpu_ms"], 1),
        "provider": cache.provider_used(),
        "threads": cache.get(multistyle_model()).get_session_options().intra_op_num_threads,
        "live_workers": workers,
        "live_threads_per_worker": threads_per_worker(workers),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
    if json:
        print(_json.dumps(result), flush=True)
    else:
        print(f"style bench ({result['provider']}, {result['threads']} threads, built-in style 0, "
              "photo: scikit-image astronaut)\n"
              f"  style latency 320x240: {ms_small:.1f} ms per frame (median of 10)\n"
              f"  style latency 640x480: {ms_large:.1f} ms per frame (median of 6)\n"
              f"  live 640x480 at {camera_fps:g} fps in, styled at {result['process_size']} and "
              f"scaled up: {live['fps']:.1f} FPS displayed, latency p50 {live['p50']:.0f} ms, "
              f"p95 {live['p95']:.0f} ms ({live['styled']} of {live['submitted']} frames styled; "
              f"{workers} worker(s) x {threads_per_worker(workers)} thread(s))\n"
              f"  CPU time per styled frame: {live['cpu_ms']:.0f} ms (all threads of FaceLens)\n"
              f"  machine: {os.cpu_count()} cores, load average {result['load_average_1min']} "
              "(other programs running make every figure slower)",
              flush=True)
    return result
