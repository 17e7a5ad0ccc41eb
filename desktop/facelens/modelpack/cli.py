"""`facelens models build | list | verify`."""

from __future__ import annotations

import argparse
import sys

from ..cli import emit
from ..errors import ModelPackError
from ..paths import models_home
from .pack import available_packs, build_pack, load_pack


def _progress(msg: str, fraction: float) -> None:
    print(f"[{fraction:4.0%}] {msg}", file=sys.stderr, flush=True)


def _build(args: argparse.Namespace) -> int:
    pack = build_pack(args.pack, force=args.force, progress=_progress)
    emit(args, {"pack": pack.name, "dir": str(pack.dir), "built": True},
         f"model pack {pack.name!r} ready in {pack.dir}")
    return 0


def _list(args: argparse.Namespace) -> int:
    home = models_home()
    for name in available_packs():
        target = home / name
        built = (target / "manifest.json").exists()
        emit(args, {"pack": name, "built": built, "dir": str(target)},
             f"{name:8s} {'built' if built else 'not built'}  {target}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    try:
        pack = load_pack(args.pack)
    except ModelPackError as exc:
        emit(args, {"pack": args.pack, "ok": False, "error": str(exc)}, f"FAILED: {exc}")
        return 1
    files = {role: spec["sha256"] for role, spec in pack.manifest["models"].items()}
    emit(args, {"pack": pack.name, "ok": True, "files": files},
         f"model pack {pack.name!r}: {len(files)} files match their checksums")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="build, list or verify model packs")
    msub = models.add_subparsers(dest="models_command", required=True)
    for name, func, text in (("build", _build, "build a pack from its pinned source"),
                             ("list", _list, "list known packs"),
                             ("verify", _verify, "check a built pack's checksums")):
        p = msub.add_parser(name, help=text)
        if name != "list":
            p.add_argument("pack", nargs="?", default="lite")
        if name == "build":
            p.add_argument("--force", action="store_true", help="rebuild even if present")
        p.add_argument("--json", action="store_true", help="JSON output")
        p.set_defaults(func=func)
