"""What a central gallery does not offer yet, refused before anything changes.

A station's gallery (`sync.ReplicatedGallery`) and the server's (`pg.PgGallery`) say
``central = True``; `refuse_on_central` is what the app, the kiosk and the CLI call before
such a feature starts, so the user reads why instead of a traceback.
"""

from __future__ import annotations

from ..errors import GalleryError

LEARNING = ("Learning (an adapter from corrections, `facelens learn`)",
            "a learned map would change recognition on this station only, while the other "
            "stations of the server go on without it",
            "Learn on a local gallery instead")
PACK_SWITCH = ("Switching the model pack (re-embedding every template)",
               "the server's templates are shared by every station, which all run the pack "
               "they were made by",
               "Keep the stations' pack; to move to another, `facelens gallery pull URL` into "
               "a local gallery, switch its pack there, and `facelens gallery push` it to a "
               "new server database")


class NotOnCentral(GalleryError):
    """A feature a central gallery does not offer yet; raised before anything is changed."""


def is_central(gallery: object) -> bool:
    """Whether `gallery` is a central gallery (a station's replica or the server itself)."""
    return bool(getattr(gallery, "central", False))


def not_on_central(feature: tuple[str, str, str]) -> NotOnCentral:
    """The error that says `feature` (one of the tuples above) is not available."""
    what, why, instead = feature
    return NotOnCentral(f"{what} is not available with a central gallery yet: {why}. "
                        f"Nothing was changed. {instead}.")


def refuse_on_central(gallery: object, feature: tuple[str, str, str]) -> None:
    """Raise `not_on_central(feature)` when `gallery` is a central gallery."""
    if is_central(gallery):
        raise not_on_central(feature)
