"""YuNet (OpenCV Zoo, recipe kind ``yunet``): one network, boxes, 5 landmarks and a score.

Input: BGR, NCHW, raw 0..255, height and width multiples of 32. Outputs per stride 8, 16, 32:
``cls``, ``obj`` [1, n, 1], ``bbox`` [1, n, 4] and ``kps`` [1, n, 10] over the stride's grid,
decoded as OpenCV's ``FaceDetectorYN`` does (score = sqrt(cls * obj); centre offsets and
log sizes in stride units). Its landmark order (right eye, left eye, nose, right and left
mouth corner of the person) is the ArcFace template's order in the image.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ...runtime import create_session
from ..faces import Face, nms

STRIDES = (8, 16, 32)
SCORE_THRESHOLD = 0.8  # OpenCV Zoo's demo uses 0.9, which found 4 of the 6 faces of
# insightface's t1.jpg at 640x480; 0.8 finds all 6 and still nothing in faces-dev/nofaces
NMS_THRESHOLD = 0.3
MIN_DETECT_PX = 32  # the image is scaled so that `min_face` becomes about this many pixels
# (at 20, a 131-px face in a 320x240 frame was missed)
COARSE_SIDE = 640  # the long side of the second pass for large images
TIGHT = 0.75  # a face larger than this part of the image's shorter side: a tight crop (the
# faces-dev crops: 0.87; a face framed for the camera, e.g. a kiosk: about 0.55)
PAD = 0.3  # border added around a tight crop, relative to its longer side


class YuNetDetector:
    """Single-shot face detector on ONNX Runtime."""

    def __init__(self, model: str | Path, provider: str = "auto",
                 score_threshold: float = SCORE_THRESHOLD):
        self.session = create_session(model, provider, dynamic_shapes=True)
        self.input = self.session.get_inputs()[0].name
        self.names = [o.name for o in self.session.get_outputs()]
        self.score_threshold = score_threshold

    def raw(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes [n,4], landmarks [n,5,2] and scores [n] of `bgr` at its own size, before NMS."""
        h, w = bgr.shape[:2]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        img = cv2.copyMakeBorder(bgr, 0, ph - h, 0, pw - w, cv2.BORDER_CONSTANT, value=0)
        x = img.transpose(2, 0, 1)[None].astype(np.float32)
        out = dict(zip(self.names, self.session.run(None, {self.input: x}), strict=True))
        boxes, marks, scores = [], [], []
        for s in STRIDES:
            cols = pw // s
            cls = np.clip(out[f"cls_{s}"][0, :, 0], 0, 1)
            obj = np.clip(out[f"obj_{s}"][0, :, 0], 0, 1)
            score = np.sqrt(cls * obj)
            keep = np.nonzero(score >= self.score_threshold)[0]
            if not len(keep):
                continue
            c = (keep % cols).astype(np.float32)
            r = (keep // cols).astype(np.float32)
            bb = out[f"bbox_{s}"][0, keep]
            cx, cy = (c + bb[:, 0]) * s, (r + bb[:, 1]) * s
            bw, bh = np.exp(bb[:, 2]) * s, np.exp(bb[:, 3]) * s
            boxes.append(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1))
            kp = out[f"kps_{s}"][0, keep].reshape(-1, 5, 2)
            marks.append(np.stack([(kp[:, :, 0] + c[:, None]) * s,
                                   (kp[:, :, 1] + r[:, None]) * s], axis=2))
            scores.append(score[keep])
        if not boxes:
            return np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32), np.zeros(0)
        return np.concatenate(boxes), np.concatenate(marks), np.concatenate(scores)

    def detect(self, bgr: np.ndarray, min_face: int = 40) -> list[Face]:
        """Faces of at least `min_face` pixels in a uint8 BGR image, best score first.

        A face filling most of the image (a tight crop) is found, but with poor landmarks:
        seen on faces-dev, a 130-px face in a 150-px crop gave an SFace similarity of 0.14 to
        the same person, 0.64 once the crop had a border. Such images are detected again
        with a replicated border of 30% of their size.
        """
        faces = self._detect(bgr, min_face)
        h, w = bgr.shape[:2]
        if faces and max(f.size for f in faces) > TIGHT * min(h, w):
            pad = round(PAD * max(h, w))
            padded = cv2.copyMakeBorder(bgr, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            again = self._detect(padded, min_face)
            if again:
                for f in again:
                    f.box -= pad
                    f.landmarks -= pad
                faces = again
        return faces

    def _detect(self, bgr: np.ndarray, min_face: int) -> list[Face]:
        """Detection proper. The image is scaled so that `min_face` becomes about 32 pixels;
        when that leaves it larger than 640 pixels (YuNet's training size), a second pass at
        640 finds the faces too large for its coarsest stride (seen: none above 450 px).
        """
        h, w = bgr.shape[:2]
        scales = [min(1.0, MIN_DETECT_PX / max(float(min_face), 1.0))]
        if max(h, w) * scales[0] > COARSE_SIDE * 1.25:
            scales.append(COARSE_SIDE / max(h, w))
        boxes, marks, scores = [], [], []
        for scale in scales:
            small = bgr if scale == 1.0 else cv2.resize(
                bgr, (max(round(w * scale), 32), max(round(h * scale), 32)),
                interpolation=cv2.INTER_AREA)
            sx, sy = w / small.shape[1], h / small.shape[0]
            b, m, s = self.raw(small)
            boxes.append(b * [sx, sy, sx, sy])
            marks.append(m * [sx, sy])
            scores.append(s)
        allb, allm, alls = np.concatenate(boxes), np.concatenate(marks), np.concatenate(scores)
        faces = []
        for i in nms(allb, alls, NMS_THRESHOLD):
            face = Face(allb[i].astype(np.float32), allm[i].astype(np.float32), float(alls[i]))
            if face.size >= min_face:
                faces.append(face)
        return faces
