"""The tables the model stage derives from observations, and their migrations.

``proxy/store.py`` owns the store file and the capture tables; everything here
is rebuilt from those by ``infer`` and owned by the model stage: the published
``endpoints``, inference's per-day partials and watermark, path templating's
shapes, locks and rules, and the schema history. ``MODEL_STEPS`` is their one
ordered list of migrations, recorded in the store like the capture tables'
(``freshmock.model`` in ``_sqlite_migrations``).

Writers migrate first (``migrate_model``); readers never do: a table that is
not there yet reads as empty, so a read-only store, or one only a sidecar has
written, answers without a byte changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import sqlite_utils

from freshmock.proxy.store import (
    add_missing_columns,
    migrate,
    steps_current,
    write_transaction,
)

MODEL_MIGRATION_SET = "freshmock.model"

ENDPOINTS = "endpoints"
ENDPOINT_COLUMNS = {
    "service": str,
    "method": str,
    "path_template": str,
    # The RPC operation ("" when the API routes by path: REST) and where it
    # came from (proxy/operations.py): header:X-Amz-Target, query:Action,
    # form:Action, graphql, jsonrpc, header:/query:/body: of a [paths] rule.
    "operation": str,
    "status": int,
    "media_type": str,
    "discriminator": str,
    "observations": int,
    "first_seen": str,
    "last_seen": str,
    "request_schema": str,  # JSON Schema text, or null when no JSON body was seen
    "response_schema": str,
    "exemplar_id": int,  # observations.id of the response the stubs replay
    # The mergeable statistics behind the schemas (JSON, opaque here): stubs embed
    # them so a later diff can use committed stubs as its baseline.
    "request_stats": str,
    "response_stats": str,
}
ENDPOINT_KEY = ("service", "method", "path_template", "operation", "status", "media_type")


# --- Incremental inference: per-day partial statistics and a watermark --------
#
# ``infer_partials`` holds, per endpoint and UTC day of ``observed_at``, what
# inference has folded in so far: counts, first/last seen, the exemplar, and
# the request/response statistics as JSON text (opaque here; their format
# belongs to the inference stage). ``infer_watermarks`` records the highest
# ``observations.id`` folded in, and the version of the statistics format, so
# a run reads only newer rows (ids only grow: rows are never updated).

INFER_PARTIALS = "infer_partials"
INFER_WATERMARKS = "infer_watermarks"

INFER_PARTIAL_COLUMNS = {
    **{name: ENDPOINT_COLUMNS[name] for name in ENDPOINT_KEY},
    "day": str,  # YYYY-MM-DD, UTC
    "discriminator": str,
    "observations": int,
    "first_seen": str,
    "last_seen": str,
    "exemplar_id": int,
    "exemplar_observed_at": str,
    "exemplar_kept": int,  # 1 unless the exemplar's bodies were sampled out
    "exemplar_candidates": str,  # JSON, opaque here (model/exemplar_choice.py)
    "request_stats": str,  # JSON, or null when no JSON request body was seen
    "response_stats": str,
}
INFER_PARTIAL_KEY = (*ENDPOINT_KEY, "day")

INFER_WATERMARK_COLUMNS = {"name": str, "last_id": int, "version": str}


# --- Path templating state: the shapes seen, and the templates accepted -------
#
# ``path_shapes`` counts each path with its typed id segments collapsed to
# ``{}`` (so it grows with distinct slugs, not with ids); the templater's trie
# is rebuilt from it. ``path_locks`` keeps every parameterised template once
# published, so an endpoint never splits or renames by itself.

PATH_SHAPES = "path_shapes"
PATH_LOCKS = "path_locks"
# The [paths] rules every command templates with (JSON, opaque here): set by
# the last command given --config, so infer, generate, diff, serve, export
# agree without each being handed the file.
PATH_RULES = "path_rules"


PATH_SHAPE_COLUMNS = {
    "service": str,
    "shape": str,
    "count": int,
    # JSON list of response signatures (method, 2xx status, top-level keys) of
    # the paths of this shape, at most 8: the templater's sibling evidence
    "signatures": str,
}
MAX_SHAPE_SIGNATURES = 8


# --- Schema history: one row per endpoint and distinct published schema -------
#
# ``infer`` appends a version when an endpoint's published schema changes
# (ignoring how many samples it rests on) and otherwise extends the latest
# version's last_seen and counts, so "what did this endpoint look like last
# Tuesday" is a lookup.

SCHEMA_VERSIONS = "schema_versions"
SCHEMA_VERSION_COLUMNS = {
    **{name: ENDPOINT_COLUMNS[name] for name in ENDPOINT_KEY},
    "discriminator": str,
    "version": int,
    "shape_hash": str,  # sha256 of the schemas with sample counts removed
    "request_schema": str,
    "response_schema": str,
    "first_seen": str,
    "last_seen": str,
    "observations": int,  # observed while this version was the published one
    "total_observations": int,  # the endpoint's count when this row was last updated
}



# --- Migrations: the model's tables, in order -----------------------------------
#
# Each step brings a table to its shape only where it is not there yet: a store
# from before steps were recorded replays them all and keeps its rows.


def add_operation_to_key(table: sqlite_utils.db.Table, key: tuple) -> None:
    """A table keyed by endpoint from before operations: ``operation`` = "" (every
    endpoint then routed by path alone) joins the primary key; rows are kept."""
    if "operation" in {column.name for column in table.columns}:
        return
    table.add_column("operation", str, not_null_default="")
    table.add_column("discriminator", str, not_null_default="")
    table.transform(pk=key)


def _create(db: sqlite_utils.Database, table: str, columns: dict, pk) -> None:
    if not db[table].exists():
        db[table].create(columns, pk=pk)


def _create_endpoints(db: sqlite_utils.Database) -> None:
    _create(db, ENDPOINTS, ENDPOINT_COLUMNS, ENDPOINT_KEY)


def _endpoints_operation(db: sqlite_utils.Database) -> None:
    add_operation_to_key(db[ENDPOINTS], ENDPOINT_KEY)


def _create_infer_partials(db: sqlite_utils.Database) -> None:
    _create(db, INFER_PARTIALS, INFER_PARTIAL_COLUMNS, INFER_PARTIAL_KEY)


def _infer_partials_operation(db: sqlite_utils.Database) -> None:
    add_operation_to_key(db[INFER_PARTIALS], INFER_PARTIAL_KEY)
    add_missing_columns(db[INFER_PARTIALS], INFER_PARTIAL_COLUMNS)


def _create_infer_watermarks(db: sqlite_utils.Database) -> None:
    _create(db, INFER_WATERMARKS, INFER_WATERMARK_COLUMNS, "name")


def _create_path_shapes(db: sqlite_utils.Database) -> None:
    _create(db, PATH_SHAPES, PATH_SHAPE_COLUMNS, ("service", "shape"))


def _path_shapes_signatures(db: sqlite_utils.Database) -> None:
    add_missing_columns(db[PATH_SHAPES], PATH_SHAPE_COLUMNS)


def _create_path_locks(db: sqlite_utils.Database) -> None:
    _create(db, PATH_LOCKS, {"service": str, "template": str, "accepted_at": str},
            ("service", "template"))


def _create_path_rules(db: sqlite_utils.Database) -> None:
    _create(db, PATH_RULES, {"name": str, "rules": str, "saved_at": str}, "name")


def _create_schema_versions(db: sqlite_utils.Database) -> None:
    _create(db, SCHEMA_VERSIONS, SCHEMA_VERSION_COLUMNS, (*ENDPOINT_KEY, "version"))


def _schema_versions_operation(db: sqlite_utils.Database) -> None:
    add_operation_to_key(db[SCHEMA_VERSIONS], (*ENDPOINT_KEY, "version"))


# Named once, never renamed (the names are what stores record); new steps go last.
MODEL_STEPS = (
    ("endpoints", _create_endpoints),
    ("endpoints-operation", _endpoints_operation),
    ("infer-partials", _create_infer_partials),
    ("infer-partials-operation", _infer_partials_operation),
    ("infer-watermarks", _create_infer_watermarks),
    ("path-shapes", _create_path_shapes),
    ("path-shapes-signatures", _path_shapes_signatures),
    ("path-locks", _create_path_locks),
    ("path-rules", _create_path_rules),
    ("schema-versions", _create_schema_versions),
    ("schema-versions-operation", _schema_versions_operation),
)


def model_schema_current(db: sqlite_utils.Database) -> bool:
    """Whether every model step is recorded (checked without writing)."""
    return steps_current(db.conn, MODEL_MIGRATION_SET, MODEL_STEPS)


def migrate_model(db: sqlite_utils.Database, what: str = "inferred endpoints must be saved"
                  ) -> None:
    """Bring the model's tables up to date; every writer below calls it first."""
    migrate(db, MODEL_MIGRATION_SET, MODEL_STEPS, what)


