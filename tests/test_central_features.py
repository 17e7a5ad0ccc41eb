"""The app's gallery features on a central gallery: each works through the server or is
refused up front with a message that says so, changing nothing; and the interface walk that
keeps a gallery method the app calls from being forgotten on the central classes again."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from facelens.gallery.central_limits import NotOnCentral
from facelens.settings import Settings
from pg_support import kill, new_database, restart

pytest.importorskip("psycopg", reason="the central gallery needs psycopg (central extra)")
PACKAGE = Path(__file__).resolve().parents[1] / "desktop" / "facelens"
# where the gallery object of the app, the kiosk and the CLI is used
CALLERS = ["app/*.py", "kiosk/*.py", "engine_cli.py", "cli.py", "openset/*.py",
           "gallery/cli.py", "gallery/unlock.py", "modelpack/*.py", "live/*.py",
           "attendance/*.py", "evaluation.py"]
LEARNING_REFUSED = ("Learning (an adapter from corrections, `facelens learn`) is not "
                    "available with a central gallery yet: ")
PACK_REFUSED = ("Switching the model pack (re-embedding every template) is not available "
                "with a central gallery yet: ")


@pytest.fixture(scope="module")
def amy(engine, faces_dev):
    """Three real photos of Amy: embeddings, crops, sources."""
    from facelens.live.photos import prepare_photos

    paths = sorted((faces_dev / "people" / "bbt_amy").iterdir())[:3]
    good = [r for r in prepare_photos(engine, paths) if r.ok]
    assert len(good) == 3, [r.reason for r in prepare_photos(engine, paths)]
    return good


def _enrol(station, photos) -> None:
    from facelens.images import encode_jpeg

    station.enrol("Amy", np.stack([r.embedding for r in photos]),
                  thumbnails=[encode_jpeg(r.thumbnail) for r in photos],
                  sources=[str(r.path) for r in photos], crops=[r.thumbnail for r in photos])


def _window(qtbot, tmp_path, engine, home, **settings):
    from facelens.app.main_window import MainWindow

    Settings(**settings).save(home)
    window = MainWindow(home, Settings.load(home), engine=engine,
                        qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
                        style_panel=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.controller is not None, timeout=30_000)
    return window


def _close(window) -> None:
    window.close()
    if window.gallery is not None:
        window.gallery.close()


def _server_state(url: str, model_id: str, dim: int) -> tuple[int, list[int], int]:
    """(change number, Amy's template ids, crops) as the server holds them."""
    from facelens.gallery.pg.store import PgGallery

    with PgGallery.open(url, model_id, dim) as central:
        crops = central._db.execute("SELECT count(*) FROM crops").fetchone()[0]
        return central.change_number(), [t.id for t in central.templates("Amy")], crops


def test_delete_photo_on_the_people_tab_reaches_the_server_and_another_station(
        server, qtbot, tmp_path, engine, amy, monkeypatch):
    from facelens.gallery.sync import ReplicatedGallery

    monkeypatch.delenv("FACELENS_GALLERY_URL", raising=False)
    url = new_database(server)
    home = tmp_path / "home"
    home.mkdir()
    other = ReplicatedGallery.open(url, tmp_path / "other", engine.model_id, engine.dim)
    window = None
    try:
        _enrol(other, amy)
        window = _window(qtbot, tmp_path, engine, home, gallery_url=url)
        people = window.people
        people.select("Amy")
        ids = people.photo_ids()
        assert len(ids) == 3 and people.photos_label.text() == "Photos of Amy (3)"
        people.select_photo(ids[1])
        monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.question",
                            lambda *a, **k: QMessageBox.StandardButton.Yes)
        people.buttons["delete_photo"].click()
        assert people.photo_ids() == [ids[0], ids[2]]
        _, on_server, crops = _server_state(url, engine.model_id, engine.dim)
        assert on_server == [ids[0], ids[2]] and crops == 2  # its face crop went too
        assert window.gallery.pending_reembed() == 0
        assert other.sync()  # the other station follows at its next sync
        assert [t.id for t in other.templates("Amy")] == [ids[0], ids[2]]
        assert other.count_templates() == 2
        gone, kept = other.identify(np.stack([amy[1].embedding, amy[0].embedding]), -1.0)
        assert kept.name == "Amy" and kept.similarity > 0.999
        assert gone.similarity < 0.999  # the deleted photo's template is not searched
        monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.warning",
                            lambda *a: a[2])  # deleting it again: said, nothing changes
        assert not people.delete_photo("Amy", ids[1])
        assert _server_state(url, engine.model_id, engine.dim)[1] == [ids[0], ids[2]]
    finally:
        if window is not None:
            _close(window)
        other.close()


