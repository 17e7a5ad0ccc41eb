"""``facelens`` with no arguments: start the desktop app."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import QSettings

from ..paths import data_home
from ..settings import Settings
from .qt_start import start_qt


def run_app(args: argparse.Namespace) -> int:
    """Open the window on ``args.source`` (default: the first camera); return the exit code."""
    from .config_repair import load_or_repair
    from .main_window import MainWindow

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
    return app.exec()
