"""The CLI's JSON contract and exit codes on real photos, and every kind of bad input."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import cv2
import numpy as np
import pytest

from facelens.cli import main


def run(capsys, *argv) -> tuple[int, list[dict], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    if "--json" not in argv:
        return code, [], err
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "home")


@pytest.fixture
def people(faces_dev):
    return faces_dev / "people"


def test_enrol_identify_verify_rename_remove(capsys, home, people):
    code, out, _ = run(capsys, "--home", home, "enrol", "--json", "Amy",
                       str(people / "bbt_amy" / "1.png"))
    assert code == 0 and out == [{"name": "Amy", "added": 1, "rejected": [], "error": None,
                                  "images": [{"image": str(people / "bbt_amy" / "1.png"),
                                              "added": True, "error": None}]}]
    run(capsys, "--home", home, "enrol", "--json", "Sheldon", str(people / "bbt_sheldon" / "1.png"))

    code, out, _ = run(capsys, "--home", home, "identify", "--json",
                       str(people / "bbt_amy" / "4.png"), str(people / "bbt_penny" / "2.png"))
    assert code == 0 and len(out) == 2
    amy, stranger = out[0]["faces"][0], out[1]["faces"][0]
    assert amy["name"] == "Amy" and amy["similarity"] >= 0.5
    assert len(amy["box"]) == 4 and len(amy["landmarks"]) == 5 and amy["det_score"] > 0.9
    assert stranger["name"] is None and out[1]["error"] is None

    code, out, _ = run(capsys, "--home", home, "verify", "--json", "Amy",
                       str(people / "bbt_amy" / "5.png"), str(people / "bbt_sheldon" / "2.png"))
    assert code == 0
    assert out[0]["match"] is True and out[1]["match"] is False
    # the default operating point: far 0.001 over the 2 templates enrolled (issue 9)
    from facelens.openset.operating_point import load_tail, threshold_for_far

    expected = threshold_for_far(load_tail("lite"), 0.001, 2, 0.05, 1.0)
    assert out[0]["threshold"] == pytest.approx(expected, abs=1e-4)
    assert set(out[0]) == {"image", "name", "match", "similarity", "threshold", "error"}

    code, out, _ = run(capsys, "--home", home, "verify", "--json", "--threshold", "0.99", "Amy",
                       str(people / "bbt_amy" / "5.png"))
    assert out[0]["match"] is False and out[0]["threshold"] == 0.99

    assert run(capsys, "--home", home, "rename", "Amy", "Amy F")[0] == 0
    code, out, _ = run(capsys, "--home", home, "people", "--json")
    assert sorted(p["name"] for p in out) == ["Amy F", "Sheldon"]
    assert run(capsys, "--home", home, "remove", "Sheldon")[0] == 0
    code, out, _ = run(capsys, "--home", home, "identify", "--json",
                       str(people / "bbt_sheldon" / "3.png"))
    assert out[0]["faces"][0]["name"] is None


def test_more_photos_add_templates(capsys, home, people):
    photos = [str(people / "john_simm" / f"{i}.jpg") for i in (1, 2, 3)]
    code, out, _ = run(capsys, "--home", home, "enrol", "--json", "John Simm", *photos)
    assert code == 0 and out[0]["added"] == 3
    code, out, _ = run(capsys, "--home", home, "people", "--json")
    assert out == [{**out[0], "name": "John Simm", "templates": 3}]


def test_group_photo_rejected_unless_largest(capsys, home, faces_dev):
    group = str(faces_dev / "groups" / "bbt4.jpg")
    code, out, _ = run(capsys, "--home", home, "enrol", "--json", "X", group)
    assert code == 1 and out[0]["added"] == 0
    assert "faces found" in out[0]["rejected"][0]["reason"]
    code, out, _ = run(capsys, "--home", home, "enrol", "--json", "--largest", "X", group)
    assert code == 0 and out[0]["added"] == 1


@pytest.fixture
def bad_images(tmp_path, people):
    d = tmp_path / "bad"
    d.mkdir()
    good = cv2.imread(str(people / "bbt_amy" / "1.png"))
    (d / "zero.jpg").write_bytes(b"")
    (d / "text.jpg").write_text("this is not an image\n")
    data = (people / "john_simm" / "1.jpg").read_bytes()
    (d / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (d / "random.png").write_bytes(os.urandom(5000))
    padded = cv2.copyMakeBorder(good, 75, 75, 75, 75, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    cv2.imwrite(str(d / "sixteen_bit.png"), padded.astype(np.uint16) * 257)
    cv2.imwrite(str(d / "alpha.png"), cv2.cvtColor(padded, cv2.COLOR_BGR2BGRA))
    cv2.imwrite(str(d / "grey.png"), cv2.cvtColor(padded, cv2.COLOR_BGR2GRAY))
    huge = np.full((10000, 10000, 3), 90, np.uint8)
    huge[4000:5800, 4000:5800] = cv2.resize(padded, (1800, 1800))
    cv2.imwrite(str(d / "huge.jpg"), huge)
    cv2.imwrite(str(d / "blank.png"), np.full((300, 300, 3), 255, np.uint8))
    return d


def test_bad_inputs_are_reported_and_nothing_is_lost(capsys, home, people, bad_images):
    run(capsys, "--home", home, "enrol", "Amy", str(people / "bbt_amy" / "1.png"))
    names = ["zero.jpg", "text.jpg", "truncated.jpg", "random.png", "missing.jpg",
             "sixteen_bit.png", "alpha.png", "grey.png", "huge.jpg", "blank.png"]
    code, out, _ = run(capsys, "--home", home, "identify", "--json",
                       *[str(bad_images / n) for n in names])
    assert code == 1  # some inputs failed; each object says why
    by_name = {os.path.basename(o["image"]): o for o in out}
    assert "empty file" in by_name["zero.jpg"]["error"]
    for n in ("text.jpg", "random.png", "truncated.jpg"):
        assert "not a readable image" in by_name[n]["error"], n
    assert "no such file" in by_name["missing.jpg"]["error"]
    for n in ("sixteen_bit.png", "alpha.png", "grey.png", "huge.jpg"):
        assert by_name[n]["error"] is None and by_name[n]["faces"][0]["name"] == "Amy", n
    assert by_name["blank.png"]["error"] is None and by_name["blank.png"]["faces"] == []

    code, out, _ = run(capsys, "--home", home, "enrol", "--json", "Amy",
                       str(bad_images / "blank.png"), str(bad_images / "text.jpg"))
    assert code == 1 and out[0]["added"] == 0
    assert [r["reason"] for r in out[0]["rejected"]][0] == "no face found"
    code, out, _ = run(capsys, "--home", home, "people", "--json")
    assert out[0]["templates"] == 1  # nothing lost, nothing half written


def test_verify_unknown_name_and_empty_gallery(capsys, home, people):
    photo = str(people / "bbt_amy" / "2.png")
    code, _, err = run(capsys, "--home", home, "identify", photo)
    assert code == 2 and "gallery is empty" in err
    run(capsys, "--home", home, "enrol", "Amy", str(people / "bbt_amy" / "1.png"))
    code, _, err = run(capsys, "--home", home, "verify", "Bob", photo)
    assert code == 2 and "no person named 'Bob'" in err


def test_corrupt_database_is_reported_and_kept(capsys, tmp_path, people):
    home = tmp_path / "home"
    home.mkdir()
    db = home / "gallery.db"
    db.write_bytes(b"garbage, not a database" * 100)
    before = db.read_bytes()
    code, _, err = run(capsys, "--home", str(home), "enrol", "Amy",
                       str(people / "bbt_amy" / "1.png"))
    assert code == 2 and "gallery.db" in err
    assert db.read_bytes() == before


def test_locked_database_is_reported_and_data_kept(capsys, home, people):
    run(capsys, "--home", home, "enrol", "Amy", str(people / "bbt_amy" / "1.png"))
    other = sqlite3.connect(os.path.join(home, "gallery.db"), timeout=0)
    other.execute("BEGIN EXCLUSIVE")
    try:
        env = {**os.environ, "FACELENS_HOME": home}
        proc = subprocess.run([sys.executable, "-m", "facelens", "enrol", "Bob",
                               str(people / "bbt_howard" / "1.png")],
                              capture_output=True, text=True, env=env, timeout=120)
    finally:
        other.rollback()
        other.close()
    assert proc.returncode == 2 and "locked" in proc.stderr
    code, out, _ = run(capsys, "--home", home, "people", "--json")
    assert [p["name"] for p in out] == ["Amy"]


def test_usage_error_exit_code():
    proc = subprocess.run([sys.executable, "-m", "facelens", "verify"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "usage" in proc.stderr