def test_learning_and_pack_switching_are_refused_in_the_app_and_change_nothing(
        server, qtbot, tmp_path, engine, amy, monkeypatch):
    from facelens.app.unknown_hook import _learn
    from facelens.openset.adapter import paths as adapter_paths

    monkeypatch.delenv("FACELENS_GALLERY_URL", raising=False)
    url = new_database(server)
    home = tmp_path / "home"
    home.mkdir()
    from facelens.app.main_window import MainWindow
    from facelens.gallery.sync import ReplicatedGallery

    with ReplicatedGallery.open(url, tmp_path / "other", "other/8", 8) as other:
        other.enrol("Bob", np.eye(8, dtype=np.float32)[:3],  # crops of another pack's model
                    crops=[r.thumbnail for r in amy])
    notices = []
    shown = MainWindow._notice
    monkeypatch.setattr(MainWindow, "_notice", lambda w, t: (notices.append(t), shown(w, t)))
    window = _window(qtbot, tmp_path, engine, home, gallery_url=url, unknown_review=True)
    try:
        said = [n for n in notices if "stored face" in n]
        assert len(said) == 1 and said[0].startswith(
            f"3 stored face(s) have no template of {engine.model_id} and cannot get one "
            f"here: {PACK_REFUSED}")
        assert [p.name for p in window.gallery.people()] == ["Bob"]
        assert getattr(window, "reembedder", None) is None  # nothing re-embedded
        _enrol(window.gallery, amy)
        before = _server_state(url, engine.model_id, engine.dim)
        button = window.unknown_panel.learn_button
        assert not button.isEnabled() and button.toolTip().startswith(LEARNING_REFUSED)
        said = _learn(window)  # what the button would show
        assert said.startswith(LEARNING_REFUSED) and "Nothing was changed" in said
        assert not adapter_paths(home, engine.model_id)[0].exists()

        dialog = window.open_settings()  # the pack choice is off, and says why
        assert not dialog.pack.isEnabled() and dialog.pack_info.text().startswith(PACK_REFUSED)
        dialog.reject()
        engine_before, gallery_before = window.engine, window.gallery
        window.apply_settings(dataclasses.replace(window.settings, model_pack="standard"))
        assert window.status.currentMessage().startswith(PACK_REFUSED)
        assert window.settings.model_pack == "lite" == Settings.load(home).model_pack
        assert window.engine is engine_before and window.gallery is gallery_before
        assert window.gallery.count_templates() == 3
        assert _server_state(url, engine.model_id, engine.dim) == before
    finally:
        _close(window)


def _cli(home: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent), "FACELENS_HOME": str(home)}
    env.pop("FACELENS_GALLERY_URL", None)
    return subprocess.run([sys.executable, "-m", "facelens", *argv], env=env,
                          capture_output=True, text=True, timeout=600)


def test_cli_learn_and_models_use_are_refused_on_a_central_gallery(server, tmp_path, engine,
                                                                    amy):
    from facelens.gallery.sync import ReplicatedGallery
    from facelens.openset.adapter import paths as adapter_paths

    url = new_database(server)
    home = tmp_path / "home"
    home.mkdir()
    Settings(gallery_url=url).save(home)
    with ReplicatedGallery.open(url, tmp_path / "other", engine.model_id, engine.dim) as other:
        _enrol(other, amy)
    before = _server_state(url, engine.model_id, engine.dim)
    learn = _cli(home, "learn", "--home", str(home))
    assert learn.returncode == 2, learn.stderr
    assert f"facelens: error: {LEARNING_REFUSED}" in learn.stderr
    assert not adapter_paths(home, engine.model_id)[0].exists()
    kept = _cli(home, "learn", "--remove", "--home", str(home))  # nothing learned: fine
    assert kept.returncode == 0 and "no adapter to remove" in kept.stdout, kept.stderr
    use = _cli(home, "models", "use", "standard", "--home", str(home))
    assert use.returncode == 2, use.stderr
    assert f"facelens: error: {PACK_REFUSED}" in use.stderr
    assert Settings.load(home).model_pack == "lite"
    assert _server_state(url, engine.model_id, engine.dim) == before
    removed = _cli(home, "remove", "Amy", "--home", str(home), "--json")  # works centrally
    assert removed.returncode == 0, removed.stderr
    assert '"templates": 3' in removed.stdout
    from facelens.gallery.pg.store import PgGallery

    with PgGallery.open(url, engine.model_id, engine.dim) as central:
        assert central.people() == []


