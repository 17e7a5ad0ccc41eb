"""Screenshot of the style panel in a real window with a styled frame.

Run under a display (or Xvfb)::

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python packaging/screenshot_style.py out.png

It opens a StylePanel, feeds it a real photo (../shared/faces-dev group photo, else
scikit-image's astronaut), picks a style, waits for thumbnails and the styled frame, and saves
the window with QWidget.grab().
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
from PySide6.QtWidgets import QApplication

from facelens.app.style_panel import StylePanel

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "faces-dev" / "groups" / "bbt2.jpg"


def photo_640x480():
    img = cv2.imread(str(PHOTO)) if PHOTO.is_file() else None
    if img is None:
        from skimage import data

        img = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    h, w = img.shape[:2]
    if w / h > 4 / 3:  # centre-crop to 4:3
        cw = int(h * 4 / 3)
        img = img[:, (w - cw) // 2:(w - cw) // 2 + cw]
    return cv2.resize(img, (640, 480), interpolation=cv2.INTER_AREA)


def wait(app: QApplication, done, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if done():
            return True
        time.sleep(0.02)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default=str(ROOT / "build" / "style_panel.png"))
    parser.add_argument("--style", default="builtin:25")
    args = parser.parse_args()
    app = QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as home:
        panel = StylePanel(home=home)
        panel.setWindowTitle("FaceLens - Style")
        panel.resize(1180, 640)
        panel.show()
        panel.select_style(args.style)
        frame = photo_640x480()
        panel.submit_frame(frame)
        seq = panel.live.last_submitted
        ok = wait(app, lambda: panel.thumbnails_ready() and panel.last_info is not None
                  and panel.last_info.seq >= seq, 60)
        end = time.monotonic() + 2.0  # two seconds of a 30 fps "camera" for the FPS read-out
        while time.monotonic() < end:
            panel.submit_frame(frame)
            wait(app, lambda: False, 1 / 30)
        wait(app, lambda: panel.live.idle(), 5)
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        saved = panel.grab().save(str(out))
        panel.shutdown()
    print(f"{out}: saved={saved} styled_frame={ok}")
    return 0 if saved and ok else 1


if __name__ == "__main__":
    sys.exit(main())
