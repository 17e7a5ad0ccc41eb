"""From a pack's declared roles to model objects: the `kind` in the recipe picks the class.

A recipe's ``roles`` block says, per role, which family runs it and which of the pack's files
it uses, e.g. ``"detector": {"kind": "mtcnn", "files": ["pnet", "rnet", "onet"]}``. Nothing
is guessed from the ONNX files themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ModelPackError
from ..modelpack.pack import Pack
from .antispoof import TreeAntiSpoof
from .detectors.mtcnn import MtcnnDetector
from .detectors.yunet import YuNetDetector
from .embedders.mobilefacenet import MobileFaceNetEmbedder
from .embedders.sface import SFaceEmbedder
from .ports import AntiSpoof, Detector, Embedder

DETECTORS: dict[str, Callable[..., Detector]] = {"mtcnn": MtcnnDetector, "yunet": YuNetDetector}
EMBEDDERS: dict[str, Callable[..., Embedder]] = {"mobilefacenet": MobileFaceNetEmbedder,
                                                 "sface": SFaceEmbedder}
ANTISPOOFS: dict[str, Callable[..., AntiSpoof]] = {"tree": TreeAntiSpoof}
FAMILIES = {"detector": DETECTORS, "embedder": EMBEDDERS, "antispoof": ANTISPOOFS}


def role_spec(pack: Pack, role: str) -> dict | None:
    """The recipe's declaration of `role` in `pack`, or None when the pack has no such role."""
    return (pack.recipe or pack.manifest).get("roles", {}).get(role)


def create(pack: Pack, role: str, provider: str = "auto"):
    """The model object for `role` of `pack`, of the family its recipe names."""
    spec = role_spec(pack, role)
    if spec is None:
        raise ModelPackError(f"model pack {pack.name!r} has no {role} model")
    families = FAMILIES[role]
    kind = spec.get("kind")
    if kind not in families:
        raise ModelPackError(
            f"model pack {pack.name!r}: {role} kind {kind!r} is unknown (known: "
            f"{', '.join(sorted(families))}); fix the recipe's roles.{role}.kind")
    paths = [str(pack.path(f)) for f in spec.get("files", [])]
    return families[kind](*paths, provider=provider)


def create_detector(pack: Pack, provider: str = "auto") -> Detector:
    """The pack's face detector."""
    return create(pack, "detector", provider)


def create_embedder(pack: Pack, provider: str = "auto") -> Embedder:
    """The pack's face embedder."""
    return create(pack, "embedder", provider)


def create_antispoof(pack: Pack, provider: str = "auto") -> AntiSpoof:
    """The pack's anti-spoofing model (ModelPackError when it has none)."""
    return create(pack, "antispoof", provider)
