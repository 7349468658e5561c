"""The SQLite store: one file per sidecar, written in WAL mode.

This module owns the file format (opening checks, WAL, read-only, foreign
and damaged files) and the capture tables the sidecar writes:
``observations``, ``websocket_messages`` and ``counters``, with their
migrations (``CAPTURE_MIGRATIONS``). Later stages keep what they derive in the
same file, in tables they own and migrate themselves
(``freshmock.generators.model.tables``), so one store answers every question
about one dependency's traffic; they read the capture tables only through the
functions here, never with SQL of their own.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Imported where used: the recorder's worker writes through plain sqlite3
    # (open_capture_connection) and is 13 MB smaller without sqlite-utils.
    import sqlite_utils

from freshmock.proxy.errors import FreshmockError

DEFAULT_DB = Path("recordings") / "freshmock.db"

OBSERVATIONS = "observations"
COUNTERS = "counters"
WEBSOCKET_MESSAGES = "websocket_messages"
CAPTURE_TABLES = frozenset({OBSERVATIONS, COUNTERS, WEBSOCKET_MESSAGES})

# sqlite-utils' Migrations record applied steps here, one row per (set, step);
# every owner of tables in a store has its own set, named "freshmock.<owner>".
MIGRATIONS_TABLE = "_sqlite_migrations"
MIGRATION_SET_PREFIX = "freshmock."
CAPTURE_MIGRATION_SET = "freshmock.capture"

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
    # the capture migrations):
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

# Columns added after the first stores, by the capture migration step that adds
# them: the first step creates the table without them, so that a store of any
# age reaches today's table by the same later steps.
_CAPTURE_PATH_COLUMNS = ("request_body_sha256", "response_body_sha256", "response_streamed",
                         "sampled_out", "flow_id")
_OPERATION_COLUMNS = ("operation", "discriminator")
_FIRST_OBSERVATION_COLUMNS = {
    name: kind for name, kind in OBSERVATION_COLUMNS.items()
    if name not in _CAPTURE_PATH_COLUMNS + _OPERATION_COLUMNS
}

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


# What stores of freshmock up to 2026-12 held besides the capture tables (then
# made without a record of migrations): they identify such a file as a store.
# Their definitions live with their owner (generators/model/tables.py).
_UNRECORDED_STORE_TABLES = frozenset({"endpoints", "infer_partials", "infer_watermarks",
                                      "path_shapes", "path_locks", "path_rules",
                                      "schema_versions"})


def is_freshmock_store(conn: sqlite3.Connection) -> bool | None:
    """True for a freshmock store, None for an empty file, False for anyone else's.

    A store holds a capture table, a table an earlier freshmock made before
    migrations were recorded, or a recorded freshmock migration set.
    """
    tables = {name for (name,) in conn.execute(
        "select name from sqlite_master where type = 'table'")}
    if not tables:
        return None
    if tables & (CAPTURE_TABLES | _UNRECORDED_STORE_TABLES):
        return True
    if MIGRATIONS_TABLE in tables:
        return conn.execute(
            f"select 1 from {MIGRATIONS_TABLE} where migration_set like ? limit 1",
            [MIGRATION_SET_PREFIX + "%"]).fetchone() is not None
    return False


def _refuse_foreign(db: sqlite_utils.Database, path: Path) -> None:
    """A database with tables but none of freshmock's is someone else's: never write into it."""
    if is_freshmock_store(db.conn) is False:
        tables = sorted(db.table_names())
        shown = ", ".join(tables[:3]) + (", ..." if len(tables) > 3 else "")
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
    """Open (or create) a store and bring its capture tables up to date.

    ``read_only`` opens it with ``mode=ro`` and creates nothing: the commands
    that only read work on a read-only file or mount, or beside a sidecar that
    is writing, and never change a byte. Otherwise a store this process cannot
    write is refused in one line, before any command does work it could not keep.
    Derived tables are not made here: their owner migrates them when it writes.
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
        migrate_capture(db)
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


