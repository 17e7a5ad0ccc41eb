"""Learning from corrections (issue 9, test d): a linear adapter trained with a triplet loss on
real faces-dev embeddings (lite pack), judged on a held-back split, refused when it hurts."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from facelens.evaluation import embed_folder
from facelens.gallery import Gallery, open_for_home
from facelens.openset import adapter


@pytest.fixture(scope="module")
def dev(engine, faces_dev):
    labels, embs, _ = embed_folder(engine, faces_dev / "people")
    return np.asarray(labels), embs


def _gallery(engine, path, labels, embs) -> Gallery:
    g = Gallery.open(path, engine.model_id, engine.dim)
    for name in sorted(set(labels)):
        g.enrol(name, embs[labels == name])
    return g


def test_adapter_does_not_make_held_back_worse(engine, dev, tmp_path):
    labels, embs = dev
    g = _gallery(engine, tmp_path / "g.db", labels, embs)
    x, owner, neg_of = g.learning_data()
    assert len(x) == len(labels) and (neg_of == -1).all()
    w, report = adapter.learn(x, owner, neg_of, threshold=0.5)
    b, a = report.before, report.after
    assert b["genuine_pairs"] > 50 and b["impostor_pairs"] > 500
    assert a["far"] <= b["far"] and a["car"] >= b["car"] and a["loss"] <= b["loss"]
    assert report.applied and w is not None and not np.allclose(w, np.eye(engine.dim))
    g.set_adapter(w)  # searching through it still names the people
    names = [m.name for m in g.identify(embs, 0.5)]
    assert np.mean(np.array(names) == labels) >= 0.95
    g.close()


def test_adapter_is_refused_when_it_would_hurt(engine, dev, tmp_path):
    labels, embs = dev
    wrong = np.random.default_rng(1).permutation(labels)  # corrections that are all wrong
    g = _gallery(engine, tmp_path / "w.db", wrong, embs)
    w, report = adapter.learn(*g.learning_data(), threshold=0.5)
    b, a = report.before, report.after
    assert (a["far"] > b["far"] or a["car"] < b["car"] or a["loss"] >= b["loss"])
    assert w is None and not report.applied and "worse" in report.why
    g.close()


def test_learn_command_applies_and_removes(engine, dev, faces_dev, tmp_path):
    people = faces_dev / "people"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "facelens", *args, "--home", str(tmp_path)],
                              capture_output=True, text=True, timeout=600)

    for d in sorted(people.iterdir()):
        assert run("enrol", d.name, *map(str, sorted(d.iterdir()))).returncode == 0
    out = run("learn", "--json")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert obj["applied"] and obj["after"]["car"] >= obj["before"]["car"]
    g = open_for_home(tmp_path, engine.model_id, engine.dim, prompt=False)
    assert g.adapter is not None
    g.close()
    assert json.loads(run("learn", "--remove", "--json").stdout)["removed"] is True
    g = open_for_home(tmp_path, engine.model_id, engine.dim, prompt=False)
    assert g.adapter is None
    g.close()


def test_unknown_faces_are_negatives_for_everyone(engine, dev, tmp_path):
    from facelens.openset.unknowns import UnknownStore

    labels, embs = dev
    john = np.char.startswith(labels, "john_")
    g = _gallery(engine, tmp_path / "j.db", labels[john], embs[john])
    store = UnknownStore(tmp_path / "unknown.db", engine.model_id, engine.dim)
    for e in embs[~john]:  # the bbt_* people: strangers the camera kept
        store.add(e, None, 1.0)
    x, owner, neg_of = adapter.with_unknowns(g.learning_data(), store)
    assert (neg_of == adapter.EVERYONE).sum() == (~john).sum()
    triplets = adapter._triplets(adapter.adapt(None, x), owner, neg_of,
                                 np.random.default_rng(0))
    assert any(neg_of[n] == adapter.EVERYONE for _, _, n in triplets)  # they are mined
    w, report = adapter.learn(x, owner, neg_of, threshold=0.5)
    assert report.negatives == (~john).sum()
    assert report.after["far"] <= report.before["far"] or not report.applied
    store.close()
    g.close()
