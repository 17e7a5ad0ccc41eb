"""Open the gallery of a data folder, asking for the passphrase only when it is encrypted.

The passphrase comes from the ``FACELENS_PASSPHRASE`` environment variable, else (commands
run in a terminal) from a prompt. Every place that opens the user's gallery goes through
`open_for_home`, so they all unlock it the same way.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

from ..crypto import PASSPHRASE_ENV
from .backend import gallery_location, is_url
from .gallery import Gallery, default_db_path


def passphrase_source(passphrase: str | None = None, prompt: bool = True,
                      ask: Callable[[], str | None] | None = None) -> Callable[[], str | None]:
    """A function giving `passphrase`, else $FACELENS_PASSPHRASE, else what `ask` returns
    (the GUI's dialog), else a terminal prompt (when `prompt` and stdin is a terminal)."""
    def get() -> str | None:
        phrase = passphrase or os.environ.get(PASSPHRASE_ENV)
        if not phrase and ask is not None:
            phrase = ask()
        elif not phrase and prompt and sys.stdin is not None and sys.stdin.isatty():
            phrase = getpass.getpass("Gallery passphrase: ")
        return phrase or None

    return get


def open_configured(home: Path) -> Gallery:
    """The gallery of `home` for its configured model pack, without loading any model."""
    from ..modelpack.pack import source_manifest
    from ..settings import Settings

    space = source_manifest(Settings.load(home).model_pack)["embedding"]
    return open_for_home(home, space["model_id"], space["dim"])


def open_for_home(home: Path, model_id: str, dim: int, *, passphrase: str | None = None,
                  prompt: bool = True, ask: Callable[[], str | None] | None = None) -> Gallery:
    """The gallery of the data folder `home` (see `Gallery.open`), unlocked when encrypted.

    A configured central gallery (``--gallery``, $FACELENS_GALLERY_URL or settings
    ``gallery_url``) opens instead, as this station's replica: see `sync.ReplicatedGallery`
    and `backend.gallery_location`.
    `prompt` False (the GUI, the kiosk) never reads the terminal; `ask` (the GUI's dialog)
    is called only when the gallery is encrypted and no passphrase was given otherwise.
    """
    from ..settings import Settings

    location = gallery_location(default_db_path(home),
                                getattr(Settings.load(home), "gallery_url", None))
    if is_url(location):  # a station of a central gallery: its replica, synced every 2 s
        from .sync import ReplicatedGallery

        central = ReplicatedGallery.open(str(location), home, model_id, dim,
                                         passphrase=passphrase_source(passphrase, prompt, ask))
        central.start()
        return central
    return Gallery.open(location, model_id, dim,
                        passphrase=passphrase_source(passphrase, prompt, ask))
