"""Start-up figures: how long `facelens --help` and `facelens people` take (the whole process,
as a user waits for it), and the seconds from launching the app to its first painted video
frame. It prints the median and the slowest of several runs.

    .venv/bin/python packaging/startup_times.py --runs 10          # the window offscreen
    xvfb-run -a .venv/bin/python packaging/startup_times.py        # a real X11 window

The video is a clip of face photos from ../shared/faces-dev (or --photos); the data folder
is a new temporary one, so `people` lists nobody (it reads the gallery file all the same).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs the app as `facelens --home H --source VIDEO` does, and prints the seconds from the
# process's start to the first paint of the live view showing a frame.
FIRST_FRAME = """
import os, sys, time
import psutil
from PySide6.QtCore import QEvent, QObject, QTimer
from facelens.app.qt_start import start_qt
from facelens.cli import main

started = psutil.Process().create_time()
app = start_qt(sys.argv[:1])

class FirstFrame(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and obj.scene is not None:
            print(f"{time.time() - started:.3f}", flush=True)
            os._exit(0)
        return False

watch = FirstFrame()

def hook():
    for widget in app.topLevelWidgets():
        if hasattr(widget, "video"):
            widget.video.installEventFilter(watch)
            return
    QTimer.singleShot(5, hook)

QTimer.singleShot(0, hook)
QTimer.singleShot(60_000, lambda: os._exit(1))
main(["--home", sys.argv[1], "--source", sys.argv[2]])
"""


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def first_frame(home: Path, video: Path, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", FIRST_FRAME, str(home), str(video)], env=env,
                         check=True, capture_output=True, text=True, timeout=120).stdout
    return float(out.split()[-1])


def summary(name: str, values: list[float]) -> str:
    return (f"{name:28s} median {statistics.median(values):.3f} s, slowest {max(values):.3f} s"
            f" ({len(values)} runs)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "faces-dev" / "people")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT / "desktop"))
    from facelens.live.synth import Actor, write_video

    env = {**os.environ, "PYTHONPATH": str(ROOT / "desktop")}
    if not os.environ.get("DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    facelens = [sys.executable, "-m", "facelens"]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        faces = sorted(p for p in args.photos.iterdir() if p.is_dir())[:2]
        video = write_video(Path(tmp) / "clip.avi",
                            [Actor.from_file(sorted(f.iterdir())[0]) for f in faces], seconds=20)
        timed([*facelens, "--home", str(home), "people"], env)  # warm the file cache
        first_frame(home, video.path, env)
        print(summary("facelens --help", [timed([*facelens, "--help"], env)
                                          for _ in range(args.runs)]))
        print(summary("facelens people", [timed([*facelens, "--home", str(home), "people"], env)
                                          for _ in range(args.runs)]))
        print(summary("app: first video frame", [first_frame(home, video.path, env)
                                                 for _ in range(max(3, args.runs // 2))]))
        print(f"platform: {env.get('QT_QPA_PLATFORM') or 'xcb (DISPLAY=' + env['DISPLAY'] + ')'}"
              f", {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
