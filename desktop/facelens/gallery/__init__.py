"""The gallery of enrolled people: SQLite as the source of truth, FAISS as the search cache.

    g = Gallery.open(default_db_path(home), "lite/mobilefacenet-192", 192)
    g.enrol("Ada", embeddings)                 # [n, 192] unit float32; one row is enough
    g.identify(faces, threshold=0.5)           # one Match per row, name None below threshold

The app and the commands open the data folder's gallery with `open_for_home`, which unlocks
an encrypted gallery with $FACELENS_PASSPHRASE (or a terminal prompt).
"""

from ..errors import GalleryError
from .gallery import DEFAULT_FILENAME, Gallery, default_db_path
from .names import MAX_NAME_LENGTH
from .records import Match, Person
from .unlock import open_configured, open_for_home

__all__ = ["DEFAULT_FILENAME", "MAX_NAME_LENGTH", "Gallery", "GalleryError", "Match", "Person",
           "default_db_path", "open_configured", "open_for_home"]
