"""Two real processes race on one name: `rename bob robert` against `remove bob`.

Each process keeps its gallery open (like the app and a CLI command) and both are released at
the same moment, many times over. Exactly one may succeed, and what it reports must be what
the database then holds: a rename that reports success leaves "robert", a remove that reports
success leaves no one; a person renamed meanwhile is never deleted under the old name.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from pathlib import Path

import numpy as np

from facelens.errors import GalleryError
from facelens.gallery import Gallery

MODEL, DIM = "test/race-8", 8
TRIALS = 150


def _worker(db: str, op: str, start, done, results) -> None:
    """Wait at `start`, do `op` on "bob", report ("ok" | "error", detail), wait at `done`."""
    gallery = Gallery.open(Path(db), MODEL, DIM, busy_timeout_s=10.0)
    while True:
        try:
            start.wait()
        except threading.BrokenBarrierError:  # the test is over
            return
        try:
            if op == "rename":
                gallery.rename("bob", "robert")
            else:
                gallery.remove("bob")
            outcome = ("ok", "")
        except GalleryError as exc:
            outcome = ("error", str(exc))
        results.put((op, outcome))
        try:
            done.wait()
        except threading.BrokenBarrierError:
            return


def test_rename_and_remove_of_one_name_race_correctly(tmp_path):
    db = tmp_path / "gallery.db"
    main = Gallery.open(db, MODEL, DIM)
    vector = np.eye(DIM, dtype=np.float32)[:1]
    ctx = mp.get_context("spawn")
    start, done, results = ctx.Barrier(3), ctx.Barrier(3), ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(str(db), op, start, done, results))
               for op in ("rename", "remove")]
    for w in workers:
        w.start()
    seen = {"rename": 0, "remove": 0}
    try:
        for trial in range(TRIALS):
            for p in main.people():
                main.remove(p.name)
            main.enrol("bob", vector)
            start.wait(timeout=60)
            outcomes = dict(results.get(timeout=60) for _ in range(2))
            done.wait(timeout=60)
            names = {p.name for p in main.people()}
            ok = [op for op, (status, _) in outcomes.items() if status == "ok"]
            assert len(ok) == 1, f"trial {trial}: {outcomes}, gallery now {names}"
            if ok == ["rename"]:
                assert names == {"robert"}, f"trial {trial}: {outcomes}, gallery now {names}"
                assert "no one called 'bob'" in outcomes["remove"][1]
            else:
                assert names == set(), f"trial {trial}: {outcomes}, gallery now {names}"
                assert "no one called 'bob'" in outcomes["rename"][1]
            seen[ok[0]] += 1
    finally:
        start.abort()
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.kill()
        main.close()
    assert sum(seen.values()) == TRIALS


def test_cli_reports_the_stored_name_and_what_was_removed(tmp_path, capsys):
    from facelens.cli import main

    home = str(tmp_path / "home")
    with Gallery.open(tmp_path / "home" / "gallery.db", MODEL, DIM) as g:
        g.enrol("Bob", np.eye(DIM, dtype=np.float32)[:2])
    assert main(["--home", home, "rename", "BOB", "Robert"]) == 0
    assert capsys.readouterr().out.strip() == "renamed Bob to Robert"
    assert main(["--home", home, "remove", "--json", "robert"]) == 0
    assert capsys.readouterr().out.strip() == '{"removed": "Robert", "templates": 2}'
    assert main(["--home", home, "remove", "robert"]) == 2
    assert "no one called 'robert'" in capsys.readouterr().err
