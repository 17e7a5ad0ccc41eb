"""`facelens models build | list | verify | install | export`."""

from __future__ import annotations

import argparse
import sys

from ..cli import emit
from ..errors import ModelPackError
from .pack import available_packs, build_pack, load_pack, source_manifest, trusted_hashes
from .url_pack import AcceptLicence, licence_notice


def _progress(msg: str, fraction: float) -> None:
    print(f"[{fraction:4.0%}] {msg}", file=sys.stderr, flush=True)


def _licence_prompt(args: argparse.Namespace) -> AcceptLicence:
    """Show a pack's licence on stderr; accept it with --accept-licence or a "y" on a terminal."""
    def ask(name: str, src: dict) -> bool:
        print(licence_notice(name, src), file=sys.stderr, flush=True)
        if args.accept_licence:
            print("Licence accepted (--accept-licence).", file=sys.stderr, flush=True)
            return True
        if not sys.stdin.isatty():
            return False
        print("Accept this licence and continue? [y/N] ", end="", file=sys.stderr, flush=True)
        return sys.stdin.readline().strip().lower() in ("y", "yes")
    return ask


def _build(args: argparse.Namespace) -> int:
    pack = build_pack(args.pack, force=args.force, progress=_progress,
                      accept_licence=_licence_prompt(args))
    emit(args, {"pack": pack.name, "dir": str(pack.dir), "built": True},
         f"model pack {pack.name!r} ready in {pack.dir}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from .facts import pack_facts

    for name in available_packs():
        facts = pack_facts(name)
        emit(args, facts, facts["summary"])
    return 0


def _verify(args: argparse.Namespace) -> int:
    try:
        pack = load_pack(args.pack)
    except ModelPackError as exc:
        emit(args, {"pack": args.pack, "ok": False, "error": str(exc)}, f"FAILED: {exc}")
        return 1
    trusted = trusted_hashes(pack.name, pack.manifest, pack.recipe)
    files = {role: sha for role, (sha, _) in trusted.items()}
    origins = sorted({origin for _, origin in trusted.values()})
    emit(args, {"pack": pack.name, "ok": True, "files": files, "trusted_from": origins},
         f"model pack {pack.name!r}: {len(files)} files match their checksums "
         f"(pinned by {', '.join(origins)})")
    return 0


def _use(args: argparse.Namespace) -> int:
    from ..paths import data_home
    from .switch import switch_pack

    home = data_home(getattr(args, "home", None))
    source_manifest(args.pack)  # an unknown name: the known ones, before anything is loaded

    def embedded(done: int, total: int) -> None:
        if total:
            print(f"[{done / total:4.0%}] re-embedding the gallery: {done} of {total} faces",
                  file=sys.stderr, flush=True)

    engine, report = switch_pack(home, args.pack, build_progress=_progress,
                                 embed_progress=embedded)
    lines = [f"model pack {args.pack!r} in use ({engine.model_id}): {report.embedded} faces "
             f"re-embedded, {report.already} already were; {report.people} people"]
    if report.people_without_crops:
        lines.append("enrolled before face crops were kept, so not re-embedded (enrol them "
                     "again): " + ", ".join(report.people_without_crops))
    emit(args, {"pack": args.pack, **report.as_dict()}, "\n".join(lines))
    return 0


def _install(args: argparse.Namespace) -> int:
    from .install import install_file

    pack, kind = install_file(args.file, progress=_progress, accept_licence=_licence_prompt(args))
    emit(args, {"pack": pack.name, "dir": str(pack.dir), "installed": True, "from": args.file,
                "file_kind": kind},
         f"model pack {pack.name!r} installed in {pack.dir} from {args.file}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .install import export_pack

    out = export_pack(args.pack, args.file)
    emit(args, {"pack": args.pack, "file": str(out), "bytes": out.stat().st_size},
         f"model pack {args.pack!r} written to {out} ({out.stat().st_size / 1e6:.1f} MB); "
         f"install it elsewhere with `facelens models install {out.name}`")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="build, list, verify, install or export model packs")
    msub = models.add_subparsers(dest="models_command", required=True)
    for name, func, text in (("build", _build, "build a pack from its pinned source"),
                             ("list", _list, "list known packs"),
                             ("verify", _verify, "check a built pack's checksums"),
                             ("use", _use, "switch to a pack, re-embedding the gallery")):
        p = msub.add_parser(name, help=text)
        if name == "use":
            p.add_argument("pack")
            p.add_argument("--home", default=argparse.SUPPRESS, help="data folder")
        elif name != "list":
            p.add_argument("pack", nargs="?", default="lite")
        if name == "build":
            p.add_argument("--force", action="store_true", help="rebuild even if present")
            p.add_argument("--accept-licence", action="store_true",
                           help="accept a downloaded pack's licence (shown) without asking")
        p.add_argument("--json", action="store_true", help="JSON output")
        p.set_defaults(func=func)
    p = msub.add_parser("install", help="install a pack from a file (for machines never online)")
    p.add_argument("file", help="the lite pack's npm tarball, a URL pack's download (e.g. "
                   "buffalo_l.zip) or an archive from `facelens models export`")
    p.add_argument("--accept-licence", action="store_true",
                   help="accept the pack's licence (shown) without asking")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=_install)
    p = msub.add_parser("export", help="write a built pack to a zip for `models install`")
    p.add_argument("pack")
    p.add_argument("file", help="the zip file to write")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=_export)
