"""A smoke run of the window for bundle tests: FACELENS_SMOKE_TEST=1 prints the time from
process start to the first video frame shown, then closes the window two seconds later.
"""

from __future__ import annotations

import sys
import time

import psutil
from PySide6.QtCore import QTimer

SHOW_S = 2.0
GIVE_UP_S = 120.0


def _start_time() -> float:
    """When this process started; in a PyInstaller one-file bundle, when its unpacking parent
    (the same executable) started, so the unpacking counts too."""
    me = psutil.Process()
    parent = me.parent()
    try:
        if getattr(sys, "frozen", False) and parent is not None and parent.exe() == me.exe():
            return parent.create_time()
    except psutil.Error:
        pass
    return me.create_time()


def install(window, app) -> QTimer:
    """Watch `window`'s video view; print ``first frame after X s`` and quit (code 0), or
    quit with code 3 when no frame came within GIVE_UP_S."""
    started = _start_time()
    state = {"first": None}
    timer = QTimer(window)

    def poll() -> None:
        scene = window.video.scene
        now = time.time()
        if scene is not None:
            if state["first"] is None:
                state["first"] = now - started
                print(f"first frame after {state['first']:.1f} s", flush=True)
            if now - started - state["first"] >= SHOW_S:
                timer.stop()
                faces = len(scene.faces)
                print(f"smoke: video shown for {SHOW_S:.0f} s, {faces} face(s); closing",
                      flush=True)
                window.close()
                app.exit(0)
        elif now - started > GIVE_UP_S:
            timer.stop()
            print(f"smoke: no video frame within {GIVE_UP_S:.0f} s", file=sys.stderr, flush=True)
            window.close()
            app.exit(3)

    timer.timeout.connect(poll)
    timer.start(20)
    return timer
