"""Who is enrolled, read from the gallery's SQLite file alone: no NumPy, no FAISS, no models.

`facelens people` uses it, so that listing names takes a fraction of a second (opening a
`Gallery` builds its FAISS search index from every template). An encrypted gallery still
needs its passphrase, checked as opening it would; thumbnails are not read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import db
from .records import Person

_PEOPLE = """SELECT p.id, p.name,
                    (SELECT count(*) FROM templates t WHERE t.person_id = p.id
                        AND t.model_id = ? AND t.dim = ?),
                    p.created, p.updated
             FROM people p ORDER BY p.name COLLATE NOCASE"""


def list_people(db_path: Path, model_id: str, dim: int,
                passphrase: str | Callable[[], str | None] | None = None) -> list[Person]:
    """Everyone in the gallery file `db_path`, by name; `templates` counts those made by
    `model_id` (`dim` long), as `Gallery.people` does. No file yet: nobody (nothing is created).

    Raises GalleryError, as `Gallery.open` would, for a damaged or foreign file and for an
    encrypted one without its right `passphrase` (a string, or a function called only then).
    """
    path = Path(db_path)
    if not path.exists():
        return []
    conn = db.connect(path, busy_timeout_s=5.0, read_only=True)
    try:
        if db.has_meta(conn):  # schema 2: maybe encrypted (NumPy and the cipher load only here)
            from . import sealing

            sealing.unlock(sealing.read_state(conn), passphrase, path)
        rows = conn.execute(_PEOPLE, (model_id, int(dim))).fetchall()
    finally:
        conn.close()
    return [Person(pid, name, count, created, updated)
            for pid, name, count, created, updated in rows]


def people_of_home(home: Path) -> list[Person]:
    """`list_people` for the gallery of the data folder `home` and its configured model pack."""
    from ..modelpack.pack import source_manifest
    from ..settings import Settings

    def passphrase() -> str | None:  # $FACELENS_PASSPHRASE or a terminal prompt, as elsewhere
        from .unlock import passphrase_source

        return passphrase_source()()

    space = source_manifest(Settings.load(home).model_pack)["embedding"]
    return list_people(Path(home) / db.DEFAULT_FILENAME, space["model_id"], space["dim"],
                       passphrase)
