"""Screenshots of the first-run wizard over the real window: its source page with the live
preview, and its enrol page after you enrolled from the live view.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python packaging/screenshot_first_run.py \
        build/screenshots

It makes a video of one face photo from ../shared/faces-dev moving on a background, opens the
main window with an empty data folder, opens the wizard, previews the video and enrols the face.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "faces-dev" / "people" / "bbt_amy"


def _wait(app, condition, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.02)
    return False


def _shot(app, widget, path: Path) -> None:
    screen = app.primaryScreen()
    pix = screen.grabWindow(0) if screen is not None else widget.grab()
    if pix.isNull():
        pix = widget.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    pix.save(str(path))
    print(path)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "build" / "screenshots"
    if not PHOTOS.is_dir():
        print(f"screenshot_first_run: no photos at {PHOTOS}", file=sys.stderr)
        return 2
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QDialogButtonBox

    from facelens.app.first_run import open_wizard
    from facelens.app.main_window import MainWindow
    from facelens.engine.recognizer import FaceEngine
    from facelens.live.synth import Actor, write_video
    from facelens.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    engine = FaceEngine.load("lite", "auto")
    home = Path(tempfile.mkdtemp(prefix="facelens-wizard-"))
    video = write_video(home / "me.avi", [Actor.from_file(sorted(PHOTOS.iterdir())[0], "me")],
                        seconds=60, face_px=160)
    window = MainWindow(home, Settings(), engine=engine,
                        qsettings=QSettings(str(home / "w.ini"), QSettings.Format.IniFormat),
                        style_panel=False)
    window.resize(1240, 760)
    window.show()
    wizard = open_wizard(window)
    page = wizard.pages["source"]
    page.source.setEditText(str(video.path))
    page.preview()
    if not _wait(app, lambda: window.video.scene is not None and bool(window.video.scene.faces)):
        print("screenshot_first_run: no face seen in the preview", file=sys.stderr)
        return 1
    _wait(app, lambda: False, 1.0)
    _shot(app, wizard, out / "first_run_source.png")
    wizard.next()
    wizard.pages["enrol"].capture.click()
    if not _wait(app, lambda: window.enrol_dialog is not None and window.enrol_dialog.isVisible()):
        print("screenshot_first_run: no capture", file=sys.stderr)
        return 1
    window.enrol_dialog.name_box.setCurrentText("Me")
    window.enrol_dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    _wait(app, lambda: window.people.names() == ["Me"])
    _wait(app, lambda: False, 1.0)
    _shot(app, wizard, out / "first_run_enrol.png")
    wizard.next()
    wizard.next()
    _wait(app, lambda: False, 0.5)
    _shot(app, wizard, out / "first_run_security.png")
    window.controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
