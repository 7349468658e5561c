"""The SQLite store: one file per sidecar, written in WAL mode.

This module owns the file format. The sidecar appends to ``observations``;
later stages read them and keep what they derive (``endpoints``) in the same
file, so one store answers every question about one dependency's traffic.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Imported where used: the recorder's worker writes through plain sqlite3
    # (open_capture_connection) and is 13 MB smaller without sqlite-utils.
    import sqlite_utils

from freshmock.proxy.errors import FreshmockError

DEFAULT_DB = Path("recordings") / "freshmock.db"

OBSERVATIONS = "observations"
ENDPOINTS = "endpoints"

OBSERVATION_COLUMNS = {
    "id": int,
    "observed_at": str,  # ISO 8601 UTC, sorts as text
    "service": str,
    "method": str,
    "scheme": str,
    "host": str,
    "port": int,
    "path": str,
    "query": str,
    "request_headers": str,  # JSON [[name, value], ...], credentials redacted
    "request_media_type": str,
    "request_body": bytes,
    "request_body_size": int,
    "request_body_truncated": int,
    "status": int,
    "response_headers": str,
    "response_media_type": str,
    "response_body": bytes,
    "response_body_size": int,
    "response_body_truncated": int,
    "duration_ms": float,
    "error": str,
    # Added for the production capture path (older stores gain them through
    # ensure_capture_tables):
    "request_body_sha256": str,  # hex; null when the body was cut at the cap
    "response_body_sha256": str,
    "response_streamed": int,  # 1: the response went to the client live, through a tee
    "sampled_out": int,  # 1: over the endpoint's hourly budget; bodies not kept
    "flow_id": str,  # mitmproxy's flow id; links websocket_messages to their handshake
    # The RPC operation the request names (proxy/operations.py), "" when the API
    # routes by path; null in rows written before freshmock knew operations.
    "operation": str,
    "discriminator": str,  # where it came from: header:X-Amz-Target, graphql, ...
}

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


class StoreError(FreshmockError):
    """The store cannot be used; the message is meant for the user as is."""


def check_store_file(path: Path, must_exist: bool) -> None:
    """Fail with a one-line reason unless ``path`` is (or may become) a store."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not an SQLite store")
    if not path.exists():
        if must_exist:
            raise StoreError(
                f"no store at {path} (record traffic first with `freshmock record` "
                "or `freshmock demo`, or point --db / FRESHMOCK_DB at one)"
            )
        if not path.parent.exists():
            raise StoreError(f"cannot create {path}: folder {path.parent} does not exist")
        return
    # Ask SQLite rather than open() the file: closing any other descriptor of a
    # database file drops every POSIX lock this process holds on it, and a
    # connection that silently lost its locks can corrupt the store (sqlite.org,
    # "How To Corrupt An SQLite Database File", 2.2). SQLite's own VFS shares
    # descriptors per file and defers such closes.
    probe = None
    try:
        probe = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=10)
        probe.execute("PRAGMA schema_version").fetchone()
    except sqlite3.OperationalError:
        # Unreadable right now (no permission for the -shm a WAL store needs,
        # locked): not a verdict on the file. Readers fail when they open it;
        # a recorder starts anyway and counts what it cannot write.
        pass
    except sqlite3.DatabaseError as error:
        if "not a database" in str(error):
            raise StoreError(f"{path} is not an SQLite database") from None
        raise StoreError(f"{path} is not a usable SQLite store: {error}") from None
    finally:
        if probe is not None:
            probe.close()


FRESHMOCK_TABLES = frozenset({"observations", "endpoints", "counters", "websocket_messages",
                              "infer_partials", "infer_watermarks", "path_shapes", "path_locks",
                              "schema_versions"})


def _refuse_foreign(db: sqlite_utils.Database, path: Path) -> None:
    """A database with tables but none of freshmock's is someone else's: never write into it."""
    tables = set(db.table_names())
    if tables and not tables & FRESHMOCK_TABLES:
        shown = ", ".join(sorted(tables)[:3]) + (", ..." if len(tables) > 3 else "")
        raise StoreError(f"{path} is an SQLite database but not a freshmock store (it holds "
                         f"{shown}); point --db at a store `freshmock record` made")


