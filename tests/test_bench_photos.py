"""Photos the live bench builds its videos from (`facelens bench --photos`)."""

from __future__ import annotations

import pytest

from facelens.errors import FaceLensError
from facelens.live.bench import _photo_folders, sample_faces


def test_the_faces_dev_root_gives_one_photo_per_person_and_skips_groups_and_no_faces(
        engine, faces_dev):
    folders = _photo_folders(faces_dev)
    assert faces_dev / "people" / "bbt_amy" in folders
    faces = sample_faces(engine, faces_dev, 6)
    assert len(faces) == 6
    assert all(len(engine.detect(f, 20)) == 1 for f in faces)
    embs = [engine.embed([engine.align(f, engine.detect(f, 20)[0].landmarks)])[0] for f in faces]
    sims = [float(a @ b) for i, a in enumerate(embs) for b in embs[i + 1:]]
    assert max(sims) < engine.default_threshold  # six different people, no photo twice


def test_photos_without_enough_single_faces_are_refused_with_why(engine, faces_dev, tmp_path):
    with pytest.raises(FaceLensError, match="0 photo.*exactly one face.*needs 3"):
        sample_faces(engine, faces_dev / "nofaces", 3)
    with pytest.raises(FaceLensError, match="no such folder"):
        sample_faces(engine, tmp_path / "missing", 3)
