"""The `facelens` command: no arguments opens the app; subcommands work headless.

Each area registers its own subcommands from its module (see ``COMMAND_MODULES``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence

from . import __version__
from .errors import FaceLensError

# Modules exposing ``register(subparsers)``; each subcommand sets ``func(args) -> int``.
COMMAND_MODULES = [
    "facelens.live.cli",
    "facelens.modelpack.cli",
    "facelens.engine_cli",
    "facelens.style.cli",
    "facelens.kiosk.cli",
    "facelens.gallery.cli",
    "facelens.gallery.pg.bench",
]


def emit(args: argparse.Namespace, obj: dict, text: str) -> None:
    """Print one result: a JSON line with ``--json``, else the human-readable `text`."""
    if getattr(args, "json", False):
        print(json.dumps(obj, ensure_ascii=False), flush=True)
    else:
        print(text, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facelens", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"facelens {__version__}")
    parser.add_argument("--home", help="data folder (default: $FACELENS_HOME or the platform's)")
    parser.add_argument("--gallery", metavar="URL",
                        help="central gallery postgresql://USER@HOST/DB (default: "
                             "$FACELENS_GALLERY_URL, else the data folder's SQLite gallery)")
    parser.add_argument("--source",
                        help="open the app on this source (camera index, file, URL, folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.gallery:  # every place that opens the gallery reads it from there
        os.environ["FACELENS_GALLERY_URL"] = args.gallery
    if args.command is None:
        from .app.main import run_app  # Qt is imported only for the GUI

        return run_app(args)
    try:
        return int(args.func(args) or 0)
    except FaceLensError as exc:
        print(f"facelens: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
