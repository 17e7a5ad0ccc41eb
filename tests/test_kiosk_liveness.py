"""Liveness with real photos and the real networks.

Temporal cue (3D convolution): a still photo moved by hand must stay below the threshold,
and a sequence of a person's different photos (a stand-in for a living face, not a real
one) must score above it. The threshold (0.025) was calibrated on 42 + 42 sequences of the
dev photos with other random seeds than those used here.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facelens.kiosk import sequences
from facelens.kiosk.antispoof import AntiSpoof, face_crop, sharpness
from facelens.kiosk.config import TEMPORAL_THRESHOLD
from facelens.kiosk.temporal import TemporalLiveness, spatiotemporal_kernels, temporal_score

PEOPLE = ["bbt_amy", "bbt_leonard", "bbt_penny", "john_salley", "john_savage", "john_simm"]


def _crops(engine, frames):
    out = []
    for f in frames:
        faces = engine.detect(f, min_face=60)
        assert faces, "the synthetic camera frame lost the face"
        face = max(faces, key=lambda x: x.box[2] - x.box[0])
        out.append(engine.align(f, face.landmarks))
    return out


def _photos(faces_dev, person):
    return [cv2.imread(str(p)) for p in sorted((faces_dev / "people" / person).iterdir())]


def test_kernels_are_3d_derivatives_of_time():
    k1, k2 = spatiotemporal_kernels()
    assert k1.shape == k2.shape == (3, 7, 7)
    assert abs(k1.sum()) < 1e-6 and abs(k2.sum()) < 1e-6  # no response to a static volume
    assert np.allclose(k1[0], -k1[2]) and np.allclose(k2[1], -2 * k2[0])


def test_static_zero_and_local_change_positive(engine, faces_dev):
    crop = _crops(engine, [sequences.place(_photos(faces_dev, "bbt_raj")[0],
                                           np.random.default_rng(0))])[0]
    assert temporal_score([crop] * 8) < 1e-6
    blink = crop.copy()
    blink[44:56, 30:82] = (blink[44:56, 30:82] * 0.4).astype(np.uint8)  # eyes shut, darker
    blinked = temporal_score([crop] * 3 + [blink] * 2 + [crop] * 3)  # eyes shut 2 frames
    print(f"static {temporal_score([crop] * 8):.2e}, blink {blinked:.4f}")
    assert blinked > TEMPORAL_THRESHOLD


@pytest.mark.parametrize("person", PEOPLE)
def test_print_refused_and_photo_sequence_passes(engine, faces_dev, person):
    photos = _photos(faces_dev, person)
    held = temporal_score(_crops(engine, sequences.print_attack(photos[1], 8, seed=101)))
    alive = temporal_score(_crops(engine, sequences.photo_sequence(photos, 8, seed=202)))
    print(f"{person}: held print {held:.4f}, photo sequence {alive:.3f}")
    assert held < TEMPORAL_THRESHOLD < alive


def test_buffer_scores_once_full():
    live = TemporalLiveness(frames=4)
    crop = np.full((112, 112, 3), 128, np.uint8)
    assert [live.push(crop) for _ in range(3)] == [None, None, None]
    assert live.push(crop) == pytest.approx(0.0, abs=1e-6)


def test_antispoof_sharpness_precheck_and_scores(engine, faces_dev):
    spoof = AntiSpoof(engine.antispoof())
    photo = cv2.imread(str(faces_dev / "people" / "john_savage" / "2.jpg"))
    frame = sequences.place(photo, np.random.default_rng(0))
    box = engine.detect(frame, 60)[0].box
    crop = face_crop(frame, box)
    assert crop.shape == (256, 256, 3)
    soft = sharpness(crop)
    assert sharpness(cv2.GaussianBlur(crop, (0, 0), 3)) < soft
    # the 150-px dev chip is too soft for the authors' 1000 count: not judged
    reading = spoof.read(frame, box)
    assert soft <= 1000 and not reading.sharp and reading.score is None
    # a detailed crop passes the pre-check (a synthetic texture added to the same face)
    detailed = np.clip(crop + np.random.default_rng(1).normal(0, 40, crop.shape), 0, 255)
    assert sharpness(detailed.astype(np.uint8)) > 1000
    assert spoof.score_crop(crop) == pytest.approx(spoof.score_crop(crop.copy()))
    scores = []
    for f in sequences.print_attack(photo, 5, seed=0):
        scores.append(spoof.score_crop(face_crop(f, engine.detect(f, 60)[0].box)))
    print("anti-spoof scores of john_savage/2.jpg moved by hand:", np.round(scores, 3))
    assert all(0.0 <= x <= 1.1 for x in scores)
    # the network, judged as the kiosk does (median over the frames of a run), is fooled by
    # this photo; the temporal cue refuses it (test_kiosk_station)
    assert np.median(scores) < 0.2
