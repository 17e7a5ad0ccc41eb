"""Site calibration (issue 9, item 2; off by default): the site's unknown faces refine the
pack's impostor tail for that data folder only (real lite pack, faces-dev in a video)."""

from __future__ import annotations

import json
import subprocess
import sys

from facelens.live.synth import Actor, write_video
from facelens.openset.operating_point import load_tail
from facelens.openset.site import load_site_tail
from facelens.settings import Settings


def _run(home, *args):
    return subprocess.run([sys.executable, "-m", "facelens", *args, "--home", str(home)],
                          capture_output=True, text=True, timeout=600)


def test_site_tail_from_unknown_embeddings(faces_dev, tmp_path):
    assert Settings().site_calibration is False
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps({"site_calibration": True}))
    for d in sorted((faces_dev / "people").glob("john_*")):
        assert _run(home, "enrol", d.name, str(sorted(d.iterdir())[0])).returncode == 0
    refused = _run(home, "site-calibrate")
    assert refused.returncode != 0 and "fewer than 2 unknown faces" in refused.stderr
    actors = [Actor.from_file(p, p.parent.name, enter=i * 1.5, leave=i * 1.5 + 1.0)
              for who in ("bbt_raj", "bbt_penny")
              for i, p in enumerate(sorted((faces_dev / "people" / who).iterdir())[:3])]
    video = write_video(tmp_path / "site.avi", actors, seconds=4.5, fps=10, face_px=140)
    assert _run(home, "unknown", "collect", str(video.path)).returncode == 0
    import sqlite3

    from facelens.openset.unknowns import FILE_NAME

    crops = sqlite3.connect(home / FILE_NAME).execute(
        "SELECT count(*), count(crop) FROM unknown_faces").fetchone()
    assert crops[0] >= 4 and crops[1] == 0  # embeddings only: no images without the review
    out = _run(home, "site-calibrate", "--json")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    pack = load_tail("lite")
    site = load_site_tail(home, "lite")
    assert site.pairs == pack.pairs + obj["site_pairs"] and obj["site_pairs"] >= 5 * 4
    assert "site:" in site.set and load_site_tail(tmp_path / "elsewhere", "lite") is None
    verify = _run(home, "verify", "john_simm",
                  str(sorted((faces_dev / "people/john_simm").iterdir())[1]), "--json")
    assert round(json.loads(verify.stdout)["threshold"], 4) == obj["threshold_after"]
    assert json.loads(_run(home, "site-calibrate", "--remove", "--json").stdout)["removed"]
    assert load_site_tail(home, "lite") is None
