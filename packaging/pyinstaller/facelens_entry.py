"""Entry point of the PyInstaller bundles: the `facelens` command (no arguments: the window)."""

import multiprocessing
import sys

from facelens.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
