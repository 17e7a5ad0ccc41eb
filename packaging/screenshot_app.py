"""Screenshot of the real FaceLens window recognising people on a synthetic video.

Run under a display, e.g. Xvfb:

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python packaging/screenshot_app.py \
        --out build/screenshots/app.png

It makes a video of face photos moving on a background (three enrolled people and a
stranger, from ../shared/faces-dev unless --photos is given), enrols the three from other
photos into a temporary data folder, opens the main window on the video, waits until every
face is labelled and saves a PNG of the screen (or of the window when there is no screen).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = {"Amy": "bbt_amy", "Raj": "bbt_raj", "John Simm": "john_simm"}
STRANGER = "bbt_penny"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "build" / "screenshots" / "app.png")
    p.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "faces-dev" / "people",
                   help="folder with one subfolder of face photos per person")
    p.add_argument("--timeout", type=float, default=120.0)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.photos.is_dir():
        print(f"screenshot_app: no photos at {args.photos}", file=sys.stderr)
        return 2
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from facelens.app.main_window import MainWindow
    from facelens.engine.recognizer import FaceEngine
    from facelens.gallery import Gallery, default_db_path
    from facelens.images import encode_jpeg
    from facelens.live.photos import prepare_photos
    from facelens.live.scene import NOT_RECOGNISED, RECOGNISED
    from facelens.live.synth import Actor, write_video
    from facelens.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    engine = FaceEngine.load("lite", "auto")
    home = Path(tempfile.mkdtemp(prefix="facelens-shot-"))
    with Gallery.open(default_db_path(home), engine.model_id, engine.dim) as gallery:
        for name, folder in PEOPLE.items():
            good = [r for r in prepare_photos(engine, sorted((args.photos / folder).iterdir())[1:4])
                    if r.ok]
            gallery.enrol(name, np.stack([r.embedding for r in good]),
                          thumbnails=[encode_jpeg(r.thumbnail) for r in good])
    first = {f: sorted((args.photos / f).iterdir())[0] for f in [*PEOPLE.values(), STRANGER]}
    actors = [Actor.from_file(first[f], n) for n, f in PEOPLE.items()]
    actors.append(Actor.from_file(first[STRANGER], "stranger"))
    video = write_video(home / "crowd.avi", actors, seconds=60, face_px=140)
    qsettings = QSettings(str(home / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(home, Settings(), engine=engine, source=str(video.path),
                        qsettings=qsettings)
    window.resize(1240, 760)
    window.show()
    deadline = time.monotonic() + args.timeout
    labelled_since = None
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
        scene = window.video.scene
        done = scene is not None and len(scene.faces) == len(actors) and \
            sum(f.state == RECOGNISED for f in scene.faces) == len(PEOPLE) and \
            sum(f.state == NOT_RECOGNISED for f in scene.faces) == 1
        labelled_since = (labelled_since or time.monotonic()) if done else None
        if labelled_since and time.monotonic() - labelled_since > 2.0:
            break  # labelled and stable for two seconds: the status bar has settled too
    else:
        print("screenshot_app: faces were not all labelled in time", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    screen = app.primaryScreen()
    shot = screen.grabWindow(0) if app.platformName() == "xcb" else window.grab()
    if shot.isNull():
        shot = window.grab()
    shot.save(str(args.out))
    scene = window.video.scene
    print(f"saved {args.out} ({shot.width()}x{shot.height()}, platform {app.platformName()})")
    print("labels:", [f.label for f in scene.faces] if scene else [])
    print("status:", " | ".join(window.status.text(k) for k in window.status.fields))
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