# --- Published endpoints --------------------------------------------------------


def replace_endpoints(db: sqlite_utils.Database, rows: Iterable[dict]) -> None:
    """Swap the derived endpoint table in one transaction."""
    migrate_model(db)
    with db.conn:
        db[ENDPOINTS].delete_where()
        db[ENDPOINTS].insert_all(rows, alter=True)  # stores from before a column was added


def _before_operations(db: sqlite_utils.Database, table: str) -> bool:
    """A table from before operations, not migrated yet (a read-only store, or a
    read before the first write): it reads as if every endpoint routed by path."""
    return "operation" not in db[table].columns_dict


def _as_routed_by_path(rows: Iterable[dict]) -> Iterator[dict]:
    for row in rows:
        yield {**row, "operation": "", "discriminator": ""}


def list_endpoints(db: sqlite_utils.Database, service: str | None = None) -> list[dict]:
    if not db[ENDPOINTS].exists():  # a store never inferred
        return []
    where, args = ("service = ?", [service]) if service else (None, None)
    if _before_operations(db, ENDPOINTS):
        key = [column for column in ENDPOINT_KEY if column != "operation"]
        return list(_as_routed_by_path(
            db[ENDPOINTS].rows_where(where, args, order_by=", ".join(key))))
    return list(db[ENDPOINTS].rows_where(where, args, order_by=", ".join(ENDPOINT_KEY)))


