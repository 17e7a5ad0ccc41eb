"""Commands: ``facelens gallery status|encrypt|decrypt|change-passphrase``.

The passphrase comes from ``FACELENS_PASSPHRASE`` (the new one for change-passphrase from
``FACELENS_NEW_PASSPHRASE``), else from a prompt when run in a terminal.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from ..cli import emit
from ..crypto import PASSPHRASE_ENV
from ..errors import GalleryError
from ..paths import data_home
from . import db, sealing
from .gallery import Gallery, default_db_path
from .unlock import downgraded, encryption_expected, open_configured, record_encryption

NEW_PASSPHRASE_ENV = "FACELENS_NEW_PASSPHRASE"


def _home(args: argparse.Namespace) -> Path:
    return data_home(getattr(args, "home", None))


def _open(args: argparse.Namespace, accept_unencrypted: bool = False) -> Gallery:
    return open_configured(data_home(getattr(args, "home", None)), accept_unencrypted)


def _new_passphrase(env: str) -> str:
    """A new passphrase from `env`, else typed twice in a terminal."""
    phrase = os.environ.get(env)
    if phrase:
        return phrase
    if not (sys.stdin is not None and sys.stdin.isatty()):
        raise GalleryError(f"give the new passphrase with the {env} environment variable "
                           "(or run the command in a terminal to type it)")
    phrase = getpass.getpass("New gallery passphrase: ")
    if phrase != getpass.getpass("Type it again: "):
        raise GalleryError("the two passphrases differ; nothing was changed")
    if not phrase:
        raise GalleryError("an empty passphrase cannot protect anything; nothing was changed")
    return phrase


def cmd_status(args: argparse.Namespace) -> int:
    """The local gallery file, or (a URL configured) the central gallery as this station sees
    it: exit code 1 when its server cannot be reached."""
    from ..settings import Settings
    from .backend import gallery_location, is_url

    home = data_home(getattr(args, "home", None))
    path = default_db_path(home)
    settings = Settings.load(home)
    location = gallery_location(path, getattr(settings, "gallery_url", None))
    if is_url(location):
        from ..modelpack.pack import source_manifest
        from .central_status import describe, describe_text

        space = source_manifest(settings.model_pack)["embedding"]
        info = describe(str(location), home, space["model_id"], space["dim"])
        emit(args, info, describe_text(info))
        return 0 if info["reachable"] else 1
    encrypted = False
    if path.exists():
        conn = db.connect(path, busy_timeout_s=5.0, read_only=True)
        try:
            encrypted = sealing.read_state(conn) is not None
        finally:
            conn.close()
    expected = encryption_expected(home)
    emit(args, {"path": str(path), "exists": path.exists(), "encrypted": encrypted,
                "expected_encrypted": expected},
         f"{path}: {'encrypted (AES-256-GCM)' if encrypted else 'not encrypted'}"
         if path.exists() else f"{path}: no gallery yet")
    if path.exists() and expected and not encrypted:
        raise downgraded(path)
    return 0


def cmd_encrypt(args: argparse.Namespace) -> int:
    with _open(args) as g:
        if g.encrypted:
            raise GalleryError("the gallery is already encrypted; to change its passphrase use "
                               "`facelens gallery change-passphrase`")
        count = g.encrypt(_new_passphrase(PASSPHRASE_ENV))
        warnings = list(g.warnings)
    record_encryption(_home(args), True)  # from now on a clear gallery here is refused
    emit(args, {"encrypted": True, "templates": count, "warnings": warnings},
         "\n".join([f"gallery encrypted ({count} templates); keep the passphrase safe: "
                    "without it the templates cannot be recovered", *warnings]))
    return 0


def cmd_decrypt(args: argparse.Namespace) -> int:
    home = data_home(getattr(args, "home", None))
    with _open(args, accept_unencrypted=args.accept_unencrypted) as g:
        was = g.encrypted
        record_encryption(home, False)  # first: a crash then leaves it encrypted, not refused
        try:
            count = g.decrypt()
        except BaseException:
            record_encryption(home, was)
            raise
    emit(args, {"encrypted": False, "templates": count},
         f"gallery decrypted ({count} templates)" if was else "the gallery was not encrypted")
    return 0


def cmd_change(args: argparse.Namespace) -> int:
    with _open(args) as g:
        if not g.encrypted:
            raise GalleryError("the gallery is not encrypted: use `facelens gallery encrypt`")
        count = g.encrypt(_new_passphrase(NEW_PASSPHRASE_ENV))
        warnings = list(g.warnings)
    record_encryption(_home(args), True)
    emit(args, {"encrypted": True, "templates": count, "warnings": warnings},
         "\n".join([f"passphrase changed ({count} templates re-encrypted)", *warnings]))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``gallery`` to the ``facelens`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="one JSON object per line")
    common.add_argument("--home", default=argparse.SUPPRESS, help="data folder")
    g = sub.add_parser("gallery", help="gallery encryption at rest, and push/pull to a central "
                                         "server")
    gs = g.add_subparsers(dest="gallery_command", metavar="SUBCOMMAND", required=True)
    for name, func, text in [
            ("status", cmd_status, "say whether the gallery is encrypted; for a central "
                                   "gallery: server, counts, replica age, rows queued"),
            ("encrypt", cmd_encrypt, f"encrypt templates and thumbnails (passphrase from "
                                     f"${PASSPHRASE_ENV} or typed)"),
            ("decrypt", cmd_decrypt, "store templates and thumbnails in clear again"),
            ("change-passphrase", cmd_change, f"re-encrypt with a new passphrase (from "
                                              f"${NEW_PASSPHRASE_ENV} or typed)")]:
        p = gs.add_parser(name, parents=[common], help=text, description=text)
        p.set_defaults(func=func)
        if name == "decrypt":
            p.add_argument("--accept-unencrypted", action="store_true",
                           help="use a gallery found unencrypted although this installation "
                                "encrypted it (check its people first)")
    from .pg.cli import register as register_central

    register_central(gs, common)
