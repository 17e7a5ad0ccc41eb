"""Model pack names: a pack is named, never given as a path (settings, CLI, the app)."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ModelPackError

MANIFESTS = Path(__file__).with_name("manifests")
NAME_PATTERN = r"[A-Za-z0-9_-]{1,64}"  # letters, digits, - and _: nothing that walks a path


def known_packs() -> list[str]:
    """Names of the packs FaceLens knows how to build (their recipes ship with it)."""
    return sorted(p.stem for p in MANIFESTS.glob("*.json"))


def recognition_packs(manifests: Path = MANIFESTS) -> list[str]:
    """Packs the engine can run on their own: their recipe declares a detector and an
    embedder (a download-only recipe without them, or an add-on such as `minifasnet`, is not)."""
    import json

    out = []
    for path in sorted(manifests.glob("*.json")):
        try:
            roles = json.loads(path.read_text(encoding="utf-8")).get("roles", {})
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(roles, dict) and {"detector", "embedder"} <= set(roles):
            out.append(path.stem)
    return out


def check_pack_name(name: object, known: list[str] | None = None) -> str:
    """`name` if it names a known pack (of `known`, default :func:`known_packs`);
    ModelPackError (saying which are known) otherwise."""
    known = known_packs() if known is None else known
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise ModelPackError(f"model pack {name!r}: not a pack name (letters, digits, - and _ "
                             f"only, never a path); use one of: {', '.join(known)}")
    if name not in known:
        raise ModelPackError(f"model pack {name!r}: unknown pack; use one of: "
                             f"{', '.join(known)}")
    return name
