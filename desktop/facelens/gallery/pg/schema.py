"""The central gallery's tables on PostgreSQL, and one HNSW index per embedding model.

`templates.embedding` is an untyped ``vector`` so that models of any size share the table;
each model gets a partial HNSW index over ``embedding::vector(dim)`` (pgvector's way of
indexing several sizes in one column). Sealed (encrypted) templates keep ``embedding`` NULL
and their vector in ``sealed``: the server stores and returns them without the key.
People are found by ``name_key`` (`names.name_key`: any case and Unicode spelling, as in the
local gallery), computed by the client, which PostgreSQL's ``lower`` cannot do; a name key is
claimed under an advisory lock on its hash, so two stations cannot enrol one name twice.
Aligned face crops (``crops``: PNG, or sealed) are kept so that a station on another model
pack can re-embed everyone; ``negatives`` ("this is not X", per model) are float32 bytes, or
sealed; neither is searched by the server. ``meta.gallery_id`` (random, made once) tells a
station's replica which server gallery it copies.
Every change to people, templates, crops or negatives adds a row to ``changes``, written by
`log_change` under a table lock held to commit, so change numbers become visible in order
(a station that has seen number n has seen every change up to n); stations poll its newest
``seq`` to know when to refresh their replica.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from ..names import find_person as pick_person
from ..names import name_key

if TYPE_CHECKING:  # psycopg is optional (the 'central' extra); imported where it is used
    from psycopg import Connection

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS people (
    id      bigserial PRIMARY KEY,
    name    text NOT NULL,
    created text NOT NULL,
    updated text NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS people_name ON people (lower(name));
CREATE TABLE IF NOT EXISTS templates (
    id        bigserial PRIMARY KEY,
    person_id bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    model_id  text NOT NULL,
    dim       integer NOT NULL CHECK (dim > 0),
    embedding vector,
    sealed    bytea,
    thumbnail bytea,
    source    text,
    created   text NOT NULL,
    CHECK ((embedding IS NULL) <> (sealed IS NULL))
);
CREATE INDEX IF NOT EXISTS templates_person ON templates (person_id, model_id, dim);
CREATE TABLE IF NOT EXISTS meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS crops (
    id        bigserial PRIMARY KEY,
    person_id bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    crop      bytea NOT NULL,
    created   text NOT NULL
);
CREATE INDEX IF NOT EXISTS crops_person ON crops (person_id);
CREATE TABLE IF NOT EXISTS negatives (
    id        bigserial PRIMARY KEY,
    person_id bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    model_id  text NOT NULL,
    dim       integer NOT NULL CHECK (dim > 0),
    vector    bytea NOT NULL,
    source    text,
    created   text NOT NULL
);
CREATE INDEX IF NOT EXISTS negatives_person ON negatives (person_id, model_id, dim);
INSERT INTO meta (key, value) VALUES ('gallery_id', md5(random()::text || clock_timestamp()))
    ON CONFLICT (key) DO NOTHING;
CREATE TABLE IF NOT EXISTS changes (
    seq       bigserial PRIMARY KEY,
    kind      text NOT NULL,
    person_id bigint,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS attendance (
    id          bigserial PRIMARY KEY,
    station     text NOT NULL,
    station_seq bigint NOT NULL,
    ts          text NOT NULL,
    day         text NOT NULL,
    person      text,
    person_id   bigint,
    similarity  double precision,
    source      text,
    UNIQUE (station, station_seq)
);
CREATE INDEX IF NOT EXISTS attendance_day ON attendance (day, person);
CREATE TABLE IF NOT EXISTS audit (
    id          bigserial PRIMARY KEY,
    station     text NOT NULL,
    station_seq bigint NOT NULL,
    ts          text NOT NULL,
    kind        text NOT NULL,
    detail      jsonb NOT NULL,
    UNIQUE (station, station_seq)
);
"""

ADDED_COLUMNS = [
    ("people", "name_key", ["ALTER TABLE people ADD COLUMN name_key text",
                            "CREATE INDEX people_key ON people (name_key)"]),
    ("templates", "crop_id", ["ALTER TABLE templates ADD COLUMN crop_id bigint "
                              "REFERENCES crops(id) ON DELETE SET NULL"]),
]


def create(conn: Connection) -> None:
    """Create the tables if missing (safe to run by several stations at once)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(4640)")  # one creator at a time
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        for table, column, statements in ADDED_COLUMNS:  # galleries made by older FaceLens
            if not conn.execute("SELECT 1 FROM information_schema.columns WHERE table_schema "
                                "= current_schema() AND table_name = %s AND column_name = %s",
                                (table, column)).fetchone():
                for statement in statements:  # only then: a station's role need not own them
                    conn.execute(statement)
        missing = conn.execute("SELECT id, name FROM people WHERE name_key IS NULL").fetchall()
        if missing:  # people stored before name keys (or by an older FaceLens)
            conn.cursor().executemany("UPDATE people SET name_key = %s WHERE id = %s",
                                      [(name_key(name), pid) for pid, name in missing])


NAME_LOCK = 4643  # pg_advisory_xact_lock(NAME_LOCK, hashtext(name key)): one claimer per name


def lock_name(conn: Connection, key: str) -> None:
    """Inside a transaction: wait until no other transaction is claiming the name `key`."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (NAME_LOCK, key))


def find_person(conn: Connection, name: str, typed: str | None = None,
                other_than: int | None = None) -> tuple[int, str] | None:
    """(id, stored name) of `name` in any case or Unicode spelling (`names.find_person`)."""
    rows = conn.execute("SELECT id, name FROM people WHERE name_key = %s AND id != %s",
                        (name_key(name), -1 if other_than is None else other_than)).fetchall()
    return pick_person(rows, name, typed)


def index_name(model_id: str, dim: int) -> str:
    digest = hashlib.sha1(f"{model_id}/{dim}".encode()).hexdigest()[:12]
    return f"templates_hnsw_{digest}"


def ensure_index(conn: Connection, model_id: str, dim: int) -> None:
    """The HNSW index (inner product) over `model_id`'s templates, created if missing."""
    from psycopg import sql

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(4641)")
        conn.execute(sql.SQL(
            "CREATE INDEX IF NOT EXISTS {name} ON templates USING hnsw "
            "((embedding::vector({dim})) vector_ip_ops) "
            "WHERE model_id = {model} AND dim = {dim}").format(
                name=sql.Identifier(index_name(model_id, dim)), dim=sql.Literal(int(dim)),
                model=sql.Literal(model_id)))


def log_change(conn: Connection, kind: str, person_id: int | None = None) -> None:
    """Inside a write transaction, as its last statement: record the change. The lock (held
    until commit) keeps a later change number from committing before an earlier one."""
    conn.execute("LOCK TABLE changes IN EXCLUSIVE MODE")
    conn.execute("INSERT INTO changes (kind, person_id) VALUES (%s, %s)", (kind, person_id))
