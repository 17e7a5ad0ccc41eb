"""The gallery backend interface and the PostgreSQL + pgvector store, on a real server."""

from __future__ import annotations

import os

import numpy as np
import pytest

from facelens.errors import GalleryError
from facelens.gallery import Gallery
from facelens.gallery.backend import GalleryBackend, open_backend
from facelens.gallery.pg.url import mask_url
from facelens.images import load_image


def _embed(engine, path) -> np.ndarray:
    return engine.analyze_photo(load_image(path))[0].embedding


def test_both_stores_satisfy_the_backend_interface(tmp_path, pg_url):
    with Gallery.open(tmp_path / "g.db", "m/4", 4) as local:
        assert isinstance(local, GalleryBackend)
    with open_backend(pg_url, "m/4", 4) as central:
        assert isinstance(central, GalleryBackend)
        assert type(central).__name__ == "PgGallery"
    assert not isinstance(object(), GalleryBackend)


def test_real_photos_identified_the_same_on_pgvector_as_on_faiss(engine, faces_dev, tmp_path,
                                                                  pg_url):
    people = sorted((faces_dev / "people").glob("bbt_*"))
    enrol = {d.name: _embed(engine, d / "1.png") for d in people}
    probes = {d.name: _embed(engine, d / "2.png") for d in people}
    t = engine.default_threshold
    with Gallery.open(tmp_path / "g.db", engine.model_id, engine.dim) as local, \
            open_backend(pg_url, engine.model_id, engine.dim) as central:
        for name, emb in enrol.items():
            local.enrol(name, emb[None], thumbnails=[b"\xff\xd8jpeg"])
            central.enrol(name, emb[None], thumbnails=[b"\xff\xd8jpeg"])
        queries = np.stack(list(probes.values()))
        got_local = local.identify(queries, t)
        got_central = central.identify(queries, t)
        assert [m.name for m in got_central] == [m.name for m in got_local]
        np.testing.assert_allclose([m.similarity for m in got_central],
                                   [m.similarity for m in got_local], atol=1e-5)
        correct = sum(m.name == name for m, name in zip(got_central, probes, strict=True))
        assert correct >= len(people) - 1, [m.name for m in got_central]
        assert central.count_templates() == len(people)
        assert [p.name for p in central.people()] == [p.name for p in local.people()]
        assert central.people()[0].thumbnail == b"\xff\xd8jpeg"
        who = people[0].name
        assert central.verify(who, probes[who], t).similarity == pytest.approx(
            local.verify(who, probes[who], t).similarity, abs=1e-5)


def test_rename_remove_and_change_numbers(pg_url):
    rng = np.random.default_rng(1)
    vecs = rng.standard_normal((3, 8)).astype(np.float32)
    with open_backend(pg_url, "m/8", 8) as g:
        assert g.change_number() == 0
        g.enrol("Ada", vecs[:2])
        first = g.change_number()
        assert first > 0
        with pytest.raises(GalleryError, match="empty|name"):
            g.enrol("  ", vecs[2:])
        g.enrol("Bob", vecs[2:])
        with pytest.raises(GalleryError, match="already exists"):
            g.rename("Ada", "bob")
        g.rename("Ada", "Grace")
        assert g.identify(vecs[0], 0.9)[0].name == "Grace"
        assert g.remove("Grace") == 2
        assert g.change_number() > first
        assert g.identify(vecs[0], 0.9)[0].name is None
        with pytest.raises(GalleryError, match="no one called 'Grace'"):
            g.verify("Grace", vecs[0], 0.5)
    with open_backend(pg_url, "other/8", 8) as g:  # another model: kept, not searched
        assert g.count_templates() == 0
        assert g.other_model_templates == 1
        assert "another model" in g.warnings[0]
    import psycopg

    with psycopg.connect(pg_url) as c:  # one HNSW index per model, over that model's rows
        defs = [d for (d,) in c.execute("SELECT indexdef FROM pg_indexes WHERE indexname "
                                        "LIKE 'templates_hnsw_%' ORDER BY indexdef")]
    assert len(defs) == 2 and all("USING hnsw" in d and "vector_ip_ops" in d for d in defs)
    assert any("'m/8'" in d for d in defs) and any("'other/8'" in d for d in defs)