def is_writable(path: Path) -> bool:
    """Can this process write the store (and, in WAL mode, the -wal/-shm files beside it)?

    ``os.access`` also answers False on a read-only mount (EROFS).
    """
    path = Path(path)
    folder = path.absolute().parent
    if path.exists() and not os.access(path, os.W_OK):
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def open_store(
    path: str | os.PathLike, must_exist: bool = True, read_only: bool = False
) -> sqlite_utils.Database:
    """Open (or create) a store and make sure its tables exist.

    ``read_only`` opens it with ``mode=ro`` and creates nothing: the commands
    that only read work on a read-only file or mount and never change a byte.
    Otherwise a store this process cannot write is refused in one line, before
    any command does work it could not keep.
    """
    path = Path(path)
    check_store_file(path, must_exist)
    import sqlite_utils

    if read_only:
        return _open_read_only(path)
    if not is_writable(path):
        raise StoreError(f"{path} is read-only, and this command writes into it (inferred "
                         "endpoints, new observations): make it writable, or copy it "
                         "somewhere writable and pass --db")
    try:
        connection = sqlite3.connect(path, timeout=10)
        db = sqlite_utils.Database(connection)
        _refuse_foreign(db, path)
        db.execute("PRAGMA busy_timeout = 10000")
        if db.journal_mode != "wal":
            db.enable_wal()
        if not capture_schema_current(db.conn):  # tables, and columns added since it was made
            # Under the write lock: sidecar processes sharing a store (record
            # --processes N) open it at the same moment, and a check-then-create
            # without it fails one of them on "table already exists".
            db.execute("BEGIN IMMEDIATE")
            try:
                ensure_capture_tables(db)
            except BaseException:
                db.conn.rollback()
                raise
            db.conn.commit()
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path} is not a usable SQLite store: {error}") from None
    return db


def _open_read_only(path: Path) -> sqlite_utils.Database:
    import sqlite_utils

    uri = path.absolute().as_uri()
    try:
        connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=10)
        connection.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # A WAL store needs its -shm file; in a read-only folder that cannot be
        # created, SQLite opens it only as immutable (nobody can write it then).
        try:
            connection = sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=10)
            connection.execute("select count(*) from sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"cannot read {path}: {error}") from None
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path} is not a usable SQLite store: {error}") from None
    db = sqlite_utils.Database(connection)
    _refuse_foreign(db, path)
    db.execute("PRAGMA busy_timeout = 10000")
    return db


def check_recordable(path: Path) -> None:
    """Before a recorder starts: the store can be written, is freshmock's, and is not damaged.

    ``quick_check`` reads every page (about 1 s per 100 MB here); a recorder
    runs for hours, and without it a damaged store starts, loses every batch
    to "database disk image is malformed" and exits 0.
    """
    path = Path(path)
    check_store_file(path, must_exist=False)
    if not path.exists():
        if not is_writable(path):
            raise StoreError(f"cannot create {path}: no permission to write in {path.parent}")
        return
    db = open_store(path)
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check(3)").fetchall()]
    except sqlite3.DatabaseError as error:
        problems = [str(error)]
    finally:
        db.close()
    if problems != ["ok"]:
        raise StoreError(f"{path} is damaged ({problems[0]}); restore it from a copy, or "
                         "record into a new file with --db")


def capture_schema_current(conn: sqlite3.Connection) -> bool:
    """Whether ``ensure_capture_tables`` has nothing to do (checked without writing)."""
    tables = {name for (name,) in conn.execute(
        "select name from sqlite_master where type = 'table'")}
    if not {OBSERVATIONS, ENDPOINTS, COUNTERS, WEBSOCKET_MESSAGES} <= tables:
        return False
    columns = {row[1] for row in conn.execute(f"pragma table_info({OBSERVATIONS})")}
    return set(OBSERVATION_COLUMNS) <= columns


def open_capture_connection(path: str | os.PathLike, busy_timeout_ms: int) -> sqlite3.Connection:
    """A plain sqlite3 connection for ``append_capture_batch`` (the recorder's worker).

    Creates or migrates the store through ``open_store`` only when it has to
    (the sidecar does that before its worker starts, so usually never here).
    """
    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        wal = conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        if not wal or not capture_schema_current(conn):
            open_store(path, must_exist=False).close()
        # WAL with synchronous=NORMAL survives a killed process; only a power
        # cut can take back the last commits.
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def raise_if_read_only_write(error: sqlite3.OperationalError, what: str) -> None:
    """Turn SQLite's "attempt to write a readonly database" into one line naming ``what``."""
    if "readonly" in str(error):
        raise StoreError(f"{what}, but the store is open read-only (make it writable, or run "
                         "`freshmock infer` where it is)") from None