def raise_if_read_only_write(error: sqlite3.OperationalError, what: str) -> None:
    """Turn SQLite's "attempt to write a readonly database" into one line naming ``what``."""
    if "readonly" in str(error):
        raise StoreError(f"{what}, but the store is open read-only (make it writable, or run "
                         "`freshmock infer` where it is)") from None


# --- Migrations: one ordered, recorded list per owner of tables ----------------
#
# Every step is named once and never renamed: the name is what a store records.
# A step brings a table to its shape only where it is not there yet, so a store
# from before steps were recorded (every freshmock up to 2026-12) replays the
# whole list and keeps its rows; a new step goes at the end of its owner's list.


def migration_steps_recorded(conn: sqlite3.Connection, migration_set: str) -> set[str]:
    """The steps of ``migration_set`` this store records (read only; plain sqlite3)."""
    if conn.execute("select 1 from sqlite_master where type = 'table' and name = ?",
                    [MIGRATIONS_TABLE]).fetchone() is None:
        return set()
    return {name for (name,) in conn.execute(
        f"select name from {MIGRATIONS_TABLE} where migration_set = ?", [migration_set])}


def write_transaction(db: sqlite_utils.Database, work: Callable, what: str):
    """Call ``work()`` inside ``BEGIN IMMEDIATE``: commit if it returns, roll back if it raises.

    The write lock is taken before ``work`` reads, so a read-check-write in it
    cannot interleave with another writer's. A store that cannot be written is
    one line naming ``what`` needed writing. Inside, write with plain SQL (or
    sqlite-utils calls that do not commit): an own commit would end the transaction.
    """
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        raise_if_read_only_write(error, what)
        raise
    try:
        result = work()
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()
    return result


def apply_migrations(db: sqlite_utils.Database, migrations, what: str) -> None:
    """Apply the pending steps of ``migrations`` under the write lock, all or none.

    Under ``BEGIN IMMEDIATE``: sidecar processes sharing a store (record
    --processes N) open it at the same moment, and a check-then-create without
    the lock fails one of them on "table already exists". sqlite-utils runs each
    step in a savepoint inside it, with the row recording it.
    """
    write_transaction(db, lambda: migrations.apply(db), what)


def add_missing_columns(table: sqlite_utils.db.Table, columns: dict) -> None:
    """Bring a table made by an older freshmock up to ``columns`` (new ones are null)."""
    existing = {column.name for column in table.columns}
    for name, kind in columns.items():
        if name not in existing:
            table.add_column(name, kind)


def migrations_of(set_name: str, steps: Sequence[tuple[str, Callable]]):
    """A sqlite-utils ``Migrations`` set of ``steps`` ((name, function) pairs, in order)."""
    from sqlite_utils import Migrations

    migrations = Migrations(set_name)
    for name, step in steps:
        migrations(name=name)(step)
    return migrations


def _create_observations(db: sqlite_utils.Database) -> None:
    if not db[OBSERVATIONS].exists():
        db[OBSERVATIONS].create(_FIRST_OBSERVATION_COLUMNS, pk="id")
        db[OBSERVATIONS].create_index(["service", "method", "path"])
        db[OBSERVATIONS].create_index(["observed_at"])


def _add_capture_path_columns(db: sqlite_utils.Database) -> None:
    add_missing_columns(db[OBSERVATIONS],
                        {name: OBSERVATION_COLUMNS[name] for name in _CAPTURE_PATH_COLUMNS})


def _add_operation_columns(db: sqlite_utils.Database) -> None:
    add_missing_columns(db[OBSERVATIONS],
                        {name: OBSERVATION_COLUMNS[name] for name in _OPERATION_COLUMNS})


def _create_counters(db: sqlite_utils.Database) -> None:
    if not db[COUNTERS].exists():
        db[COUNTERS].create(COUNTER_COLUMNS, pk="run_id")


def _create_websocket_messages(db: sqlite_utils.Database) -> None:
    if not db[WEBSOCKET_MESSAGES].exists():
        db[WEBSOCKET_MESSAGES].create(WEBSOCKET_COLUMNS, pk="id")
        db[WEBSOCKET_MESSAGES].create_index(["flow_id", "seq"])


