"""Commands: ``facelens kiosk`` (window and admin) and ``facelens attendance``.

Every command takes ``--json`` (one JSON object per line) and exits non-zero on errors.
Changing kiosk settings needs the admin PIN once one is set (``--pin`` or a prompt).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

from ..cli import emit
from ..crypto import Sealer, new_salt
from ..errors import FaceLensError
from ..paths import data_home
from ..thresholds import DEFAULT_WORD, THRESHOLD_MAX, THRESHOLD_MIN, far_arg, threshold_arg
from .config import KioskConfig
from .factory import AUDIT_DB, attendance_store
from .pin import AdminPin, PinError


def _ask(prompt: str) -> str:
    """A line typed at the terminal (not echoed), else the next line of standard input."""
    try:
        if sys.stdin.isatty():
            return getpass.getpass(prompt)
        return sys.stdin.readline().rstrip("\r\n")
    except EOFError:
        return ""


def _pin_given(given: str | None, prompt: str, what: str, option: str) -> str:
    """`given`, else asked for; an empty answer (no terminal, nothing typed) is refused
    before it reaches AdminPin, so it never counts as a wrong try."""
    pin = given if given is not None else _ask(prompt)
    if not pin:
        raise PinError(f"{what}: a PIN is required; give it with {option}, or run the command "
                       "in a terminal to be asked for it")
    return pin


def _require_pin(args: argparse.Namespace, home) -> None:
    pin = AdminPin(home)
    if not pin.is_set():
        return
    given = _pin_given(args.pin, "Admin PIN: ", "admin PIN", "--pin")
    result = pin.check(given)
    if not result.ok:
        raise PinError(result.message)


def _on_off(text: str) -> bool:
    if text not in ("on", "off"):
        raise argparse.ArgumentTypeError("use on or off")
    return text == "on"


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


# -- kiosk ------------------------------------------------------------------------------------


def cmd_kiosk(args: argparse.Namespace) -> int:
    from ..app.kiosk_window import run_kiosk

    return run_kiosk(args)


def cmd_set_pin(args: argparse.Namespace) -> int:
    home = data_home(args.home)
    pin = AdminPin(home)
    if pin.is_set():
        old = _pin_given(args.old_pin, "Current admin PIN: ", "current admin PIN",
                         "--old-pin")
        result = pin.check(old)
        if not result.ok:
            raise PinError(result.message)
    new = _pin_given(args.new_pin, "New admin PIN (4-12 digits): ", "new admin PIN",
                     "--new-pin")
    if args.new_pin is None:  # typed: a typo would lock the admin out, so ask again
        again = _ask("Repeat the new admin PIN: ")
        if again != new:
            raise PinError("new admin PIN: the two entries differ; nothing was changed, "
                           "run `facelens kiosk set-pin` again")
    pin.set(new)
    emit(args, {"ok": True, "pin_file": str(pin.path)}, f"admin PIN set ({pin.path})")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    home = data_home(args.home)
    cfg = KioskConfig.load(home)
    changes = {k: v for k, v in {
        "policy": args.policy, "frames": args.frames, "threshold": args.threshold,
        "far": args.far,
        "antispoof_threshold": args.antispoof_threshold, "min_sharpness": args.min_sharpness,
        "temporal_threshold": args.temporal_threshold, "min_face_px": args.min_face,
        "action_cooldown_s": args.cooldown, "thumbnails": args.thumbnails,
        "attendance": args.attendance, "attendance_window_s": args.attendance_window,
        "store_unknown": args.store_unknown}.items() if v is not None}
    for kind in ("none", "command", "http", "serial"):
        target = getattr(args, f"action_{kind}")
        if target is not None:
            changes.update(action_kind=kind, action_target="" if kind == "none" else target)
    if changes.get("threshold") == DEFAULT_WORD:
        changes["threshold"] = None  # back to the app's setting / the pack's default
    if changes:
        _require_pin(args, home)
        cfg = KioskConfig.update(home, changes)
    shown = {k: v for k, v in asdict(cfg).items() if not k.startswith("encryption")}
    shown["encrypted_thumbnails"] = bool(cfg.encryption_salt)
    emit(args, shown, "\n".join(f"{k} = {v}" for k, v in shown.items()))
    return 0


def cmd_badge(args: argparse.Namespace) -> int:
    home = data_home(args.home)
    _require_pin(args, home)
    cfg = KioskConfig.load(home)
    if args.name:
        cfg.badges[args.badge] = args.name
    else:
        cfg.badges.pop(args.badge, None)
    cfg.save(home)
    emit(args, {"badge": args.badge, "name": args.name or None},
         f"badge {args.badge} -> {args.name or '(removed)'}")
    return 0


def cmd_passphrase(args: argparse.Namespace) -> int:
    home = data_home(args.home)
    _require_pin(args, home)
    cfg = KioskConfig.load(home)
    phrase = _ask("Passphrase for thumbnails (empty: turn encryption off): ")
    if phrase:
        salt = new_salt()
        cfg.encryption_salt = salt.hex()
        cfg.encryption_check = Sealer(phrase, salt).check_value().hex()
    else:
        cfg.encryption_salt = cfg.encryption_check = ""
    cfg.save(home)
    emit(args, {"encrypted": bool(phrase)},
         "thumbnails will be encrypted (AES-GCM)" if phrase else "encryption turned off")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from .audit import AuditLog

    log = AuditLog(data_home(args.home) / AUDIT_DB)
    for r in reversed(log.recent(args.limit)):
        obj = {k: v for k, v in asdict(r).items() if k != "thumbnail"}
        obj["has_thumbnail"] = r.thumbnail is not None
        text = (f"{r.seq:6d} {r.ts} {r.policy:8s} {'GRANTED' if r.granted else 'refused'} "
                f"claimed={r.claimed} matched={r.matched} sim={_f(r.similarity)} "
                f"antispoof={_f(r.antispoof)} temporal={_f(r.temporal)} {r.reason}"
                + (f" action={r.action}" if r.action else ""))
        emit(args, obj, text)
    return 0


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ..engine.recognizer import FaceEngine
    from ..settings import Settings
    from .calibrate import calibrate

    settings = Settings.load(data_home(args.home))
    engine = FaceEngine.load(settings.model_pack, settings.provider)
    cal = calibrate(engine, args.people, args.per_person)
    threshold = KioskConfig.load(data_home(args.home)).temporal_threshold
    obj = {"prints": len(cal.prints), "print_max": round(cal.print_max, 4),
           "stand_ins": len(cal.stand_ins), "stand_in_min": round(cal.stand_in_min, 4),
           "threshold": threshold,
           "separated": cal.print_max < threshold < cal.stand_in_min}
    emit(args, obj, f"{obj['prints']} hand-held prints: temporal score <= {obj['print_max']}\n"
                    f"{obj['stand_ins']} photo sequences (living-face stand-in): "
                    f">= {obj['stand_in_min']}\nthreshold {threshold}: "
                    f"{'separates them' if obj['separated'] else 'does NOT separate them'}")
    return 0


# -- attendance -------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from ..attendance.export import export_csv

    if args.date_from > args.date_to:
        raise FaceLensError(f"--from {args.date_from} is after --to {args.date_to}")
    store = attendance_store(data_home(args.home))
    n = export_csv(store, args.out, args.date_from, args.date_to, entries=args.entries)
    if str(args.out) == "-":  # the CSV is on standard output: the summary goes to stderr
        print(f"{n} rows written to standard output", file=sys.stderr)
        return 0
    emit(args, {"out": str(args.out), "rows": n, "from": args.date_from, "to": args.date_to},
         f"{n} rows written to {args.out}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    store = attendance_store(data_home(args.home))
    for s in store.summary(args.date_from, args.date_to):
        emit(args, asdict(s), f"{s.day}  {s.person:24s} {s.first_seen[11:19]} - "
                              f"{s.last_seen[11:19]}  ({s.entries} entries)")
    for day, n in store.unknown_counts(args.date_from, args.date_to).items():
        emit(args, {"day": day, "unknown_faces": n}, f"{day}  unknown faces: {n}")
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    from ..app.attendance_view import run_attendance_view

    return run_attendance_view(args)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``kiosk`` and ``attendance`` to the ``facelens`` command."""
    k = sub.add_parser("kiosk", help="access-control kiosk (full screen); admin subcommands")
    k.add_argument("--json", action="store_true", help="JSON lines output")
    k.add_argument("--policy", choices=["identify", "verify"], help="override the policy")
    k.add_argument("--camera", help="camera index, video file or URL (default 0)")
    k.add_argument("--windowed", action="store_true", help="not full screen (for set-up)")
    k.set_defaults(func=cmd_kiosk)
    ks = k.add_subparsers(dest="kiosk_command", metavar="SUBCOMMAND")

    def admin(name: str, help_: str, func) -> argparse.ArgumentParser:
        p = ks.add_parser(name, help=help_)
        p.add_argument("--json", action="store_true", help="JSON lines output")
        p.add_argument("--pin", help="admin PIN (else asked for when one is set)")
        p.set_defaults(func=func)
        return p

    p = admin("set-pin", "set or change the admin PIN", cmd_set_pin)
    p.add_argument("--old-pin", help="the current PIN (else asked for)")
    p.add_argument("--new-pin", help="the new PIN, 4-12 digits (else asked for)")
    p = admin("config", "show or change kiosk settings (changes need the PIN)", cmd_config)
    p.add_argument("--policy", choices=["identify", "verify"])
    p.add_argument("--frames", type=int, help="consecutive frames before a decision")
    p.add_argument("--far", type=far_arg, metavar="RATE",
                   help="share of identifications that may name a stranger (0.001 or 1/1000); "
                        "used when no threshold is set")
    p.add_argument("--threshold", type=threshold_arg,
                   metavar=f"{THRESHOLD_MIN}-{THRESHOLD_MAX}|{DEFAULT_WORD}",
                   help="recognition threshold (cosine); 'default': the app's setting or the "
                        "model pack's default")
    p.add_argument("--antispoof-threshold", type=float)
    p.add_argument("--min-sharpness", type=int, help="Laplacian count pre-check (authors: 1000)")
    p.add_argument("--temporal-threshold", type=float)
    p.add_argument("--min-face", type=int, help="smallest face height in pixels")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--action-http", metavar="URL", help="POST JSON to URL on a granted decision")
    g.add_argument("--action-command", metavar="CMD", help="run CMD ($FACELENS_PERSON set)")
    g.add_argument("--action-serial", metavar="DEVICE", help="write 'OPEN NAME' to DEVICE")
    g.add_argument("--action-none", action="store_const", const="", help="no door action")
    p.add_argument("--cooldown", type=float, help="seconds between actions per person")
    p.add_argument("--thumbnails", type=_on_off, metavar="on|off")
    p.add_argument("--attendance", type=_on_off, metavar="on|off")
    p.add_argument("--attendance-window", type=float, metavar="SECONDS")
    p.add_argument("--store-unknown", type=_on_off, metavar="on|off")
    p = admin("badge", "map a badge id to an enrolled name (no name: remove)", cmd_badge)
    p.add_argument("badge")
    p.add_argument("name", nargs="?")
    admin("set-passphrase", "encrypt audit thumbnails with a passphrase (AES-GCM)",
          cmd_passphrase)
    p = admin("calibrate-liveness", "temporal cue on prints vs photo sequences of a folder",
              cmd_calibrate)
    p.add_argument("people", type=Path, help="folder of <person>/<photos> folders")
    p.add_argument("--per-person", type=int, default=3)
    p = admin("audit", "list the latest decisions", cmd_audit)
    p.add_argument("--limit", type=int, default=50)

    a = sub.add_parser("attendance", help="attendance log: export, report, view")
    asub = a.add_subparsers(dest="attendance_command", metavar="SUBCOMMAND", required=True)
    p = asub.add_parser("export", help="CSV of first/last seen per day and person")
    p.add_argument("--from", dest="date_from", type=_day, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=_day, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--entries", action="store_true", help="one row per entry instead")
    p.add_argument("out", metavar="OUT.csv", help="the CSV file to write, or - for standard "
                   "output")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_export)
    p = asub.add_parser("report", help="print first/last seen per day and person")
    p.add_argument("--from", dest="date_from", type=_day, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=_day, metavar="YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_report)
    p = asub.add_parser("view", help="open the attendance report window")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_view)