def test_password_is_masked_in_messages_and_urls():
    url = "postgresql://door:s3cr%21t@127.0.0.1:1/facelens"
    assert mask_url(url) == "postgresql://door:***@127.0.0.1:1/facelens"
    assert "hunter2" not in mask_url("postgresql://h/db?password=hunter2&sslmode=require")
    assert "sslmode=require" in mask_url("postgresql://h/db?password=hunter2&sslmode=require")
    pytest.importorskip("psycopg", reason="connecting needs psycopg (the 'central' extra)")
    with pytest.raises(GalleryError) as err:
        open_backend(url, "m/4", 4)
    text = str(err.value)
    assert "s3cr" not in text and "***" in text and "cannot connect" in text


def test_the_configured_location_url_env_then_settings_never_a_password(tmp_path, monkeypatch,
                                                                         pg_url):
    from facelens.gallery import open_for_home
    from facelens.gallery.backend import GALLERY_URL_ENV, gallery_location
    from facelens.settings import Settings

    monkeypatch.delenv(GALLERY_URL_ENV, raising=False)
    default = tmp_path / "gallery.db"
    assert gallery_location(default) == default
    assert gallery_location(default, "postgresql://door@db/facelens") == \
        "postgresql://door@db/facelens"
    with pytest.raises(GalleryError, match=r"door:\*\*\*@db.*PGPASSWORD") as err:
        gallery_location(default, "postgresql://door:hunter2@db/facelens")
    assert "hunter2" not in str(err.value)
    with pytest.raises(GalleryError, match="not a postgresql:// URL"):
        gallery_location(default, "mysql://db/facelens")
    monkeypatch.setenv(GALLERY_URL_ENV, pg_url)
    assert gallery_location(default, "postgresql://other@db/x") == pg_url
    with open_for_home(tmp_path, "m/4", 4) as g:  # the data folder's gallery, now central
        assert type(g).__name__ == "ReplicatedGallery"
        assert g.status() == "central gallery: connected"
    assert not default.exists()
    monkeypatch.delenv(GALLERY_URL_ENV)
    Settings(gallery_url=pg_url).save(tmp_path)
    with open_for_home(tmp_path, "m/4", 4) as g:
        assert type(g).__name__ == "ReplicatedGallery"
    assert "password" not in (tmp_path / "settings.json").read_text()


def test_gallery_encrypt_command_seals_the_central_gallery(tmp_path, monkeypatch, capsys,
                                                           pg_url):
    import psycopg

    from facelens.cli import main

    with open_backend(pg_url, "lite/mobilefacenet-192", 192) as g:
        g.enrol("Ada", np.eye(192, dtype=np.float32)[:1])
    monkeypatch.setenv("FACELENS_PASSPHRASE", "correct horse")
    monkeypatch.delenv("FACELENS_GALLERY_URL", raising=False)
    try:
        rc = main(["--gallery", pg_url, "gallery", "encrypt", "--home", str(tmp_path)])
    finally:
        os.environ.pop("FACELENS_GALLERY_URL", None)  # main() set it for this process
    assert rc == 0, capsys.readouterr().err
    assert "gallery encrypted (1 templates)" in capsys.readouterr().out
    with psycopg.connect(pg_url) as c:
        assert c.execute("SELECT count(*) FROM templates WHERE sealed IS NOT NULL "
                         "AND embedding IS NULL").fetchone()[0] == 1


def test_without_psycopg_the_cli_works_and_a_url_says_what_to_install(tmp_path):
    import subprocess
    import sys

    blocker = tmp_path / "blocked"
    blocker.mkdir()
    (blocker / "psycopg.py").write_text("raise ModuleNotFoundError('No module named psycopg')")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), *sys.path])}
    env.pop("FACELENS_GALLERY_URL", None)
    run = [sys.executable, "-m", "facelens", "--home", str(tmp_path / "home")]
    assert subprocess.run([*run, "people"], env=env, capture_output=True).returncode == 0
    done = subprocess.run([*run, "--gallery", "postgresql://door@db/x", "people"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "install FaceLens with the 'central' extra" in done.stderr