# The capture tables' steps, in order. Plain functions, made a sqlite-utils
# Migrations set only when applied: the recorder's worker checks the names
# without importing sqlite-utils.
CAPTURE_STEPS = (
    ("observations", _create_observations),
    ("observations-capture-path-columns", _add_capture_path_columns),
    ("observations-operation-columns", _add_operation_columns),
    ("counters", _create_counters),
    ("websocket-messages", _create_websocket_messages),
)


def steps_current(conn: sqlite3.Connection, migration_set: str,
                  steps: Sequence[tuple[str, Callable]]) -> bool:
    """Whether every step of ``migration_set`` is recorded (read only, plain sqlite3)."""
    recorded = migration_steps_recorded(conn, migration_set)
    return all(name in recorded for name, _ in steps)


def migrate(db: sqlite_utils.Database, migration_set: str,
            steps: Sequence[tuple[str, Callable]], what: str) -> None:
    """Apply the steps of ``migration_set`` this store lacks (each owner's one entry point)."""
    if not steps_current(db.conn, migration_set, steps):
        apply_migrations(db, migrations_of(migration_set, steps), what)


def capture_schema_current(conn: sqlite3.Connection) -> bool:
    return steps_current(conn, CAPTURE_MIGRATION_SET, CAPTURE_STEPS)


def migrate_capture(db: sqlite_utils.Database) -> None:
    """Bring the capture tables of a store of any freshmock version up to date."""
    migrate(db, CAPTURE_MIGRATION_SET, CAPTURE_STEPS,
            "the capture tables must be brought up to date")


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


# --- Writing capture rows: each batch in one transaction ------------------------
#
# The recorder's worker process calls ``append_capture_batch`` per batch:
# observations, WebSocket messages and the run's counters row go in one
# transaction, so the counters never claim rows that a crash took back.


def _insert_sql(table: str, columns: list[str], verb: str = "insert") -> str:
    return (
        f"{verb} into {table} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})"
    )


_OBSERVATION_INSERT = [name for name in OBSERVATION_COLUMNS if name != "id"]
_WEBSOCKET_INSERT = [name for name in WEBSOCKET_COLUMNS if name != "id"]
_COUNTER_INSERT = list(COUNTER_COLUMNS)


def insert_observations(db: sqlite_utils.Database, rows: list[dict]) -> None:
    """Append rows in one transaction: a crash leaves all or none of them."""
    with db.conn:
        db[OBSERVATIONS].insert_all(rows, batch_size=len(rows) or 1)


def add_observation_rows(conn: sqlite3.Connection, rows: Iterable[dict]) -> None:
    """Append rows (new ids; any ``id`` is ignored) in the caller's open transaction.

    Plain SQL: sqlite-utils' writers commit on their own and would end it.
    """
    conn.executemany(_insert_sql(OBSERVATIONS, _OBSERVATION_INSERT),
                     [[row.get(name) for name in _OBSERVATION_INSERT] for row in rows])


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
            add_observation_rows(conn, observations)
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


# --- Reading capture rows: the only way later stages see them -------------------
#
# Every reader works on a store opened read-only and on one that lacks a table
# (never recorded into) or the newest columns (an older store opened read-only).


def _has_table(db: sqlite_utils.Database, table: str) -> bool:
    return db[table].exists()


def iter_observations(db: sqlite_utils.Database, completed_only: bool = True) -> Iterator[dict]:
    """Every observation by id; ``completed_only``: those that got an answer."""
    if not _has_table(db, OBSERVATIONS):
        return
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


def observations_by_id(
    db: sqlite_utils.Database, ids: Iterable[int], columns: Sequence[str]
) -> dict[int, dict]:
    """``columns`` (``id`` among them) of the observations with these ids (absent ones left out)."""
    wanted = sorted(set(ids))
    found: dict[int, dict] = {}
    selected = ", ".join(columns)
    for start in range(0, len(wanted), _ID_BATCH):
        batch = wanted[start:start + _ID_BATCH]
        for values in db.execute(
            f"select {selected} from {OBSERVATIONS} "
            f"where id in ({', '.join('?' for _ in batch)})", batch,
        ):
            row = dict(zip(columns, values, strict=True))
            found[row["id"]] = row
    return found


