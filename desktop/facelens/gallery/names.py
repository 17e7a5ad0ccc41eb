"""Rules for person names: one spelling per name.

A name is stored in NFC with single spaces, and never holds control, format (zero-width,
bidi override), surrogate or private-use characters, so two names that look the same are the
same text. Names are found by `name_key`: case- and normalisation-insensitive ("José" typed
as NFC or NFD, "JOSÉ", "ｊｏｓé" all find the same person), which SQLite's ``COLLATE NOCASE``
(ASCII only) cannot do.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from ..errors import GalleryError

MAX_NAME_LENGTH = 100
# Cc control (line breaks, escapes), Cf format (zero-width space/joiners, bidi overrides and
# isolates, soft hyphen, BOM), Cs lone surrogates, Co private use, Zl/Zp line/paragraph breaks
REFUSED_CATEGORIES = {"Cc": "control", "Cf": "invisible formatting (zero-width or bidi)",
                      "Cs": "surrogate", "Co": "private-use", "Zl": "line separator",
                      "Zp": "paragraph separator"}
INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0"}  # Hangul fillers: letters that show nothing


def _spelling(name: str) -> str:
    """NFC, stripped, each run of spaces (no-break, thin, ideographic...) made one space;
    line breaks and tabs are left for `clean_name` to refuse."""
    text = unicodedata.normalize("NFC", name).strip()
    spaced = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text)
    return " ".join(part for part in spaced.split(" ") if part)


def clean_name(name: object) -> str:
    """The stored spelling of `name`; GalleryError when it is empty, too long or odd."""
    if not isinstance(name, str):
        raise GalleryError(f"a name must be text, not {type(name).__name__}")
    cleaned = _spelling(name)
    if not cleaned:
        raise GalleryError("a name cannot be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise GalleryError(f"a name can have at most {MAX_NAME_LENGTH} characters "
                           f"(this one has {len(cleaned)})")
    for ch in cleaned:
        kind = REFUSED_CATEGORIES.get(unicodedata.category(ch))
        if kind is None and ch in INVISIBLE:
            kind = "invisible"
        if kind is not None:
            raise GalleryError(f"name {cleaned!r}: it contains the {kind} character "
                               f"U+{ord(ch):04X}, which shows nothing or reorders text; "
                               "type the name without it")
    return cleaned


def lookup_name(name: object) -> str:
    """`name` as typed to find someone (lenient: a stored odd name can still be found)."""
    if not isinstance(name, str):
        raise GalleryError(f"a name must be text, not {type(name).__name__}")
    cleaned = _spelling(name)
    if not cleaned:
        raise GalleryError("a name cannot be empty")
    return cleaned


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """What two spellings of one name share: NFKC, case-folded (of a `clean_name`)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def find_person(rows, name: str, typed: str | None = None) -> tuple[int, str] | None:
    """The (id, name) of `rows` that is `name` in any case or Unicode spelling (`name_key`);
    the exact spelling (`name`, or `typed` as given) wins when several match; GalleryError
    when several match otherwise."""
    key = name_key(name)
    found = [(pid, stored) for pid, stored in rows if name_key(stored) == key]
    if len(found) > 1:
        exact = [f for f in found if f[1] in (name, typed)]
        if not exact:
            raise GalleryError(f"{len(found)} people are called {name!r} (spelled "
                               f"{', '.join(repr(f[1]) for f in found)}): rename all but one "
                               "in the People list")
        found = exact
    return found[0] if found else None