def ensure_tables(db: sqlite_utils.Database) -> None:
    if not db[OBSERVATIONS].exists():
        db[OBSERVATIONS].create(OBSERVATION_COLUMNS, pk="id")
        db[OBSERVATIONS].create_index(["service", "method", "path"])
        db[OBSERVATIONS].create_index(["observed_at"])
    if not db[ENDPOINTS].exists():
        db[ENDPOINTS].create(ENDPOINT_COLUMNS, pk=ENDPOINT_KEY)
    else:
        add_operation_to_key(db[ENDPOINTS], ENDPOINT_KEY)


def add_operation_to_key(table: sqlite_utils.db.Table, key: tuple) -> None:
    """A table keyed by endpoint from before operations: ``operation`` = "" (every
    endpoint then routed by path alone) joins the primary key; rows are kept."""
    if "operation" in {column.name for column in table.columns}:
        return
    table.add_column("operation", str, not_null_default="")
    table.add_column("discriminator", str, not_null_default="")
    table.transform(pk=key)


def insert_observations(db: sqlite_utils.Database, rows: list[dict]) -> None:
    """Append rows in one transaction: a crash leaves all or none of them."""
    with db.conn:
        db[OBSERVATIONS].insert_all(rows, batch_size=len(rows) or 1)


def iter_observations(db: sqlite_utils.Database, completed_only: bool = True) -> Iterator[dict]:
    where = "status is not null" if completed_only else None
    yield from db[OBSERVATIONS].rows_where(where, order_by="id")


def get_observation(db: sqlite_utils.Database, observation_id: int) -> dict:
    return db[OBSERVATIONS].get(observation_id)


def get_observation_or_none(db: sqlite_utils.Database, observation_id: int | None):
    import sqlite_utils

    if observation_id is None:
        return None
    try:
        return db[OBSERVATIONS].get(observation_id)
    except sqlite_utils.db.NotFoundError:
        return None


def count_observations(db: sqlite_utils.Database) -> int:
    return db[OBSERVATIONS].count if db[OBSERVATIONS].exists() else 0


def replace_endpoints(db: sqlite_utils.Database, rows: Iterable[dict]) -> None:
    """Swap the derived endpoint table in one transaction."""
    with db.conn:
        db[ENDPOINTS].delete_where()
        db[ENDPOINTS].insert_all(rows, alter=True)  # stores from before a column was added


def list_endpoints(db: sqlite_utils.Database, service: str | None = None) -> list[dict]:
    if not db[ENDPOINTS].exists():  # a read-only store never inferred
        return []
    where, args = ("service = ?", [service]) if service else (None, None)
    return list(db[ENDPOINTS].rows_where(where, args, order_by=", ".join(ENDPOINT_KEY)))


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
    "exemplar_candidates": str,  # JSON, opaque here (generators.exemplar_choice)
    "request_stats": str,  # JSON, or null when no JSON request body was seen
    "response_stats": str,
}
INFER_PARTIAL_KEY = (*ENDPOINT_KEY, "day")

INFER_WATERMARK_COLUMNS = {"name": str, "last_id": int, "version": str}


def add_missing_columns(table: sqlite_utils.db.Table, columns: dict) -> None:
    """Bring a table made by an older freshmock up to ``columns`` (new ones are null)."""
    existing = {column.name for column in table.columns}
    for name, kind in columns.items():
        if name not in existing:
            table.add_column(name, kind)


def ensure_infer_tables(db: sqlite_utils.Database) -> None:
    if not db[INFER_PARTIALS].exists():
        db[INFER_PARTIALS].create(INFER_PARTIAL_COLUMNS, pk=INFER_PARTIAL_KEY)
    else:
        add_operation_to_key(db[INFER_PARTIALS], INFER_PARTIAL_KEY)
        add_missing_columns(db[INFER_PARTIALS], INFER_PARTIAL_COLUMNS)
    if not db[INFER_WATERMARKS].exists():
        db[INFER_WATERMARKS].create(INFER_WATERMARK_COLUMNS, pk="name")


def read_watermark(db: sqlite_utils.Database, name: str) -> tuple[int, str] | None:
    """``(last_id, version)`` of the named watermark, or None before the first run."""
    if not db[INFER_WATERMARKS].exists():  # a read path creates nothing
        return None
    row = db.execute(
        f"select last_id, version from {INFER_WATERMARKS} where name = ?", [name]
    ).fetchone()
    return None if row is None else (row[0], row[1])


