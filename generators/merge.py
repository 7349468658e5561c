"""Combine stores from many sidecars into one.

Only observations are copied: everything else in a store is derived from
them and is rebuilt by ``infer``. An observation's identity is a hash of what
was observed (time, route, status, bodies), so merging the same input twice,
or a store into a copy of itself, adds nothing: merge is idempotent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from freshmock.proxy.store import OBSERVATIONS, insert_observations, open_store

IDENTITY_COLUMNS = (
    "observed_at", "service", "method", "scheme", "host", "port", "path", "query",
    "status", "request_headers", "request_body", "response_headers", "response_body", "error",
)
BATCH = 500


def observation_identity(row: dict) -> bytes:
    digest = hashlib.sha256()
    for column in IDENTITY_COLUMNS:
        value = row.get(column)
        if isinstance(value, str):
            value = value.encode("utf-8", "surrogatepass")
        elif value is not None and not isinstance(value, bytes):
            value = str(value).encode()
        digest.update(b"\x00" if value is None else b"\x01" + len(value).to_bytes(8, "big") + value)
    return digest.digest()


@dataclass
class MergeResult:
    source: Path
    read: int = 0
    added: int = 0


def merge_stores(
    out_path: Path,
    in_paths: Iterable[Path],
    progress: Callable[[MergeResult], None] | None = None,
) -> list[MergeResult]:
    """Append every observation of ``in_paths`` not already in ``out_path``."""
    sources = [Path(p) for p in in_paths]
    out_db = open_store(out_path, must_exist=False)
    try:
        seen = {observation_identity(row) for row in out_db[OBSERVATIONS].rows}
        results = []
        for source in sources:
            if source.resolve() == Path(out_path).resolve():
                results.append(MergeResult(source))
                continue
            in_db = open_store(source)
            try:
                results.append(_merge_one(out_db, in_db, source, seen, progress))
            finally:
                in_db.close()
        return results
    finally:
        out_db.close()


def _merge_one(
    out_db: sqlite_utils.Database, in_db: sqlite_utils.Database, source: Path, seen: set,
    progress,
) -> MergeResult:
    result = MergeResult(source)
    batch: list[dict] = []
    for row in in_db[OBSERVATIONS].rows_where(order_by="id"):
        result.read += 1
        identity = observation_identity(row)
        if identity in seen:
            continue
        seen.add(identity)
        row.pop("id")
        batch.append(row)
        if len(batch) >= BATCH:
            _flush(out_db, batch, result, progress)
    _flush(out_db, batch, result, progress)
    return result


def _flush(out_db, batch: list[dict], result: MergeResult, progress) -> None:
    if batch:
        insert_observations(out_db, batch)
        result.added += len(batch)
        batch.clear()
    if progress is not None:
        progress(result)
