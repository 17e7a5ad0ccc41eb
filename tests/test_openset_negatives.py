"""'This is not X' / 'This is Y' (issue 9, test b): real lite pack, real faces-dev photos."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

RAW = "0.35"  # an expert's low raw threshold, so that some stranger is named X to begin with


def _run(home, *args):
    return subprocess.run([sys.executable, "-m", "facelens", *args, "--home", str(home)],
                          capture_output=True, text=True, timeout=600)


def _named(home, photos) -> dict[str, str | None]:
    out = _run(home, "identify", *map(str, photos), "--threshold", RAW, "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    return {r["image"]: r["faces"][0]["name"] for r in rows}


@pytest.fixture(scope="module")
def enrolled(faces_dev, tmp_path_factory):
    home = tmp_path_factory.mktemp("neg")
    people = faces_dev / "people"
    for d in sorted(people.glob("john_*")):  # enrolled; the bbt_* people are the strangers
        assert _run(home, "enrol", d.name, str(sorted(d.iterdir())[0])).returncode == 0
    return home, people


def test_not_x_stops_the_impostor_and_keeps_x(enrolled):
    home, people = enrolled
    strangers = sorted(people.glob("bbt_*/*"))
    named = _named(home, strangers)
    wrong = [(img, n) for img, n in named.items() if n is not None]
    assert wrong, "no stranger named at the low threshold: the test needs one"
    impostor, x = wrong[0]
    out = _run(home, "correct", impostor, "--not", x, "--json")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert obj["not"] == x and obj["negatives"] == 1
    x_photos = sorted((people / x).iterdir())[1:]
    named.update(_named(home, x_photos))
    after = _named(home, [impostor, *x_photos])
    assert after[impostor] != x  # the corrected photo is no longer named X
    assert all(after[str(p)] == x for p in x_photos if named[str(p)] == x)  # X still is


def test_this_is_y_adds_a_template(enrolled):
    home, people = enrolled
    d = max(sorted(people.glob("john_*")), key=lambda d: len(list(d.iterdir())))
    photo = sorted(d.iterdir())[2]
    out = _run(home, "correct", str(photo), "--is", d.name, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["added"] == 1
    listed = {json.loads(line)["name"]: json.loads(line)["templates"]
              for line in _run(home, "people", "--json").stdout.splitlines()}
    assert listed[d.name] == 2


def test_bad_corrections_are_refused(enrolled, faces_dev):
    home, people = enrolled
    photo = sorted(sorted(people.glob("john_*"))[0].iterdir())[0]
    unknown = _run(home, "correct", str(photo), "--not", "Nobody Such")
    assert unknown.returncode != 0 and "Nobody Such" in unknown.stderr
    noface = _run(home, "correct", str(faces_dev / "nofaces" / "white.png"), "--not",
                  sorted(people.glob("john_*"))[0].name)
    assert noface.returncode != 0 and "no face found" in noface.stderr
    neither = _run(home, "correct", str(photo))
    assert neither.returncode == 2


def test_negatives_survive_encryption_and_stay_per_model(engine, faces_dev, tmp_path):
    from facelens.gallery import Gallery
    from facelens.images import load_image

    def emb(path):
        return engine.analyze_photo(load_image(path))[0].embedding

    people = faces_dev / "people"
    impostor, own = emb(people / "bbt_amy/4.png"), emb(people / "john_lennon/2.jpg")
    g = Gallery.open(tmp_path / "g.db", engine.model_id, engine.dim)
    g.enrol("lennon", emb(people / "john_lennon/1.jpg")[None])
    g.add_negative("lennon", impostor)
    g.encrypt("correct horse battery")
    g.close()
    g = Gallery.open(tmp_path / "g.db", engine.model_id, engine.dim,
                     passphrase="correct horse battery")
    assert g.identify(impostor[None], 0.35)[0].name is None  # the negative was sealed again
    assert g.identify(own[None], 0.35)[0].name == "lennon"
    assert g.count_negatives("lennon") == 1
    g.close()
    other = Gallery.open(tmp_path / "g.db", "other/model", engine.dim,
                         passphrase="correct horse battery")
    assert other.count_negatives("lennon") == 0  # another pack never sees these negatives
    other.close()