def last_observation_id(db: sqlite_utils.Database) -> int:
    if not db[OBSERVATIONS].exists():
        return 0
    return db.execute(f"select coalesce(max(id), 0) from {OBSERVATIONS}").fetchone()[0]


def iter_observations_between(
    db: sqlite_utils.Database, after_id: int, upto_id: int
) -> Iterator[dict]:
    """Completed observations with ``after_id < id <= upto_id``, by id."""
    yield from db[OBSERVATIONS].rows_where(
        "id > ? and id <= ? and status is not null", [after_id, upto_id], order_by="id"
    )


def iter_path_responses_between(
    db: sqlite_utils.Database, after_id: int, upto_id: int
) -> Iterator[tuple]:
    """(service, path, method, status, response media type, response body, truncated)
    of the rows ``iter_observations_between`` yields: what path templating reads."""
    yield from db.execute(
        f"select service, path, method, status, response_media_type, response_body, "
        f"response_body_truncated from {OBSERVATIONS} "
        "where id > ? and id <= ? and status is not null order by id",
        [after_id, upto_id],
    )


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
    try:
        ensure_infer_tables(db)
        ensure_path_tables(db)
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        raise_if_read_only_write(error, "new observations must be folded in first")
        raise
    try:
        result = work()
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()
    return result


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


# --- Capture path: columns added later, recorder counters, WebSocket messages --
#
# The recorder's worker process calls ``ensure_capture_tables`` once after
# ``open_store`` and then ``append_capture_batch`` per batch: observations,
# WebSocket messages and the run's counters row go in one transaction, so the
# counters never claim rows that a crash took back.

COUNTERS = "counters"
WEBSOCKET_MESSAGES = "websocket_messages"

COUNTER_COLUMNS = {
    "run_id": str,  # one row per sidecar run
    "started_at": str,
    "updated_at": str,
    "pid": int,  # of the sidecar process
    "service": str,
    "seen": int,  # flows and WebSocket messages offered to the recorder
    "recorded": int,  # observation rows written, with or without bodies
    "sampled_out": int,  # of those, written without bodies (over budget)
    "dropped": int,  # never queued: queue full, recorder stopped or worker down
    "lost": int,  # queued but not written: store or row-building failures, worker deaths
    "redacted": int,  # header and query values replaced
    "errors": int,  # failures of any kind; by kind in detail
    "detail": str,  # JSON object of every counter, e.g. "errors.store.SQLITE_BUSY": 3
}

WEBSOCKET_COLUMNS = {
    "id": int,
    "flow_id": str,  # observations.flow_id of the handshake (status 101)
    "observed_at": str,
    "service": str,
    "path": str,
    "seq": int,  # order within the connection, from 0
    "from_client": int,
    "opcode": str,  # "text" or "binary"
    "size": int,  # of the whole message
    "truncated": int,
    "data": bytes,  # text messages only, capped; binary ones keep size and hash
    "sha256": str,
}


def ensure_capture_tables(db: sqlite_utils.Database) -> None:
    """Add what the capture path needs to a store made by an older freshmock."""
    ensure_tables(db)
    add_missing_columns(db[OBSERVATIONS], OBSERVATION_COLUMNS)
    if not db[COUNTERS].exists():
        db[COUNTERS].create(COUNTER_COLUMNS, pk="run_id")
    if not db[WEBSOCKET_MESSAGES].exists():
        db[WEBSOCKET_MESSAGES].create(WEBSOCKET_COLUMNS, pk="id")
        db[WEBSOCKET_MESSAGES].create_index(["flow_id", "seq"])


def _insert_sql(table: str, columns: list[str], verb: str = "insert") -> str:
    return (
        f"{verb} into {table} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})"
    )


_OBSERVATION_INSERT = [name for name in OBSERVATION_COLUMNS if name != "id"]
_WEBSOCKET_INSERT = [name for name in WEBSOCKET_COLUMNS if name != "id"]
_COUNTER_INSERT = list(COUNTER_COLUMNS)


def append_capture_batch(
    db: sqlite_utils.Database,
    observations: list[dict],
    websocket_messages: list[dict],
    counters: dict | None = None,
) -> None:
    """Append rows (and replace the run's counters row) in one transaction.

    ``db``: a sqlite_utils Database or a plain sqlite3 connection."""
    conn = getattr(db, "conn", db)
    with conn:
        if observations:
            conn.executemany(
                _insert_sql(OBSERVATIONS, _OBSERVATION_INSERT),
                [[row.get(name) for name in _OBSERVATION_INSERT] for row in observations],
            )
        if websocket_messages:
            conn.executemany(
                _insert_sql(WEBSOCKET_MESSAGES, _WEBSOCKET_INSERT),
                [[row.get(name) for name in _WEBSOCKET_INSERT] for row in websocket_messages],
            )
        if counters is not None:
            conn.execute(
                _insert_sql(COUNTERS, _COUNTER_INSERT, "insert or replace"),
                [counters.get(name) for name in _COUNTER_INSERT],
            )