def test_the_station_refuses_learning_and_re_embedding_itself(server, tmp_path):
    from facelens.gallery.sync import ReplicatedGallery

    url = new_database(server)
    rng = np.random.default_rng(5)
    with ReplicatedGallery.open(url, tmp_path / "a", "m/8", 8) as station:
        station.enrol("Ada", rng.standard_normal((2, 8)).astype(np.float32))
        station.set_adapter(None)  # nothing to remove: accepted
        with pytest.raises(NotOnCentral, match="^Learning .* central gallery yet: "):
            station.set_adapter(np.eye(8, dtype=np.float32))
        with pytest.raises(NotOnCentral, match="^Switching the model pack"):
            station.reembed(lambda faces: np.zeros((len(faces), 8), np.float32))
        x, owner, neg_of = station.learning_data()  # read only: site calibration uses it
        assert x.shape == (2, 8) and (owner >= 0).all() and (neg_of == -1).all()
        assert station.identify(x[:1].astype(np.float32), 0.5)[0].name == "Ada"
        assert station.remove_person("ada") == ("Ada", 2)
        assert station.people() == [] and not station.closed
    assert station.closed


def test_deleting_a_photo_while_the_server_is_away_says_so_and_keeps_it(server, tmp_path):
    from facelens.errors import GalleryError
    from facelens.gallery.sync import ReplicatedGallery

    url = new_database(server)
    rng = np.random.default_rng(7)
    with ReplicatedGallery.open(url, tmp_path / "a", "m/8", 8) as station:
        station.enrol("Ada", rng.standard_normal((2, 8)).astype(np.float32))
        ids = [t.id for t in station.templates("Ada")]
        kill(server)
        try:
            with pytest.raises(GalleryError, match="^delete a photo of 'Ada': the central "
                               "gallery .* is offline since .*; nothing was changed"):
                station.remove_template("Ada", ids[0])
            assert [t.id for t in station.templates("Ada")] == ids
        finally:
            restart(server)
        assert station.remove_template("Ada", ids[0]).id == ids[0]  # back: it goes through
        assert [t.id for t in station.templates("Ada")] == ids[1:]


def _gallery_names_used(members: set[str]) -> set[str]:
    """`members` of `Gallery` the callers use: public names on any object, private ones
    (e.g. ``_codec``) where they are read off a gallery (``gallery._codec``)."""
    used = set()
    for pattern in CALLERS:
        for path in PACKAGE.glob(pattern):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Attribute) or node.attr not in members:
                    continue
                on_gallery = ast.unparse(node.value).rstrip("()").endswith("gallery")
                if not node.attr.startswith("_") or on_gallery:
                    used.add(node.attr)
    return used


def test_every_gallery_member_the_app_uses_exists_on_the_central_gallery(server, tmp_path):
    from facelens.gallery import Gallery
    from facelens.gallery.pg.store import PgGallery
    from facelens.gallery.sync import ReplicatedGallery

    url = new_database(server)
    with Gallery.open(tmp_path / "local.db", "m/8", 8) as local, \
            ReplicatedGallery.open(url, tmp_path / "a", "m/8", 8) as station:
        used = _gallery_names_used(set(dir(local)) - {"open", "__class__", "__init__"})
        assert {"templates", "remove_template", "set_adapter", "learning_data", "reembed",
                "pending_reembed", "remove_person", "identify", "_codec"} <= used  # it walks
        missing = sorted(n for n in used if not hasattr(station, n))
        assert not missing, f"the station's central gallery lacks {missing}"
        for name in sorted(used):  # what a station sends to the server, the server offers
            member = inspect.getattr_static(ReplicatedGallery, name, None)
            if not callable(member):
                continue
            tree = ast.parse(textwrap.dedent(inspect.getsource(member)))
            if "self._write(" not in ast.unparse(tree):
                continue
            sent = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                    and isinstance(n.value, ast.Name) and n.value.id == "c"}
            assert sent, name
            assert all(hasattr(PgGallery, s) for s in sent), (name, sent)
