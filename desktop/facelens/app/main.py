"""``facelens`` with no arguments: start the desktop app."""

from __future__ import annotations

import argparse
import os
import sys

from PySide6.QtCore import QSettings

from ..paths import data_home
from ..settings import Settings
from .qt_start import start_qt


def run_app(args: argparse.Namespace) -> int:
    """Open the window on ``args.source`` (default: the first camera); return the exit code."""
    from ..install_check import drop_foreign_qt_paths, warn_problems
    from .config_repair import load_or_repair
    from .first_run import maybe_open_wizard
    from .main_window import MainWindow

    warn_problems()
    drop_foreign_qt_paths()  # opencv-python's import points Qt at its own plugins
    app = start_qt(sys.argv[:1])  # if Qt cannot start: says which packages to install
    app.setApplicationName("FaceLens")
    app.setOrganizationName("FaceLens")
    home_override = getattr(args, "home", None) or QSettings().value("data/home") or None
    home = data_home(home_override)
    settings = load_or_repair(lambda: Settings.load(home))  # damaged: show, offer a reset
    if settings is None:
        return 2
    window = MainWindow(home, settings, source=getattr(args, "source", None))
    window.show()
    if os.environ.get("FACELENS_SMOKE_TEST") == "1":  # bundle tests: time to the first frame
        from .smoke import install

        install(window, app)
    else:
        maybe_open_wizard(window)  # once, until finished or skipped; Help menu re-opens it
    return app.exec()