# --- Incremental inference ------------------------------------------------------

def read_watermark(db: sqlite_utils.Database, name: str) -> tuple[int, str] | None:
    """``(last_id, version)`` of the named watermark, or None before the first run."""
    if not db[INFER_WATERMARKS].exists():  # a read path creates nothing
        return None
    row = db.execute(
        f"select last_id, version from {INFER_WATERMARKS} where name = ?", [name]
    ).fetchone()
    return None if row is None else (row[0], row[1])


def read_partial(db: sqlite_utils.Database, key: tuple) -> dict | None:
    """The partial stored for ``key`` (``INFER_PARTIAL_KEY`` values), if any."""
    where = " and ".join(f"{column} is ?" for column in INFER_PARTIAL_KEY)
    rows = list(db[INFER_PARTIALS].rows_where(where, list(key)))
    return rows[0] if rows else None


def iter_partials(
    db: sqlite_utils.Database, since: str | None = None, until: str | None = None
) -> Iterator[dict]:
    """Partials whose day lies in ``[since, until]`` (days, inclusive), by key."""
    if not db[INFER_PARTIALS].exists():
        return
    clauses, args = [], []
    if since is not None:
        clauses.append("day >= ?")
        args.append(since)
    if until is not None:
        clauses.append("day <= ?")
        args.append(until)
    yield from db[INFER_PARTIALS].rows_where(
        " and ".join(clauses) or None, args, order_by=", ".join(INFER_PARTIAL_KEY)
    )


def run_in_write_transaction(db: sqlite_utils.Database, work):
    """Call ``work()`` inside ``BEGIN IMMEDIATE``: commit if it returns, roll back if it raises.

    The write lock is taken before ``work`` reads, so a read-check-write in it
    cannot interleave with another writer's. Inside, write with
    ``write_partials``/``write_watermark``/``clear_partials`` (plain SQL):
    sqlite-utils' own writers commit on their own and would end the transaction.
    """
    what = "new observations must be folded in first"
    migrate_model(db, what)
    return write_transaction(db, work, what)


def write_partials(db: sqlite_utils.Database, rows: Iterable[dict]) -> None:
    """Store partials, each replacing the one with its key (NULL key parts included:
    ``insert or replace`` alone treats NULLs as distinct and would keep both)."""
    rows = list(rows)
    where = " and ".join(f"{column} is ?" for column in INFER_PARTIAL_KEY)
    db.conn.executemany(
        f"delete from {INFER_PARTIALS} where {where}",
        [[row[column] for column in INFER_PARTIAL_KEY] for row in rows],
    )
    columns = list(INFER_PARTIAL_COLUMNS)
    db.conn.executemany(
        f"insert into {INFER_PARTIALS} ({', '.join(columns)}) "
        f"values ({', '.join('?' for _ in columns)})",
        [[row[column] for column in columns] for row in rows],
    )


def write_watermark(db: sqlite_utils.Database, name: str, last_id: int, version: str) -> None:
    db.execute(
        f"insert or replace into {INFER_WATERMARKS} (name, last_id, version) values (?, ?, ?)",
        [name, last_id, version],
    )


def clear_partials(db: sqlite_utils.Database) -> None:
    db.execute(f"delete from {INFER_PARTIALS}")

def clear_path_shapes(db: sqlite_utils.Database) -> None:
    db.execute(f"delete from {PATH_SHAPES}")


# --- Path templating state ------------------------------------------------------


def read_path_rules_text(db: sqlite_utils.Database) -> str | None:
    if not db[PATH_RULES].exists():
        return None
    row = db.execute(f"select rules from {PATH_RULES} where name = 'paths'").fetchone()
    return row[0] if row else None


