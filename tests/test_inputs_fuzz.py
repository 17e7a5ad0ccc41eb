"""~100 fuzzed files through one real `identify` and one real `enrol` call each (subprocesses):
every file gets its own result, nothing crashes, peak memory stays under 1.5 GB.

The 1000-file run is `python tests/fuzz_images.py --count 1000`.
"""

from __future__ import annotations

import os
import struct

import cv2
import numpy as np
import pytest

from facelens.images import MAX_PIXELS
from fuzz_images import fuzz_calls, make_corpus

COUNT = 96
PEAK_LIMIT_MB = 1536


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, faces_dev):
    root = tmp_path_factory.mktemp("fuzz")
    paths = make_corpus(root / "files", COUNT, seed=14, faces_dev=faces_dev)
    # the cases that used to end a whole call, named so the test can check their messages
    cv2.imwrite(str(root / "files" / "strip_20000x1.png"), np.full((1, 20000, 3), 99, np.uint8))
    cv2.imwrite(str(root / "files" / "strip_1x20000.jpg"), np.full((20000, 1, 3), 99, np.uint8))
    amy = cv2.imread(str(faces_dev / "people" / "bbt_amy" / "2.png"))
    data = bytearray(cv2.imencode(".jpg", amy)[1].tobytes())
    at = data.find(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", 30000, 30000)
    (root / "files" / "declares_30000x30000.jpg").write_bytes(bytes(data))
    good = root / "files" / "good_amy.png"
    cv2.imwrite(str(good), amy)
    paths += [root / "files" / n for n in ("strip_20000x1.png", "strip_1x20000.jpg",
                                            "declares_30000x30000.jpg", "good_amy.png")]
    env = dict(os.environ, PYTHONPATH=_pythonpath())
    identify, enrol = fuzz_calls(paths, root / "home", env, faces_dev)
    return paths, identify, enrol


def _pythonpath() -> str:
    """This checkout's package first, so the subprocesses run the code under test."""
    import facelens

    src = os.path.dirname(os.path.dirname(facelens.__file__))
    return os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])


@pytest.mark.parametrize("call", [1, 2], ids=["identify", "enrol"])
def test_every_file_gets_its_own_result_and_nothing_crashes(fuzzed, call):
    paths, *reports = fuzzed
    r = reports[call - 1]
    assert r.tracebacks == 0, r.stderr_tail
    assert r.exit_code == 1, r.stderr_tail  # some files are bad: 1, and each result says why
    assert r.missing == [] and r.results == len(paths), r.stderr_tail
    assert 0 < r.errors < len(paths)


@pytest.mark.parametrize("call", [1, 2], ids=["identify", "enrol"])
def test_peak_memory_stays_under_1_5_gb(fuzzed, call):
    r = fuzzed[call]
    print(f"{r.command}: {r.results} results, {r.errors} errors, peak RSS {r.peak_rss_mb:.0f} "
          f"MB, {r.seconds:.0f} s")
    assert r.peak_rss_mb < PEAK_LIMIT_MB


def test_enrol_adds_the_good_photo_and_reports_each_file(fuzzed):
    paths, _, enrol = fuzzed
    by_name = {os.path.basename(o["image"]): o for o in enrol.per_file}
    assert by_name["good_amy.png"] == {"image": str(paths[-1]), "added": True, "error": None}
    assert "900 MP" in by_name["declares_30000x30000.jpg"]["error"]
    assert all(o["added"] == (o["error"] is None) for o in enrol.per_file)


def test_messages_of_the_cases_that_used_to_end_a_call(fuzzed):
    paths, identify, _ = fuzzed
    files = {p.name: str(p) for p in paths}
    out = {os.path.basename(o["image"]): o for o in identify.per_file}
    assert out["strip_20000x1.png"] == {"image": files["strip_20000x1.png"], "faces": [],
                                        "error": None}
    assert out["strip_1x20000.jpg"]["faces"] == [] and out["strip_1x20000.jpg"]["error"] is None
    error = out["declares_30000x30000.jpg"]["error"]
    assert "declares 900 MP" in error and f"{MAX_PIXELS // 10**6} MP" in error
    assert [f["name"] for f in out["good_amy.png"]["faces"]] == ["Amy"]
