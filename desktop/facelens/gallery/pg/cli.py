"""Commands: ``facelens gallery push URL`` and ``facelens gallery pull URL``."""

from __future__ import annotations

import argparse

from ...cli import emit
from ...paths import data_home
from .url import mask_url


def _open_both(args: argparse.Namespace):
    """(home, local SQLite gallery, central gallery) for the configured model pack."""
    from ...modelpack.pack import source_manifest
    from ...settings import Settings
    from ..gallery import Gallery, default_db_path
    from ..unlock import passphrase_source
    from .store import PgGallery

    home = data_home(getattr(args, "home", None))
    space = source_manifest(Settings.load(home).model_pack)["embedding"]
    local = Gallery.open(default_db_path(home), space["model_id"], space["dim"],
                         passphrase=passphrase_source())
    try:
        central = PgGallery.open(args.url, space["model_id"], space["dim"],
                                 passphrase=passphrase_source())
    except BaseException:
        local.close()
        raise
    return home, local, central


def _report(args: argparse.Namespace, verb: str, done, url: str) -> None:
    d = done.as_dict()
    emit(args, {"url": mask_url(url), **d},
         f"{verb} {mask_url(url)}: {d['people']} new people, {d['templates']} templates "
         f"({d['templates_skipped']} already there), {d['attendance']} attendance rows "
         f"({d['attendance_skipped']} already there)")


def cmd_push(args: argparse.Namespace) -> int:
    from .migrate import push

    home, local, central = _open_both(args)
    with local, central:
        done = push(local, central, home)
    _report(args, "pushed to", done, args.url)
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from .migrate import pull

    home, local, central = _open_both(args)
    with local, central:
        done = pull(central, local, home)
    _report(args, "pulled from", done, args.url)
    return 0


def register(gs: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``push`` and ``pull`` to ``facelens gallery``."""
    for name, func, text in [
            ("push", cmd_push, "copy the local gallery and attendance log to a central "
                               "PostgreSQL server (adds what is missing there)"),
            ("pull", cmd_pull, "copy a central server's gallery (and this station's "
                               "attendance rows) into the local data folder")]:
        p = gs.add_parser(name, parents=[common], help=text, description=text)
        p.add_argument("url", metavar="URL",
                       help="postgresql://USER@HOST:PORT/DATABASE (password from PGPASSWORD "
                            "or ~/.pgpass, never stored)")
        p.set_defaults(func=func)
