"""Temporal liveness: 3D convolution over a track's last aligned face crops.

The last N aligned 112x112 crops, in grey, form a depth x height x width volume. Alignment
to the ArcFace template has removed most rigid motion; a residual registration (OpenCV ECC,
affine) removes what landmark jitter left (shift, rotation, scale). The crops are halved
to 56x56 and the volume is convolved (real 3D convolutions, ``scipy.ndimage.convolve``)
with a bank of two spatio-temporal kernels: a 2D Gaussian across height and width (sigma
1 grid pixel, 2 pixels of the crop) times a first-order [-1, 0, 1] / 2 and a second-order
[1, -2, 1] / 2 temporal derivative along depth. They respond to change over time that is
not a rigid move of the whole face: blinks, expression, skin and lighting on a 3D face. A
photo moved in front of the camera stays near zero.

The score is the summed squared response of both kernels in an ellipse over the inner face,
per frame, averaged over the higher half of the frames (blinks are short); frames are
normalised to zero mean and unit variance in the inner face first, so the score has no
unit and ignores global brightness.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache

import cv2
import numpy as np
from scipy import ndimage

SIZE = 112
GRID = 56  # registered crops are halved before the 3D convolution (4x fewer voxels)
# Inner face of the ArcFace 112x112 template (brows to chin, cheek to cheek), on the grid:
# the bounding box (for normalising) and an ellipse inside it (for the energy), which leaves
# out the corners where background or a print's edge can show.
MASK_Y = slice(14, 52)
MASK_X = slice(9, 47)
_yy, _xx = np.mgrid[MASK_Y, MASK_X]
ELLIPSE = ((_xx - 28) / 17.0) ** 2 + ((_yy - 34) / 19.0) ** 2 <= 1.0
SIGMA = 1.0  # spatial Gaussian of the kernels, grid pixels (2 px of the 112x112 crop)


def spatiotemporal_kernels(sigma: float = SIGMA) -> list[np.ndarray]:
    """Two 3 x k x k kernels: 2D Gaussian (sum 1) times [-1, 0, 1]/2 and [1, -2, 1]/2 in time."""
    r = max(1, int(round(3 * sigma)))
    x = np.arange(-r, r + 1, dtype=np.float32)
    g = np.exp(-(x**2) / (2 * sigma**2))
    g2 = np.outer(g, g)
    g2 /= g2.sum()
    temporal = [np.array([-0.5, 0.0, 0.5]), np.array([0.5, -1.0, 0.5])]
    return [(d[:, None, None] * g2[None]).astype(np.float32) for d in temporal]


@lru_cache(maxsize=4)
def _kernel_bank(sigma: float) -> tuple[np.ndarray, ...]:
    """The kernels for `sigma`, built once (they are only read)."""
    return tuple(spatiotemporal_kernels(sigma))


def _grey(crop: np.ndarray) -> np.ndarray:
    g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    if g.shape != (SIZE, SIZE):
        g = cv2.resize(g, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return g.astype(np.float32)


def _register(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Remove residual rigid motion: warp each frame onto the middle one (ECC, affine)."""
    ref = frames[len(frames) // 2]
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)
    out = []
    for f in frames:
        warp = np.eye(2, 3, dtype=np.float32)
        try:
            _, warp = cv2.findTransformECC(ref, f, warp, cv2.MOTION_AFFINE, crit, None, 5)
            f = cv2.warpAffine(f, warp, (SIZE, SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)
        except cv2.error:
            pass  # no convergence: keep the frame as aligned by landmarks
        out.append(f)
    return out


def _normalise(f: np.ndarray) -> np.ndarray:
    f = cv2.resize(f, (GRID, GRID), interpolation=cv2.INTER_AREA)
    inner = f[MASK_Y, MASK_X]
    return (f - inner.mean()) / (inner.std() + 1e-3)


def volume(crops: list[np.ndarray], register: bool = True) -> np.ndarray:
    """The D x 56 x 56 float32 volume of grey, registered, halved, normalised crops."""
    frames = [_grey(c) for c in crops]
    if register:
        frames = _register(frames)
    return np.stack([_normalise(f) for f in frames]).astype(np.float32)


def frame_energies(vol: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    """Mean squared response of the kernel bank in the inner face, one value per inner frame."""
    energy = np.zeros(vol.shape[0] - 2, dtype=np.float32)
    for kernel in _kernel_bank(sigma):
        resp = ndimage.convolve(vol, kernel, mode="nearest")
        inner = resp[1:-1, MASK_Y, MASK_X]  # depth: only where the 3-deep kernels fit
        energy += (inner[:, ELLIPSE] ** 2).mean(axis=1)
    return energy


def temporal_score(crops: list[np.ndarray], sigma: float = SIGMA) -> float:
    """Non-rigid change energy of a crop sequence (>= 3 crops); low for a still photo."""
    if len(crops) < 3:
        raise ValueError("the temporal cue needs at least 3 crops")
    e = np.sort(frame_energies(volume(crops), sigma))
    return float(e[len(e) // 2:].mean())


class TemporalLiveness:
    """Keep one track's last `frames` aligned crops (in grey) and score them."""

    def __init__(self, frames: int = 8, sigma: float = SIGMA):
        self.crops: deque[np.ndarray] = deque(maxlen=frames)
        self.sigma = sigma

    def reset(self) -> None:
        self.crops.clear()

    def push(self, crop: np.ndarray) -> float | None:
        """Add a crop; return the score once the buffer is full, else None."""
        self.crops.append(_grey(crop))  # kept in grey: each crop is converted once, not per push
        if len(self.crops) < self.crops.maxlen:
            return None
        return temporal_score(list(self.crops), self.sigma)
