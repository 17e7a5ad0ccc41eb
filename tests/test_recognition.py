"""One-shot identification and 1:1 verification on real photos at the default threshold."""

from __future__ import annotations

import numpy as np

from facelens.evaluation import embed_folder, evaluate


def test_one_shot_identification_at_default_threshold(engine, faces_dev):
    report = evaluate(engine, faces_dev / "people")
    assert report.identities == 14 and report.undetected == 0
    assert report.oneshot_enrolled == 7
    # enrolled people's other photos are named correctly...
    assert report.rank1 == 1.0
    assert report.car >= 0.97, report
    assert report.misidentified == 0
    # ...and strangers come back "not recognised"
    assert report.far == 0.0, report


def test_verification_genuine_vs_impostor(engine, faces_dev):
    labels, embs, _ = embed_folder(engine, faces_dev / "people")
    labels = np.asarray(labels)
    sims = embs @ embs.T
    iu = np.triu_indices(len(labels), 1)
    same = (labels[:, None] == labels[None, :])[iu]
    genuine, impostor = sims[iu][same], sims[iu][~same]
    t = engine.default_threshold
    assert (genuine >= t).mean() >= 0.97
    assert (impostor >= t).mean() <= 0.001
    assert genuine.mean() - impostor.mean() > 0.5


def test_group_photo_faces_match_enrolled_crops(engine, faces_dev, tmp_path):
    """Faces in the bbt group photos are the 8 bbt identities: each gets their best match."""
    from facelens.gallery import Gallery
    from facelens.images import load_image

    g = Gallery.open(tmp_path / "g.db", engine.model_id, engine.dim)
    for d in sorted((faces_dev / "people").glob("bbt_*")):
        g.enrol(d.name, engine.analyze_photo(load_image(d / "1.png"))[0].embedding[None])
    faces = engine.analyze_photo(load_image(faces_dev / "groups" / "bbt4.jpg"))
    matches = g.identify(np.stack([f.embedding for f in faces]), engine.default_threshold)
    named = [m.name for m in matches if m.name]
    assert len(named) >= len(faces) - 1
    assert len(set(named)) == len(named)  # no one named twice in one photo
