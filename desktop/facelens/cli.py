"""The `facelens` command: no arguments opens the app; subcommands work headless.

Each area registers its own subcommands from its module (``register(subparsers)``).
``COMMANDS`` says which module registers which command, so a run imports only the module of
its own command: the others list their name and help without being imported (they load
ONNX Runtime, OpenCV, FAISS or SciPy, which take seconds to import).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from . import __version__
from .errors import FaceLensError

# command -> (module whose ``register(subparsers)`` adds it, its one-line help). Each
# subcommand sets ``func(args) -> int``. tests/test_startup.py checks this against the modules.
COMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("facelens.live.cli", "measure the live pipeline on a recorded 640x480 video"),
    "models": ("facelens.modelpack.cli", "build, list, verify, install or export model packs"),
    "enrol": ("facelens.engine_cli", "enrol a person from one or more photos (one is enough)"),
    "identify": ("facelens.engine_cli", "name every face in photos, or 'not recognised'"),
    "verify": ("facelens.engine_cli", "check 1:1 whether the largest face is the claimed person"),
    "people": ("facelens.engine_cli", "list enrolled people"),
    "remove": ("facelens.engine_cli", "remove a person and all their templates"),
    "rename": ("facelens.engine_cli", "rename a person"),
    "calibrate": ("facelens.engine_cli", "accuracy on a folder with one sub-folder per person"),
    "bench-engine": ("facelens.engine_cli", "time detection, embedding and gallery search"),
    "stylize": ("facelens.style.cli", "restyle an image or a video with a neural style"),
    "bench-style": ("facelens.style.cli", "style latency and live FPS on this machine"),
    "kiosk": ("facelens.kiosk.cli", "access-control kiosk (full screen); admin subcommands"),
    "attendance": ("facelens.kiosk.cli", "attendance log: export, report, view"),
    "gallery": ("facelens.gallery.cli",
                "gallery encryption at rest, and push/pull to a central server"),
    "bench-gallery": ("facelens.gallery.pg.bench",
                      "search p50/p95 and recall@1: pgvector HNSW on a server next to local FAISS"),
    "doctor": ("facelens.install_check",
               "check this install for the onnxruntime/OpenCV pip traps"),
    "impostor-tail": ("facelens.openset.cli",
                      "measure a pack's impostor scores (every different-person pair) for --far"),
    "correct": ("facelens.openset.cli", "correct a recognition: this face is not NAME, or is NAME"),
    "learn": ("facelens.openset.cli",
              "learn a linear adapter from the gallery and corrections (triplet loss)"),
    "unknown": ("facelens.openset.cli",
                "review faces never recognised: list, name, ignore, forget (collect VIDEO)"),
    "site-calibrate": ("facelens.openset.cli",
                       "refine the impostor tail with the site's unknown faces (embeddings only)"),
}
COMMAND_MODULES = list(dict.fromkeys(module for module, _ in COMMANDS.values()))
_GLOBAL_WITH_VALUE = ("--home", "--source")  # options before the command that take a value
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `yes | head`


def emit(args: argparse.Namespace, obj: dict, text: str) -> None:
    """Print one result: a JSON line with ``--json``, else the human-readable `text`."""
    if getattr(args, "json", False):
        print(json.dumps(obj, ensure_ascii=False), flush=True)
    else:
        print(text, flush=True)


def _print_json_error(message: str) -> None:
    print(json.dumps({"error": message}, ensure_ascii=False), flush=True)


class JsonErrorParser(argparse.ArgumentParser):
    """The parser used when ``--json`` is on the command line: usage errors are printed as a
    JSON object ``{"error": ...}`` on stdout (exit code 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        _print_json_error(f"{self.prog}: {message}; see `{self.prog} --help`")
        raise SystemExit(2)


def command_in(argv: Sequence[str]) -> str | None:
    """The command word of `argv` (``facelens --home D people`` -> ``"people"``), or None."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return argv[i + 1] if i + 1 < len(argv) else None
        if word in _GLOBAL_WITH_VALUE:
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            return word
    return None


def build_parser(argv: Sequence[str] | None = None,
                 parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser,
                 ) -> argparse.ArgumentParser:
    """The ``facelens`` parser. With `argv`, only the module of the command it names is
    imported (none for ``--help``); the other commands are listed by name and help only.
    Without `argv`, or when its command is unknown, every module registers its commands."""
    parser = parser_class(prog="facelens", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"facelens {__version__}")
    parser.add_argument("--home", help="data folder (default: $FACELENS_HOME or the platform's)")
    parser.add_argument("--gallery", metavar="URL",
                        help="central gallery postgresql://USER@HOST/DB (default: "
                             "$FACELENS_GALLERY_URL, else the data folder's SQLite gallery)")
    parser.add_argument("--source",
                        help="open the app on this source (camera index, file, URL, folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = None if argv is None else command_in(argv)
    if wanted is None and argv is not None:
        load = set()  # `facelens`, `facelens --help`: no command module is needed
    elif wanted in COMMANDS:
        load = {COMMANDS[wanted][0]}
    else:
        load = set(COMMAND_MODULES)  # unknown word: argparse says so, with every choice
    for module in COMMAND_MODULES:
        if module in load:
            importlib.import_module(module).register(sub)
        else:
            for name, (owner, summary) in COMMANDS.items():
                if owner == module:
                    sub.add_parser(name, help=summary)
    return parser


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so nothing more is written to a closed pipe at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout replaced or already closed
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``facelens`` on `argv` (default: the command line); return the exit code.

    A closed output pipe (``facelens people | head -1``) ends quietly with 141. With
    ``--json``, errors are JSON objects ``{"error": ...}`` on stdout, else messages on stderr.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    try:
        return _run(argv, as_json)
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE


def _run(argv: list[str], as_json: bool) -> int:
    parser = build_parser(argv, JsonErrorParser if as_json else argparse.ArgumentParser)
    args = parser.parse_args(argv)
    if args.gallery:  # every place that opens the gallery reads it from there
        os.environ["FACELENS_GALLERY_URL"] = args.gallery
    if args.command is None:
        from .app.main import run_app  # Qt is imported only for the GUI

        return run_app(args)
    as_json = as_json or bool(getattr(args, "json", False))
    try:
        return int(args.func(args) or 0)
    except FaceLensError as exc:
        if as_json:
            _print_json_error(str(exc))
        else:
            print(f"facelens: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise
    except Exception as exc:
        if not as_json:
            raise
        traceback.print_exc()  # a bug: the traceback goes to stderr for the report
        _print_json_error(f"internal error ({type(exc).__name__}: {exc}); this is a bug in "
                          "FaceLens: please report it with the traceback printed on stderr")
        return 1


if __name__ == "__main__":
    sys.exit(main())