def read_counters(db: sqlite_utils.Database) -> list[dict]:
    """Every recorder run's counters, oldest first; ``detail`` parsed."""
    import json

    if not db[COUNTERS].exists():
        return []
    rows = []
    for row in db[COUNTERS].rows_where(order_by="started_at, run_id"):
        row["detail"] = json.loads(row["detail"] or "{}")
        rows.append(row)
    return rows


def iter_websocket_messages(db: sqlite_utils.Database, flow_id: str) -> Iterator[dict]:
    if not db[WEBSOCKET_MESSAGES].exists():
        return iter(())
    return db[WEBSOCKET_MESSAGES].rows_where("flow_id = ?", [flow_id], order_by="seq")


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


def ensure_path_tables(db: sqlite_utils.Database) -> None:
    if not db[PATH_SHAPES].exists():
        db[PATH_SHAPES].create(PATH_SHAPE_COLUMNS, pk=("service", "shape"))
    else:
        add_missing_columns(db[PATH_SHAPES], PATH_SHAPE_COLUMNS)
    if not db[PATH_LOCKS].exists():
        db[PATH_LOCKS].create(
            {"service": str, "template": str, "accepted_at": str}, pk=("service", "template")
        )


def read_path_rules_text(db: sqlite_utils.Database) -> str | None:
    if not db[PATH_RULES].exists():
        return None
    row = db.execute(f"select rules from {PATH_RULES} where name = 'paths'").fetchone()
    return row[0] if row else None


def write_path_rules_text(db: sqlite_utils.Database, text: str, at: str) -> None:
    if not db[PATH_RULES].exists():
        db[PATH_RULES].create({"name": str, "rules": str, "saved_at": str}, pk="name")
    with db.conn:
        db.conn.execute(
            f"insert or replace into {PATH_RULES} (name, rules, saved_at) values ('paths', ?, ?)",
            [text, at],
        )


MAX_SHAPE_SIGNATURES = 8


def add_path_shapes(
    db: sqlite_utils.Database, counts: dict[tuple[str, str], int],
    signatures: dict[tuple[str, str], set[str]] | None = None,
) -> None:
    """Add to the shape counts and signatures (plain SQL: safe inside
    ``run_in_write_transaction``)."""
    import json

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
    import json

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
    ensure_path_tables(db)
    with db.conn:
        db.conn.executemany(
            f"insert or ignore into {PATH_LOCKS} (service, template, accepted_at) values (?, ?, ?)",
            [(service, template, at) for service, template in templates],
        )


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


def ensure_history_table(db: sqlite_utils.Database) -> None:
    if not db[SCHEMA_VERSIONS].exists():
        db[SCHEMA_VERSIONS].create(SCHEMA_VERSION_COLUMNS, pk=(*ENDPOINT_KEY, "version"))
    else:
        add_operation_to_key(db[SCHEMA_VERSIONS], (*ENDPOINT_KEY, "version"))


def latest_schema_versions(db: sqlite_utils.Database) -> dict[tuple, dict]:
    if not db[SCHEMA_VERSIONS].exists():
        return {}
    latest: dict[tuple, dict] = {}
    for row in db[SCHEMA_VERSIONS].rows_where(order_by="version"):
        latest[tuple(row[column] for column in ENDPOINT_KEY)] = row
    return latest


def save_schema_versions(db: sqlite_utils.Database, rows: list[dict]) -> None:
    """Insert or replace version rows (new versions, and extended latest ones)."""
    ensure_history_table(db)
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
    where = " and ".join(f"{column} is ?" for column in ENDPOINT_KEY)
    return list(db[SCHEMA_VERSIONS].rows_where(where, list(key), order_by="version"))


def last_observed_day(db: sqlite_utils.Database) -> str | None:
    """The UTC day (YYYY-MM-DD) of the newest completed observation, if any."""
    if not db[OBSERVATIONS].exists():
        return None
    row = db.execute(
        f"select max(observed_at) from {OBSERVATIONS} where status is not null"
    ).fetchone()
    return row[0][:10] if row and row[0] else None
