"""What every gallery store offers, and how a store is chosen by a location.

Two stores satisfy `GalleryBackend`: `Gallery` (SQLite + FAISS in the data folder, the
default) and `pg.PgGallery` (PostgreSQL + pgvector, shared by many stations). A location is
a file path or a ``postgresql://`` URL; `gallery_location` finds the configured one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

if TYPE_CHECKING:  # only in annotations: `facelens people` stays free of NumPy
    import numpy as np

from ..errors import GalleryError
from .records import Match, Person

GALLERY_URL_ENV = "FACELENS_GALLERY_URL"
URL_SCHEMES = ("postgresql://", "postgres://")


@runtime_checkable
class GalleryBackend(Protocol):
    """A gallery of people and face templates made by one embedding model."""

    model_id: str
    dim: int
    warnings: list[str]

    @property
    def encrypted(self) -> bool: ...

    def identify(self, embeddings: np.ndarray, threshold: float) -> list[Match]: ...

    def verify(self, name: str, embedding: np.ndarray, threshold: float) -> Match: ...

    def people(self) -> list[Person]: ...

    def count_templates(self) -> int: ...

    def enrol(self, name: str, embeddings: np.ndarray,
              thumbnails: list[bytes | None] | None = None,
              sources: list[str] | None = None) -> int: ...

    def rename(self, old: str, new: str) -> None: ...

    def remove(self, name: str) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> GalleryBackend: ...

    def __exit__(self, *exc: object) -> None: ...


def is_url(location: str | Path | None) -> bool:
    """Whether `location` names a PostgreSQL server rather than a file."""
    return isinstance(location, str) and location.lower().startswith(URL_SCHEMES)


def gallery_location(default: Path, configured: str | None = None) -> str | Path:
    """Where the gallery is: $FACELENS_GALLERY_URL (``--gallery`` sets it), else the
    `configured` URL (the data folder's settings), else the SQLite file `default`.

    A password is never kept in settings: a configured URL holding one is refused (give it
    with PGPASSWORD or ~/.pgpass instead).
    """
    url = os.environ.get(GALLERY_URL_ENV)
    if url:
        return _checked(url, f"--gallery / ${GALLERY_URL_ENV}")
    if configured:
        if urlsplit(configured).password or "password=" in configured:
            from .pg.url import mask_url

            raise GalleryError(f"settings gallery_url {mask_url(configured)}: holds a password "
                               "in clear; remove it from settings.json and give the password "
                               "with PGPASSWORD or ~/.pgpass")
        return _checked(configured, "settings gallery_url")
    return default


def _checked(url: str, what: str) -> str:
    if not is_url(url):
        raise GalleryError(f"{what} {url!r}: not a postgresql:// URL; use "
                           "postgresql://USER@HOST:PORT/DATABASE")
    return url


def open_backend(location: str | Path, model_id: str, dim: int, **kwargs: object
                 ) -> GalleryBackend:
    """Open the store at `location`: a ``postgresql://`` URL or an SQLite file path."""
    if is_url(location):
        from .pg.store import PgGallery

        return PgGallery.open(str(location), model_id, dim, **kwargs)
    from .gallery import Gallery

    return Gallery.open(Path(location), model_id, dim, **kwargs)