_ID_BATCH = 500  # ids per query, well under SQLite's bound-parameter limit


def count_observations(db: sqlite_utils.Database) -> int:
    return db[OBSERVATIONS].count if _has_table(db, OBSERVATIONS) else 0


def observed_services(db: sqlite_utils.Database) -> list[str]:
    """The services the store holds observations of, sorted."""
    if not _has_table(db, OBSERVATIONS):
        return []
    return [row[0] for row in db.execute(
        f"select distinct service from {OBSERVATIONS} order by 1")]


def last_observation_id(db: sqlite_utils.Database) -> int:
    if not _has_table(db, OBSERVATIONS):
        return 0
    return db.execute(f"select coalesce(max(id), 0) from {OBSERVATIONS}").fetchone()[0]


def last_observed_day(db: sqlite_utils.Database) -> str | None:
    """The UTC day (YYYY-MM-DD) of the newest completed observation, if any."""
    if not _has_table(db, OBSERVATIONS):
        return None
    row = db.execute(
        f"select max(observed_at) from {OBSERVATIONS} where status is not null"
    ).fetchone()
    return row[0][:10] if row and row[0] else None


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


def iter_body_digests(
    db: sqlite_utils.Database, observed_from: str, observed_before: str, upto_id: int
) -> Iterator[tuple[str | None, str | None]]:
    """(request, response) body sha256 of the completed observations with
    ``observed_from <= observed_at < observed_before`` and ``id <= upto_id``."""
    yield from db.execute(
        f"select request_body_sha256, response_body_sha256 from {OBSERVATIONS} "
        "where observed_at >= ? and observed_at < ? and id <= ? and status is not null",
        [observed_from, observed_before, upto_id],
    )


def iter_recent_replies(
    db: sqlite_utils.Database, columns: Sequence[str], service: str, method: str,
    status: int, observed_from: str, observed_to: str, limit: int,
) -> Iterator[dict]:
    """``columns`` of the newest ``limit`` answered requests of one route and status
    (``observed_from <= observed_at <= observed_to``) whose bodies were kept, newest first."""
    for values in db.execute(
        f"select {', '.join(columns)} from {OBSERVATIONS} "
        "where service = ? and method = ? and status = ? "
        "and observed_at >= ? and observed_at <= ? "
        "and coalesce(sampled_out, 0) = 0 and error is null "
        f"order by id desc limit {int(limit)}",
        [service, method, status, observed_from, observed_to],
    ).fetchall():
        yield dict(zip(columns, values, strict=True))


def iter_response_bodies(
    db: sqlite_utils.Database, service: str, method: str, status: int,
    observed_from: str, operation: str | None = None,
) -> Iterator[tuple]:
    """(path, response media type, response body, truncated) of one route and
    status since ``observed_from``, with a body, newest first."""
    sql = ("select path, response_media_type, response_body, response_body_truncated "
           f"from {OBSERVATIONS} where service = ? and method = ? and status = ? "
           "and response_body is not null and observed_at >= ?")
    args = [service, method, status, observed_from]
    if operation:
        sql += " and operation = ?"
        args.append(operation)
    yield from db.execute(sql + " order by id desc", args)


def read_counters(db: sqlite_utils.Database) -> list[dict]:
    """Every recorder run's counters, oldest first; ``detail`` parsed."""
    import json

    if not _has_table(db, COUNTERS):
        return []
    rows = []
    for row in db[COUNTERS].rows_where(order_by="started_at, run_id"):
        row["detail"] = json.loads(row["detail"] or "{}")
        rows.append(row)
    return rows


def iter_websocket_messages(db: sqlite_utils.Database, flow_id: str) -> Iterator[dict]:
    if not _has_table(db, WEBSOCKET_MESSAGES):
        return iter(())
    return db[WEBSOCKET_MESSAGES].rows_where("flow_id = ?", [flow_id], order_by="seq")
