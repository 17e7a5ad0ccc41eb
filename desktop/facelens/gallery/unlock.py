"""Open the gallery of a data folder, asking for the passphrase only when it is encrypted.

The passphrase comes from the ``FACELENS_PASSPHRASE`` environment variable, else (commands
run in a terminal) from a prompt. Every place that opens the user's gallery goes through
`open_for_home`, so they all unlock it the same way.

Encryption is bound to the installation: `gallery encrypt` records it in the data folder's
settings (``gallery_encrypted``), and a gallery found unencrypted there afterwards (its
encryption settings deleted, its templates swapped for clear ones) is refused, loudly.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

from ..crypto import PASSPHRASE_ENV
from ..errors import GalleryError
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


def open_configured(home: Path, accept_unencrypted: bool = False) -> Gallery:
    """The gallery of `home` for its configured model pack, without loading any model."""
    from ..modelpack.pack import source_manifest
    from ..settings import Settings

    space = source_manifest(Settings.load(home).model_pack)["embedding"]
    return open_for_home(home, space["model_id"], space["dim"],
                         accept_unencrypted=accept_unencrypted)


def open_for_home(home: Path, model_id: str, dim: int, *, passphrase: str | None = None,
                  prompt: bool = True, ask: Callable[[], str | None] | None = None,
                  accept_unencrypted: bool = False) -> Gallery:
    """The gallery of the data folder `home` (see `Gallery.open`), unlocked when encrypted.

    A configured central gallery (``--gallery``, $FACELENS_GALLERY_URL or settings
    ``gallery_url``) opens instead, as this station's replica: see `sync.ReplicatedGallery`
    and `backend.gallery_location`.
    `prompt` False (the GUI, the kiosk) never reads the terminal; `ask` (the GUI's dialog)
    is called only when the gallery is encrypted and no passphrase was given otherwise.
    GalleryError when the settings say the gallery is encrypted and it is not (unless
    `accept_unencrypted`: the admin's explicit choice).
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
    gallery = Gallery.open(location, model_id, dim,
                           passphrase=passphrase_source(passphrase, prompt, ask))
    if not gallery.encrypted and not accept_unencrypted and encryption_expected(home):
        gallery.close()
        raise downgraded(gallery.path)
    from ..openset.adapter import load as load_adapter  # `facelens learn`'s map, if kept

    adapter = load_adapter(home, model_id, dim)
    if adapter is not None:
        gallery.set_adapter(adapter)
    return gallery


def encryption_expected(home: Path) -> bool:
    """Whether this installation encrypted its gallery (`gallery encrypt` said so)."""
    from ..settings import Settings

    return Settings.load(home).gallery_encrypted


def record_encryption(home: Path, encrypted: bool) -> None:
    """Record in the data folder's settings whether the gallery is encrypted."""
    from ..settings import Settings

    settings = Settings.load(home)
    if settings.gallery_encrypted != encrypted:
        settings.gallery_encrypted = encrypted
        settings.save(home)


def downgraded(path: Path) -> GalleryError:
    """The error for an unencrypted gallery where an encrypted one should be."""
    return GalleryError(
        f"the gallery {path} is NOT encrypted, but this installation encrypted it "
        "(settings.json: gallery_encrypted): its encryption was removed outside FaceLens and "
        "its templates may have been replaced. FaceLens will not use it. Restore the "
        "encrypted gallery from a backup (export); if you replaced it on purpose, check its "
        "people and run `facelens gallery decrypt --accept-unencrypted`.")
