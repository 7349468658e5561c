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

import sqlite_utils

DEFAULT_DB = Path("recordings") / "freshmock.db"
SQLITE_HEADER = b"SQLite format 3\x00"

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
}

ENDPOINT_COLUMNS = {
    "service": str,
    "method": str,
    "path_template": str,
    "status": int,
    "media_type": str,
    "observations": int,
    "first_seen": str,
    "last_seen": str,
    "request_schema": str,  # JSON Schema text, or null when no JSON body was seen
    "response_schema": str,
    "exemplar_id": int,  # observations.id of the response the stubs replay
}
ENDPOINT_KEY = ("service", "method", "path_template", "status", "media_type")


class StoreError(Exception):
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
    with open(path, "rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise StoreError(f"{path} is not an SQLite database")


def open_store(path: str | os.PathLike, must_exist: bool = True) -> sqlite_utils.Database:
    """Open (or create) a store and make sure its tables exist."""
    path = Path(path)
    check_store_file(path, must_exist)
    try:
        connection = sqlite3.connect(path, timeout=10)
        db = sqlite_utils.Database(connection)
        db.execute("PRAGMA busy_timeout = 10000")
        if db.journal_mode != "wal":
            db.enable_wal()
        ensure_tables(db)
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path} is not a usable SQLite store: {error}") from None
    return db


def ensure_tables(db: sqlite_utils.Database) -> None:
    if not db[OBSERVATIONS].exists():
        db[OBSERVATIONS].create(OBSERVATION_COLUMNS, pk="id")
        db[OBSERVATIONS].create_index(["service", "method", "path"])
        db[OBSERVATIONS].create_index(["observed_at"])
    if not db[ENDPOINTS].exists():
        db[ENDPOINTS].create(ENDPOINT_COLUMNS, pk=ENDPOINT_KEY)


def insert_observations(db: sqlite_utils.Database, rows: list[dict]) -> None:
    """Append rows in one transaction: a crash leaves all or none of them."""
    with db.conn:
        db[OBSERVATIONS].insert_all(rows, batch_size=len(rows) or 1)


def iter_observations(db: sqlite_utils.Database, completed_only: bool = True) -> Iterator[dict]:
    where = "status is not null" if completed_only else None
    yield from db[OBSERVATIONS].rows_where(where, order_by="id")


def get_observation(db: sqlite_utils.Database, observation_id: int) -> dict:
    return db[OBSERVATIONS].get(observation_id)


def count_observations(db: sqlite_utils.Database) -> int:
    return db[OBSERVATIONS].count


def replace_endpoints(db: sqlite_utils.Database, rows: Iterable[dict]) -> None:
    """Swap the derived endpoint table in one transaction."""
    with db.conn:
        db[ENDPOINTS].delete_where()
        db[ENDPOINTS].insert_all(rows)


def list_endpoints(db: sqlite_utils.Database, service: str | None = None) -> list[dict]:
    where, args = ("service = ?", [service]) if service else (None, None)
    return list(db[ENDPOINTS].rows_where(where, args, order_by=", ".join(ENDPOINT_KEY)))
