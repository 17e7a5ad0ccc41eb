"""Unknown-face review (issue 9, test c): a video with two strangers gives two clusters, and
naming one enrols that person (real lite pack, real faces-dev photos in a synthetic video)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from facelens.live.synth import Actor, write_video

STRANGERS = ("bbt_raj", "john_savage")


def _run(home, *args):
    return subprocess.run([sys.executable, "-m", "facelens", *args, "--home", str(home)],
                          capture_output=True, text=True, timeout=600)


def _video(faces_dev, path):
    actors = []
    for who in STRANGERS:  # each stranger comes three times, with another photo each time
        for i, photo in enumerate(sorted((faces_dev / "people" / who).iterdir())[:3]):
            actors.append(Actor.from_file(photo, who, enter=i * 1.5, leave=i * 1.5 + 1.0))
    return write_video(path, actors, seconds=4.5, fps=10, face_px=140)


def test_two_strangers_two_clusters_and_naming_enrols(faces_dev, tmp_path):
    home = tmp_path / "home"
    amy = faces_dev / "people" / "bbt_amy"
    assert _run(home, "enrol", "Amy", str(sorted(amy.iterdir())[0])).returncode == 0
    video = _video(faces_dev, tmp_path / "door.avi")
    out = _run(home, "unknown", "collect", str(video.path), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["kept"] >= 4  # one best crop per track of a stranger
    listed = [json.loads(line) for line in _run(home, "unknown", "list", "--json").stdout
              .splitlines()]
    assert len(listed) == 2, listed

    named = _run(home, "unknown", "name", "1", "Visitor", "--json")
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["added"] >= 1
    left = [json.loads(line) for line in _run(home, "unknown", "list", "--json").stdout
            .splitlines()]
    assert len(left) == 1  # the named cluster is gone from the review
    # the enrolled visitor is one of the two strangers, and only that one
    probes = [str(sorted((faces_dev / "people" / who).iterdir())[4]) for who in STRANGERS]
    out = _run(home, "identify", *probes, "--json")
    names = [json.loads(line)["faces"][0]["name"] for line in out.stdout.splitlines()]
    assert sorted(names, key=str) == sorted(["Visitor", None], key=str), names


def test_ignore_forget_and_bad_input(faces_dev, tmp_path):
    home = tmp_path / "home"
    video = _video(faces_dev, tmp_path / "door.avi")
    assert _run(home, "unknown", "collect", str(video.path)).returncode == 0
    assert _run(home, "unknown", "ignore", "1").returncode == 0
    listed = _run(home, "unknown", "list", "--json").stdout.splitlines()
    assert len(listed) == 1
    bad = _run(home, "unknown", "name", "7", "Someone")
    assert bad.returncode != 0 and "no such cluster" in bad.stderr
    bad = _run(home, "unknown", "collect", str(tmp_path / "missing.avi"))
    assert bad.returncode != 0 and "is not a video file" in bad.stderr
    out = _run(home, "unknown", "forget", "--json")
    assert json.loads(out.stdout)["forgotten"] >= 1
    assert _run(home, "unknown", "list", "--json").stdout.strip() == ""


def test_crops_are_sealed_when_the_gallery_is_encrypted(engine, faces_dev, tmp_path):
    from facelens.gallery import Gallery
    from facelens.images import load_image
    from facelens.openset.unknowns import FILE_NAME, UnknownStore

    g = Gallery.open(tmp_path / "gallery.db", engine.model_id, engine.dim)
    g.encrypt("a long passphrase")
    face = engine.analyze_photo(load_image(faces_dev / "people/bbt_raj/1.png"))[0]
    store = UnknownStore.for_home(tmp_path, g)
    import cv2

    png = cv2.imencode(".png", face.crop)[1].tobytes()
    store.add(face.embedding, png, 1.0)
    raw = (tmp_path / FILE_NAME).read_bytes()
    assert png[:64] not in raw  # not stored in the clear
    assert store.faces()[0].crop_png == png
    assert np.allclose(store.faces()[0].embedding, face.embedding)
    assert store.forget(older_than_s=-1) == 1  # past the retention period: deleted
    store.close()
    g.close()
