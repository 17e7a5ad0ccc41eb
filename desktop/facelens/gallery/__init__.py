"""The gallery of enrolled people: SQLite as the source of truth, FAISS as the search cache.

    g = Gallery.open(default_db_path(home), "lite/mobilefacenet-192", 192)
    g.enrol("Ada", embeddings)                 # [n, 192] unit float32; one row is enough
    g.identify(faces, threshold=0.5)           # one Match per row, name None below threshold

The app and the commands open the data folder's gallery with `open_for_home`, which unlocks
an encrypted gallery with $FACELENS_PASSPHRASE (or a terminal prompt). `list_people` reads
who is enrolled from SQLite alone (no NumPy, no FAISS), for quick commands.

The names below load on first use (`lazy_loader`), so importing a light part of the package
(`listing`, `db`) does not import NumPy and FAISS.
"""

import lazy_loader

from ..errors import GalleryError

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs={
    "gallery": ["DEFAULT_FILENAME", "Gallery", "default_db_path"],
    "listing": ["list_people", "people_of_home"],
    "names": ["MAX_NAME_LENGTH"],
    "records": ["Match", "Person"],
    "unlock": ["open_configured", "open_for_home"],
})
__all__ += ["GalleryError"]
