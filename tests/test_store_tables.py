"""Each stage owns its tables: capture tables in proxy/store.py, derived ones in
generators/model/tables.py, each with one ordered list of migrations recorded in
the store; a read command creates nothing."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

from cli_cases import run

from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.tables import (
    MODEL_MIGRATION_SET,
    MODEL_STEPS,
    list_endpoints,
    read_path_rules_text,
)
from freshmock.proxy.store import (
    CAPTURE_MIGRATION_SET,
    CAPTURE_STEPS,
    MIGRATIONS_TABLE,
    OBSERVATION_COLUMNS,
    insert_observations,
    migration_steps_recorded,
    open_store,
)

from store_kit import observation

OLD_SCHEMA = Path(__file__).parent / "stores" / "freshmock-2026-11.sql"
T0 = 1.7935e9  # 2026-11-01


def schema(path: Path) -> dict[str, tuple]:
    """Every table and index: columns (name, type, pk position) in order, index columns."""
    conn = sqlite3.connect(path)
    try:
        shape = {}
        for kind, name in conn.execute("select type, name from sqlite_master "
                                       "where name not like 'sqlite_%' order by name"):
            if kind == "table":
                shape[name] = tuple((c[1], c[2], c[5])
                                    for c in conn.execute(f"pragma table_info({name})"))
            else:
                shape[name] = tuple(c[2] for c in conn.execute(f"pragma index_info({name})"))
        return shape
    finally:
        conn.close()


def recorded(path: Path, migration_set: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [name for (name,) in conn.execute(
            f"select name from {MIGRATIONS_TABLE} where migration_set = ? order by id",
            [migration_set])]
    finally:
        conn.close()


def rows() -> list[dict]:
    return [observation(f"/users/{n}", T0 + n, {"id": n, "name": "x"}) for n in range(1, 13)]


def test_a_new_store_records_the_capture_steps_and_holds_no_derived_table(tmp_path):
    path = tmp_path / "new.db"
    open_store(path, must_exist=False).close()
    assert recorded(path, CAPTURE_MIGRATION_SET) == [name for name, _ in CAPTURE_STEPS]
    assert recorded(path, MODEL_MIGRATION_SET) == []
    assert set(schema(path)) >= {"observations", "counters", "websocket_messages"}
    assert not {"endpoints", "infer_partials", "path_shapes"} & set(schema(path))
    assert [c[0] for c in schema(path)["observations"]] == list(OBSERVATION_COLUMNS)
    before = schema(path)
    open_store(path).close()  # nothing pending: nothing applied twice
    assert schema(path) == before
    assert len(recorded(path, CAPTURE_MIGRATION_SET)) == len(CAPTURE_STEPS)


def test_the_model_migrates_its_tables_on_its_first_write(tmp_path):
    path = tmp_path / "s.db"
    db = open_store(path, must_exist=False)
    insert_observations(db, rows())
    endpoints = infer_endpoints(db)
    db.close()
    assert [e["path_template"] for e in endpoints] == ["/users/{user_id}"]
    assert recorded(path, MODEL_MIGRATION_SET) == [name for name, _ in MODEL_STEPS]
    assert {"endpoints", "infer_partials", "infer_watermarks", "path_shapes", "path_locks",
            "path_rules", "schema_versions"} <= set(schema(path))


def test_a_store_of_freshmock_2026_11_migrates_to_todays_schema_keeping_its_rows(tmp_path):
    """A store made before migrations were recorded replays every step, changes no
    table it already had right, and ends with the schema a new store gets."""
    today = tmp_path / "today.db"
    db = open_store(today, must_exist=False)
    insert_observations(db, rows())
    infer_endpoints(db)
    db.close()

    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.executescript(OLD_SCHEMA.read_text())
    columns = list(OBSERVATION_COLUMNS)[1:]
    conn.executemany(f"insert into observations ({', '.join(columns)}) values "
                     f"({', '.join('?' for _ in columns)})",
                     [[row.get(name) for name in columns] for row in rows()])
    conn.commit()
    conn.close()
    tables_before = schema(old)

    db = open_store(old)
    assert migration_steps_recorded(db.conn, CAPTURE_MIGRATION_SET) == {
        name for name, _ in CAPTURE_STEPS}
    added = {name: shape for name, shape in schema(old).items() if name not in tables_before}
    assert set(added) == {MIGRATIONS_TABLE, f"idx_{MIGRATIONS_TABLE}_migration_set_name"}
    assert {name: schema(old)[name] for name in tables_before} == tables_before
    assert read_path_rules_text(db) is not None  # the saved [paths] rules are kept
    (endpoint,) = infer_endpoints(db)  # the saved rules keep /users/me a literal; none seen
    assert (endpoint["path_template"], endpoint["observations"]) == ("/users/{user_id}", 12)
    db.close()
    assert schema(old) == schema(today)
    assert recorded(old, MODEL_MIGRATION_SET) == [name for name, _ in MODEL_STEPS]


def test_a_store_from_before_the_capture_columns_gains_them_keeping_its_rows(tmp_path):
    path = tmp_path / "first.db"
    first = [name for name in OBSERVATION_COLUMNS
             if name not in ("request_body_sha256", "response_body_sha256", "response_streamed",
                             "sampled_out", "flow_id", "operation", "discriminator")]
    conn = sqlite3.connect(path)
    conn.execute(f"create table observations ({', '.join(first)}, primary key (id))")
    conn.execute("create table endpoints (service, method, path_template, status, media_type, "
                 "observations, primary key (service, method, path_template, status, "
                 "media_type))")
    conn.executemany(f"insert into observations ({', '.join(first[1:])}) values "
                     f"({', '.join('?' for _ in first[1:])})",
                     [[row[name] for name in first[1:]] for row in rows()[:3]])
    conn.execute("insert into endpoints values ('shop', 'GET', '/users/{user}', 200, "
                 "'application/json', 3)")
    conn.commit()
    conn.close()
    db = open_store(path)
    assert [c.name for c in db["observations"].columns] == list(OBSERVATION_COLUMNS)
    assert db["observations"].count == 3
    assert {"counters", "websocket_messages"} <= set(db.table_names())
    # before the model's first write its old table reads as routed by path
    (endpoint,) = list_endpoints(db)
    assert (endpoint["operation"], endpoint["observations"]) == ("", 3)
    db.close()


def test_sidecars_opening_one_new_store_together_apply_each_step_once(tmp_path):
    path = tmp_path / "shared.db"
    script = ("import sys; from freshmock.proxy.store import open_store; "
              "open_store(sys.argv[1], must_exist=False).close()")
    processes = [subprocess.Popen([sys.executable, "-c", script, str(path)],
                                  stderr=subprocess.PIPE) for _ in range(6)]
    errors = [p.communicate(timeout=60)[1].decode() for p in processes]
    assert [p.returncode for p in processes] == [0] * 6, errors
    assert recorded(path, CAPTURE_MIGRATION_SET) == [name for name, _ in CAPTURE_STEPS]


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_read_commands_on_a_store_only_a_sidecar_wrote_create_nothing(tmp_path):
    """stats, endpoints and show answer from a capture-only store (show: infer must run
    first, exit 3) and leave its bytes and schema as they were."""
    path = tmp_path / "captured.db"
    db = open_store(path, must_exist=False)
    insert_observations(db, rows())
    db.close()
    digest, tables = _file_digest(path), schema(path)
    results = {
        name: run([*argv, "--db", str(path)], tmp_path)
        for name, argv in [("stats", ["stats", "--json"]), ("endpoints", ["endpoints", "--json"]),
                           ("endpoints-text", ["endpoints"]), ("show", ["show", "/users/1"])]
    }
    for name in ("stats", "endpoints", "endpoints-text"):
        assert results[name]["code"] == 0 and results[name]["exception"] is None, results[name]
    assert results["endpoints"]["stdout"].strip() == "[]"
    assert "freshmock infer" in results["endpoints-text"]["stderr"]
    show = results["show"]
    assert show["code"] == 3 and show["exception"] is None, show
    assert show["stderr"].strip() == (f"freshmock: error: no endpoints in {path} yet: "
                                      "run `freshmock infer` first")
    assert schema(path) == tables
    assert _file_digest(path) == digest
    print(f"read commands on a capture-only store: {len(results)} ran, "
          f"{len(tables)} tables and indexes, {path.stat().st_size} bytes unchanged")
