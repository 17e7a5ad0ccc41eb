"""Rules for person names."""

from __future__ import annotations

import unicodedata

from ..errors import GalleryError

MAX_NAME_LENGTH = 100


def clean_name(name: object) -> str:
    """`name` without surrounding whitespace; GalleryError when it is empty, too long or odd."""
    if not isinstance(name, str):
        raise GalleryError(f"a name must be text, not {type(name).__name__}")
    cleaned = name.strip()
    if not cleaned:
        raise GalleryError("a name cannot be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise GalleryError(f"a name can have at most {MAX_NAME_LENGTH} characters "
                           f"(this one has {len(cleaned)})")
    if any(unicodedata.category(ch) == "Cc" for ch in cleaned):
        raise GalleryError(f"a name cannot contain control characters such as line breaks: "
                           f"{cleaned!r}")
    return cleaned