def write_path_rules_text(db: sqlite_utils.Database, text: str, at: str) -> None:
    migrate_model(db)
    with db.conn:
        db.conn.execute(
            f"insert or replace into {PATH_RULES} (name, rules, saved_at) values ('paths', ?, ?)",
            [text, at],
        )


def add_path_shapes(
    db: sqlite_utils.Database, counts: dict[tuple[str, str], int],
    signatures: dict[tuple[str, str], set[str]] | None = None,
) -> None:
    """Add to the shape counts and signatures (plain SQL: safe inside
    ``run_in_write_transaction``)."""
    signatures = signatures or {}
    merged = {}
    for key, new in signatures.items():
        row = db.execute(f"select signatures from {PATH_SHAPES} where service = ? and shape = ?",
                         list(key)).fetchone()
        old = set(json.loads(row[0])) if row and row[0] else set()
        merged[key] = json.dumps(sorted(old | new)[:MAX_SHAPE_SIGNATURES])
    db.conn.executemany(
        f"insert into {PATH_SHAPES} (service, shape, count, signatures) values (?, ?, ?, ?) "
        "on conflict (service, shape) do update set count = count + excluded.count, "
        "signatures = coalesce(excluded.signatures, signatures)",
        [(service, shape, n, merged.get((service, shape)))
         for (service, shape), n in counts.items()],
    )


def read_path_shapes(db: sqlite_utils.Database) -> Iterator[tuple[str, str, int, list[str]]]:
    """Read only: a store without the table (or from before signatures) is read as is."""
    if not db[PATH_SHAPES].exists():
        return
    has_signatures = "signatures" in db[PATH_SHAPES].columns_dict
    column = "signatures" if has_signatures else "null"
    for service, shape, count, signatures in db.execute(
        f"select service, shape, count, {column} from {PATH_SHAPES} order by 1, 2"
    ):
        yield service, shape, count, json.loads(signatures) if signatures else []


def read_path_locks(db: sqlite_utils.Database) -> dict[str, list[str]]:
    if not db[PATH_LOCKS].exists():
        return {}
    locks: dict[str, list[str]] = {}
    for service, template in db.execute(f"select service, template from {PATH_LOCKS}"):
        locks.setdefault(service, []).append(template)
    return locks


def lock_path_templates(db: sqlite_utils.Database, templates: Iterable[tuple[str, str]], at: str):
    migrate_model(db)
    with db.conn:
        db.conn.executemany(
            f"insert or ignore into {PATH_LOCKS} (service, template, accepted_at) values (?, ?, ?)",
            [(service, template, at) for service, template in templates],
        )


# --- Schema history -------------------------------------------------------------


def latest_schema_versions(db: sqlite_utils.Database) -> dict[tuple, dict]:
    if not db[SCHEMA_VERSIONS].exists():
        return {}
    latest: dict[tuple, dict] = {}
    for row in db[SCHEMA_VERSIONS].rows_where(order_by="version"):
        latest[tuple(row[column] for column in ENDPOINT_KEY)] = row
    return latest


def save_schema_versions(db: sqlite_utils.Database, rows: list[dict]) -> None:
    """Insert or replace version rows (new versions, and extended latest ones)."""
    migrate_model(db)
    key = (*ENDPOINT_KEY, "version")
    columns = list(SCHEMA_VERSION_COLUMNS)
    with db.conn:  # delete + insert: NULL key parts (no media type) must still match
        db.conn.executemany(
            f"delete from {SCHEMA_VERSIONS} where "
            + " and ".join(f"{column} is ?" for column in key),
            [[row[column] for column in key] for row in rows],
        )
        db.conn.executemany(
            f"insert into {SCHEMA_VERSIONS} ({', '.join(columns)}) "
            f"values ({', '.join('?' for _ in columns)})",
            [[row[column] for column in columns] for row in rows],
        )


def schema_versions(db: sqlite_utils.Database, key: tuple) -> list[dict]:
    if not db[SCHEMA_VERSIONS].exists():
        return []
    if _before_operations(db, SCHEMA_VERSIONS):
        values = dict(zip(ENDPOINT_KEY, key, strict=True))
        if values.pop("operation"):
            return []
        where = " and ".join(f"{column} is ?" for column in values)
        return list(_as_routed_by_path(db[SCHEMA_VERSIONS].rows_where(
            where, list(values.values()), order_by="version")))
    where = " and ".join(f"{column} is ?" for column in ENDPOINT_KEY)
    return list(db[SCHEMA_VERSIONS].rows_where(where, list(key), order_by="version"))


