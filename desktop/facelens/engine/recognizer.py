"""FaceEngine: composes one pack's detector, aligner and embedder into face vectors per image."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import ModelPackError
from ..modelpack.pack import Pack, Progress, ensure_pack, recognition_packs, source_manifest
from ..runtime import session_provider
from . import models
from .align import align
from .faces import Face
from .ports import AntiSpoof, Detector, Embedder
from .quality import MIN_SIZE, QualityReport, assess

PHOTO_MAX_SIDE = 1600  # still photos are detected at most this large (faces scale with them)
TIGHT_CROP_FACE = 0.5  # a tight crop's face spans >= this share of its shorter side (faces-dev
# people/: 0.73-1.04 over 99 crops, found with a border added)


@dataclass
class FaceResult:
    """A face found in a still photo, with its aligned crop and embedding."""

    face: Face
    crop: np.ndarray
    embedding: np.ndarray


class FaceEngine:
    """Composes one model pack's detector, aligner and embedder; created once per process.

    Which classes run each role is the pack recipe's choice (see :mod:`.models`).
    """

    def __init__(self, pack: Pack, provider: str = "auto"):
        self.pack = pack
        self.requested_provider = provider
        self.detector: Detector = models.create_detector(pack, provider)
        self.embedder: Embedder = models.create_embedder(pack, provider)
        self._antispoof: AntiSpoof | None = None
        recipe = pack.recipe or source_manifest(pack.name)  # read once, not per gallery open
        calib = recipe.get("calibration", {})
        self.default_threshold: float = float(calib.get("threshold", 0.5))
        self.threshold_far: float | None = calib.get("far")
        self._model_id: str = recipe["embedding"]["model_id"]

    @classmethod
    def load(cls, pack: str = "lite", provider: str = "auto",
             progress: Progress | None = None) -> FaceEngine:
        """Open (building on first use) model pack `pack` and create its sessions."""
        source_manifest(pack)  # not a pack name, or unknown: said with the known ones
        if pack not in recognition_packs():
            raise ModelPackError(
                f"model pack {pack!r} cannot run in this FaceLens yet: its recipe declares no "
                "detector and embedder the engine has (the SCRFD, ArcFace and MiniFASNet "
                f"plug-ins are not written); use one of: {', '.join(recognition_packs())}")
        return cls(ensure_pack(pack, progress=progress or (lambda m, f: None)), provider)

    # -- facts the UI shows ---------------------------------------------------------------
    @property
    def provider(self) -> str:
        """``"CUDA"`` or ``"CPU"``: what the embedder's session really runs on."""
        return session_provider(self.embedder.session)

    @property
    def cuda_fell_back(self) -> bool:
        """CUDA was requested explicitly but could not be used."""
        return self.requested_provider == "cuda" and self.provider == "CPU"

    @property
    def pack_name(self) -> str:
        return self.pack.name

    @property
    def model_id(self) -> str:
        """Names the embedding space: templates of another model are never compared."""
        return self._model_id

    @property
    def dim(self) -> int:
        return self.embedder.dim

    # -- the stages -------------------------------------------------------------------------
    def detect(self, bgr: np.ndarray, min_face: int = 40) -> list[Face]:
        """Faces in a BGR frame, best score first."""
        return self.detector.detect(bgr, min_face)

    def align(self, bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """The 112x112 aligned crop of a face."""
        return align(bgr, landmarks)

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Unit-length embeddings of aligned crops, batched."""
        return self.embedder.embed(crops)

    def quality(self, bgr: np.ndarray, face: Face, crop: np.ndarray | None = None,
                min_size: float = MIN_SIZE) -> QualityReport:
        """Whether `face` is large, sharp and frontal enough to judge or enrol."""
        return assess(face, crop if crop is not None else self.align(bgr, face.landmarks),
                      min_size=min_size)

    @property
    def has_antispoof(self) -> bool:
        """Whether the pack declares an anti-spoofing model."""
        return models.role_spec(self.pack, "antispoof") is not None

    def antispoof(self) -> AntiSpoof:
        """The pack's anti-spoofing model (created on first use; ModelPackError if none)."""
        if self._antispoof is None:
            self._antispoof = models.create_antispoof(self.pack, self.requested_provider)
        return self._antispoof

    def antispoof_session(self):
        """The anti-spoofing network's ONNX Runtime session."""
        return self.antispoof().session

    # -- still photos -----------------------------------------------------------------------
    def detect_photo(self, bgr: np.ndarray, min_face: int = 20) -> list[Face]:
        """Faces in a still photo: large photos are scaled down, tight crops padded.

        A face cropped edge to edge gives the detector no context, so when nothing is found
        in a photo shaped like such a crop (at most twice as long as wide) it is retried with
        a border of half its size (edge pixels repeated), looking only for a face that fills
        the photo (at least TIGHT_CROP_FACE of its shorter side): cheap, even for a large
        photo without a face.
        """
        h, w = bgr.shape[:2]
        scale = min(1.0, PHOTO_MAX_SIDE / max(h, w))
        small = bgr if scale == 1.0 else cv2.resize(
            bgr, (max(1, round(w * scale)), max(1, round(h * scale))),
            interpolation=cv2.INTER_AREA)
        min_small = max(12, round(min_face * scale))
        faces = self.detect(small, min_small)
        offset = 0
        sh, sw = small.shape[:2]
        if not faces and max(sh, sw) <= 2 * min(sh, sw):
            offset = max(sh, sw) // 2
            padded = cv2.copyMakeBorder(small, offset, offset, offset, offset,
                                        cv2.BORDER_REPLICATE)
            faces = self.detect(padded, max(min_small, round(TIGHT_CROP_FACE * min(sh, sw))))
        for f in faces:
            f.box = ((f.box - offset) / scale).astype(np.float32)
            f.landmarks = ((f.landmarks - offset) / scale).astype(np.float32)
        return faces

    def analyze_photo(self, bgr: np.ndarray, min_face: int = 20) -> list[FaceResult]:
        """Detect, align and embed every face of a still photo (largest first)."""
        faces = sorted(self.detect_photo(bgr, min_face), key=lambda f: -f.size)
        crops = [self.align(bgr, f.landmarks) for f in faces]
        embs = self.embed(crops)
        return [FaceResult(f, c, e) for f, c, e in zip(faces, crops, embs, strict=True)]
