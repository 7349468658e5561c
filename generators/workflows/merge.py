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

from freshmock.generators.workflows.atomic_output import staged
from freshmock.proxy.store import (
    add_observation_rows,
    check_store_file,
    iter_observations,
    open_store,
)

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
    progress: Callable[[int], None] | None = None,
) -> list[MergeResult]:
    """Append every observation of ``in_paths`` not already in ``out_path``.

    All or nothing: the rows go in one transaction, so an interrupted merge
    adds none of them; an ``out_path`` that did not exist is built beside its
    place and moved in at the end. ``progress`` hears how many rows were read.
    """
    sources = [Path(p) for p in in_paths]
    out_path = Path(out_path)
    for source in sources:  # every input is a readable freshmock store before OUT is touched
        if not (out_path.exists() and source.resolve() == out_path.resolve()):
            open_store(source, read_only=True).close()
    check_store_file(out_path, must_exist=False)
    with staged() as stage:
        building = out_path if out_path.exists() else stage.file(out_path)
        out_db = open_store(building, must_exist=False)
        try:
            seen = {observation_identity(row)
                    for row in iter_observations(out_db, completed_only=False)}
            results: list[MergeResult] = []
            out_db.conn.execute("BEGIN IMMEDIATE")
            try:
                for source in sources:
                    if out_path.exists() and source.resolve() == out_path.resolve():
                        results.append(MergeResult(source))
                        continue
                    in_db = open_store(source, read_only=True)
                    try:
                        results.append(_merge_one(out_db, in_db, source, seen, results,
                                                  progress))
                    finally:
                        in_db.close()
            except BaseException:
                out_db.conn.rollback()
                raise
            out_db.conn.commit()
        finally:
            out_db.close()  # the last connection: the WAL is folded in and removed
    return results


def _merge_one(
    out_db: sqlite_utils.Database, in_db: sqlite_utils.Database, source: Path, seen: set,
    earlier: list[MergeResult], progress,
) -> MergeResult:
    result = MergeResult(source)
    batch: list[dict] = []
    for row in iter_observations(in_db, completed_only=False):
        result.read += 1
        identity = observation_identity(row)
        if identity in seen:
            continue
        seen.add(identity)
        batch.append(row)
        if len(batch) >= BATCH:
            _flush(out_db, batch, result)
            if progress is not None:
                progress(sum(r.read for r in earlier) + result.read)
    _flush(out_db, batch, result)
    return result


def _flush(out_db, batch: list[dict], result: MergeResult) -> None:
    add_observation_rows(out_db.conn, batch)  # inside the one transaction: no commit
    result.added += len(batch)
    batch.clear()
