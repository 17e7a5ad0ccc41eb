"""MTCNN face detector (P-Net, R-Net, O-Net) on ONNX Runtime: boxes, 5 landmarks, score.

The three networks come from the `lite` pack. They keep the original Caffe quirk: images go in
with width and height swapped, and P-Net's maps come back swapped too.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...runtime import create_session
from ..faces import Face, nms

FACTOR = 0.709  # pyramid step between scales
THRESHOLDS = (0.6, 0.7, 0.9)  # P-Net, R-Net, O-Net face probability (true faces in
# faces-dev score >= 0.99 at O-Net; the false positives seen there 0.73-0.75)


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    return boxes + reg * np.stack([w, h, w, h], axis=1)


def _square(boxes: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    cx = boxes[:, 0] + w * 0.5
    cy = boxes[:, 1] + h * 0.5
    return np.stack([cx - side * 0.5, cy - side * 0.5, cx + side * 0.5, cy + side * 0.5], axis=1)


def _shrink(halvings: list[np.ndarray], w: int, h: int) -> np.ndarray:
    """Resize ``halvings[0]`` with anti-aliasing: Gaussian halvings (pyrDown), then bilinear.

    As clean as INTER_AREA for downscaling, an order of magnitude faster at odd factors.
    `halvings` caches the halvings made so far, so the scales of a pyramid share them.
    """
    k = 0
    while halvings[k].shape[1] >= 2 * w and halvings[k].shape[0] >= 2 * h:
        if len(halvings) == k + 1:
            halvings.append(cv2.pyrDown(halvings[k]))
        k += 1
    return cv2.resize(halvings[k], (w, h), interpolation=cv2.INTER_LINEAR)


def _crops(img: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Crop each box (zero outside the image), resize to size x size, transpose, normalise."""
    h, w = img.shape[:2]
    out = np.empty((len(boxes), size, size, 3), dtype=np.float32)
    for i, (x1, y1, x2, y2) in enumerate(np.round(boxes).astype(np.int64)):
        bw, bh = max(int(x2 - x1 + 1), 1), max(int(y2 - y1 + 1), 1)
        patch = np.zeros((bh, bw, 3), dtype=np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2 + 1, w), min(y2 + 1, h)
        if sx2 > sx1 and sy2 > sy1:
            patch[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = img[sy1:sy2, sx1:sx2]
        out[i] = _shrink([patch], size, size).transpose(1, 0, 2)
    return (out - 127.5) * (1.0 / 128.0)


class MtcnnDetector:
    """Multi-scale cascaded face detector; one ONNX session per stage (recipe kind ``mtcnn``)."""

    def __init__(self, pnet: str, rnet: str, onet: str, provider: str = "auto",
                 thresholds: tuple[float, float, float] = THRESHOLDS):
        # The three nets are tiny: one thread each beats the cost of waking a pool.
        self.pnet = create_session(pnet, provider, threads=1, dynamic_shapes=True)
        self.rnet = create_session(rnet, provider, threads=1, dynamic_shapes=True)
        self.onet = create_session(onet, provider, threads=1, dynamic_shapes=True)
        self.thresholds = thresholds
        self.session = self.onet

    def detect(self, bgr: np.ndarray, min_face: int = 40) -> list[Face]:
        """Faces of at least `min_face` pixels in a uint8 BGR image, best score first."""
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        boxes = self._stage1(rgb, max(int(min_face), 12))
        if len(boxes):
            boxes = self._stage2(rgb, boxes)
        if not len(boxes):
            return []
        boxes, scores, marks = self._stage3(rgb, boxes)
        order = np.argsort(-scores)
        return [Face(boxes[i].astype(np.float32), marks[i].astype(np.float32), float(scores[i]))
                for i in order]

    def _stage1(self, rgb: np.ndarray, min_face: int) -> np.ndarray:
        h, w = rgb.shape[:2]
        scale = 12.0 / min_face
        found = []
        halvings = [rgb]  # Gaussian pyramid, shared by all scales
        while min(h, w) * scale >= 12:
            sw, sh = int(np.ceil(w * scale)), int(np.ceil(h * scale))
            img = _shrink(halvings, sw, sh)
            x = ((img.transpose(1, 0, 2)[None].astype(np.float32)) - 127.5) * (1.0 / 128.0)
            prob, reg = self.pnet.run(None, {"pnet/input": x})
            prob = prob[0, :, :, 1].T  # back to [H', W']
            reg = reg[0].transpose(1, 0, 2)
            ys, xs = np.nonzero(prob > self.thresholds[0])
            if len(ys):
                b = np.stack([xs * 2, ys * 2, xs * 2 + 11, ys * 2 + 11], axis=1) / scale
                s = prob[ys, xs]
                keep = nms(b, s, 0.5)
                found.append(np.hstack([b[keep], s[keep, None], reg[ys, xs][keep]]))
            scale *= FACTOR
        if not found:
            return np.zeros((0, 4))
        allb = np.vstack(found)
        keep = nms(allb[:, :4], allb[:, 4], 0.7)
        allb = allb[keep]
        return _square(_regress(allb[:, :4], allb[:, 5:9]))

    def _stage2(self, rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        prob, reg = self.rnet.run(None, {"rnet/input": _crops(rgb, boxes, 24)})
        score = prob[:, 1]
        ok = score > self.thresholds[1]
        boxes, score, reg = boxes[ok], score[ok], reg[ok]
        keep = nms(boxes, score, 0.7)
        return _square(_regress(boxes[keep], reg[keep]))

    def _stage3(self, rgb: np.ndarray, boxes: np.ndarray):
        prob, reg, pts = self.onet.run(None, {"onet/input": _crops(rgb, boxes, 48)})
        score = prob[:, 1]
        ok = score > self.thresholds[2]
        boxes, score, reg, pts = boxes[ok], score[ok], reg[ok], pts[ok]
        w = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
        h = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
        marks = np.stack([boxes[:, 0:1] + pts[:, :5] * w, boxes[:, 1:2] + pts[:, 5:] * h], axis=2)
        boxes = _regress(boxes, reg)
        keep = nms(boxes, score, 0.7, mode="min")
        return boxes[keep], score[keep], marks[keep]
