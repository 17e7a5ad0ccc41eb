"""``facelens`` with no arguments: start the desktop app."""

from __future__ import annotations

import argparse
import os
import sys

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from ..paths import data_home
from ..settings import Settings


def run_app(args: argparse.Namespace) -> int:
    """Open the window on ``args.source`` (default: the first camera); return the exit code."""
    from ..install_check import drop_foreign_qt_paths, warn_problems
    from .first_run import maybe_open_wizard
    from .main_window import MainWindow

    warn_problems()
    drop_foreign_qt_paths()  # opencv-python's import points Qt at its own plugins
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("FaceLens")
    app.setOrganizationName("FaceLens")
    home_override = getattr(args, "home", None) or QSettings().value("data/home") or None
    home = data_home(home_override)
    window = MainWindow(home, Settings.load(home), source=getattr(args, "source", None))
    window.show()
    if os.environ.get("FACELENS_SMOKE_TEST") == "1":  # bundle tests: time to the first frame
        from .smoke import install

        install(window, app)
    else:
        maybe_open_wizard(window)  # once, until finished or skipped; Help menu re-opens it
    return app.exec()
