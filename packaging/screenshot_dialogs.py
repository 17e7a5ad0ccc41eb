"""Screenshots of the main window's dialogs and panels, for a person to look at.

Run under a display, e.g. Xvfb:

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python packaging/screenshot_dialogs.py \
        build/screenshots

It enrols three people (from ../shared/faces-dev) into a temporary data folder, opens the
window on a video of them and a stranger, and saves: verify.png (the face being verified,
chosen by a click), people_photos.png (a person's photos), face_picker.png (choosing the
face of a group photo), settings.png (the threshold and its false-accept rate), about.png,
and long_message.png (a long message over the video and in the status bar).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "faces-dev"
PEOPLE = {"Amy": "bbt_amy", "Raj": "bbt_raj", "John Simm": "john_simm"}


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "build" / "screenshots"
    if not PHOTOS.is_dir():
        print(f"screenshot_dialogs: no photos at {PHOTOS}", file=sys.stderr)
        return 2
    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from facelens.app.main_window import MainWindow
    from facelens.engine.recognizer import FaceEngine
    from facelens.gallery import Gallery, default_db_path
    from facelens.images import encode_jpeg
    from facelens.live.photos import prepare_photos
    from facelens.live.synth import Actor, write_video
    from facelens.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    engine = FaceEngine.load("lite", "auto")
    home = Path(tempfile.mkdtemp(prefix="facelens-dialogs-"))
    with Gallery.open(default_db_path(home), engine.model_id, engine.dim) as gallery:
        for name, folder in PEOPLE.items():
            paths = sorted((PHOTOS / "people" / folder).iterdir())[1:5]
            good = [r for r in prepare_photos(engine, paths) if r.ok]
            gallery.enrol(name, np.stack([r.embedding for r in good]),
                          thumbnails=[encode_jpeg(r.thumbnail) for r in good],
                          sources=[str(r.path) for r in good])
    actors = [Actor.from_file(sorted((PHOTOS / "people" / f).iterdir())[0], n)
              for n, f in [*PEOPLE.items(), ("stranger", "bbt_penny")]]
    video = write_video(home / "crowd.avi", actors, seconds=120, face_px=140)
    window = MainWindow(home, Settings(), engine=engine, source=str(video.path),
                        qsettings=QSettings(str(home / "w.ini"), QSettings.Format.IniFormat),
                        style_panel=False)
    window.resize(1240, 760)
    window.show()
    out.mkdir(parents=True, exist_ok=True)

    def wait(seconds: float, until=lambda: False) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not until():
            app.processEvents()
            time.sleep(0.02)

    def shot(name: str) -> None:
        wait(0.5)
        image = app.primaryScreen().grabWindow(0)
        image.save(str(out / name))
        print("saved", out / name, f"{image.width()}x{image.height()}")

    wait(60, lambda: window.video.scene is not None
         and sum(f.name is not None for f in window.video.scene.faces) == 3)
    window.show_tab(window.verify)
    window.verify.claim("Raj")
    wait(5)
    raj = next(f for f in window.video.scene.faces if f.name == "Raj")
    x1, y1, x2, y2 = raj.box
    QTest.mouseClick(window.video, Qt.MouseButton.LeftButton, pos=window.video.to_widget(
        (x1 + x2) / 2, (y1 + y2) / 2).toPoint())
    wait(10, lambda: window.verify.result is not None
         and window.verify.result.track_id == raj.track_id)
    shot("verify.png")

    window.show_tab(window.people)
    window.people.select("Amy")
    window.people.select_photo(window.people.photo_ids()[1])
    shot("people_photos.png")

    dialog = window.enrol_from_files("Amy")
    dialog.add_paths([PHOTOS / "groups" / "bbt1.jpg"])
    dialog.enrol_button.click()
    wait(60, lambda: dialog.picker is not None and dialog.picker.isVisible())
    dialog.picker.move(QPoint(40, 40))
    shot("face_picker.png")
    dialog.reject()

    settings = window.open_settings()
    settings.slider.setValue(38)
    settings.move(QPoint(60, 60))
    shot("settings.png")
    settings.reject()

    about = window.open_about()
    about.move(QPoint(80, 80))
    shot("about.png")
    about.accept()

    window.video.set_message("could not open the stream rtsp://camera.example.org:554/a/very/"
                             "long/path/to/stream1: the server closed the connection before "
                             "sending a frame; check the address, the network and the camera's "
                             "user name and password, then choose the source again")
    window.status.showMessage(window.video.message, 20000)
    shot("long_message.png")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
