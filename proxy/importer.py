"""Import existing captures (HAR files, mitmproxy flow files) into a store.

Imported traffic takes the live recorder's road from the capture on: the
readers (proxy/har_reader.py, proxy/flow_file_reader.py) produce the same
``Capture`` tuples as the recorder's hooks, and rows are built, redacted,
hashed and sampled by proxy/rows.py exactly as the worker does. There is no
second redaction path.

All or nothing: every file is read and every row built before the store is
opened (or created), and the rows of all files go in as one transaction. A
malformed file raises ``CaptureFileError`` naming the file and the entry,
and the store is left as it was.

Choices a user would otherwise have to guess:

- Observed time is the exchange's own (HAR ``startedDateTime``, a flow's
  ``timestamp_start``), so imported traffic lands on the days it happened.
- Every body is kept unless a budget is given: an import is a deliberate,
  finite sample, unlike a sidecar that runs for weeks.
- Importing is idempotent: an exchange whose flow id is already in the store
  (imported before, or recorded live by a sidecar that ran beside
  ``mitmdump -w``) is skipped and counted.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from freshmock.proxy.bodies import DEFAULT_MAX_BODY
from freshmock.proxy.capture import Capture
from freshmock.proxy.har_reader import read_har
from freshmock.proxy.import_errors import CaptureFileError
from freshmock.proxy.redaction import DEFAULT_RULES, RedactionRules, Redactor
from freshmock.proxy.rows import Observation, build_observation, sample, websocket_row
from freshmock.proxy.sampling import Sampler
from freshmock.proxy.store import OBSERVATIONS, StoreError, append_capture_batch, open_store

HAR = "HAR"
FLOWS = "mitmproxy flows"
_HAR_SUFFIXES = (".har", ".json")


@dataclass
class FileResult:
    """What one input file held and what of it went into the store."""

    path: Path
    kind: str  # HAR or FLOWS
    exchanges: int = 0  # HTTP exchanges read
    imported: int = 0  # observations written
    already_stored: int = 0  # skipped: their flow id is in the store (or an earlier file)
    sampled_out: int = 0  # written without bodies: over --body-budget
    redacted: int = 0  # header and query values replaced (as the recorder counts them)
    websocket_messages: int = 0  # written
    skipped: Counter[str] = field(default_factory=Counter)  # flows the recorder never records


@dataclass
class BuiltFile:
    """One file's rows, built and redacted, not yet written."""

    result: FileResult
    observations: list[tuple[Capture, Observation]]
    messages: list[dict]


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CaptureFileError(path, "no such file") from None
    except IsADirectoryError:
        raise CaptureFileError(path, "is a directory, not a capture file") from None
    except OSError as error:
        raise CaptureFileError(path, f"cannot be read ({error.strerror})") from None


def _is_har(path: Path, data: bytes) -> bool:
    """JSON (what mitmproxy's own reader also takes for a HAR) or named like a HAR."""
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    return head == b"{" or path.suffix.lower() in _HAR_SUFFIXES


def read_capture_file(
    path: Path, service: str = "", max_body: int = DEFAULT_MAX_BODY
) -> tuple[FileResult, list, list]:
    """``(result, [(label, Capture)...], [WebSocketCapture...])`` for one file of either kind."""
    path = Path(path)
    data = _read_bytes(path)
    if path.suffix.lower() == ".zhar":  # mitmproxy's save.har compresses to .zhar
        try:
            data = zlib.decompress(data)
        except zlib.error:
            raise CaptureFileError(path, "not a zlib-compressed HAR file") from None
    if _is_har(path, data):
        captures = read_har(path, data, service, max_body)
        return FileResult(path, HAR, exchanges=len(captures)), captures, []
    del data  # mitmproxy's reader streams the file itself
    # mitmproxy loads only when a flow file is imported.
    from freshmock.proxy.flow_file_reader import read_flow_file

    contents = read_flow_file(path, service, max_body)
    result = FileResult(path, FLOWS, exchanges=len(contents.captures), skipped=contents.skipped)
    return result, contents.captures, contents.messages


def _build(path: Path, captures: list, messages: list, redactor: Redactor, max_body: int):
    observations = []
    for where, capture in captures:
        try:
            observations.append((capture, build_observation(capture, max_body, redactor)))
        except Exception as error:  # the worker counts such a capture lost; here it stops all
            problem = f"cannot be turned into a row ({type(error).__name__})"
            raise CaptureFileError(path, problem, where) from None
    rows = []
    for message in messages:
        try:
            rows.append(websocket_row(message, redactor))
        except Exception as error:
            problem = f"WebSocket message {message.seq} cannot be stored ({type(error).__name__})"
            raise CaptureFileError(path, problem) from None
    return observations, rows


def read_captures(
    paths: Iterable[Path],
    service: str = "",
    rules: RedactionRules = DEFAULT_RULES,
    max_body: int = DEFAULT_MAX_BODY,
) -> list[BuiltFile]:
    """Read every file and build (and redact) every row, touching no store."""
    redactor = Redactor(rules)
    built = []
    for path in paths:
        result, captures, messages = read_capture_file(Path(path), service, max_body)
        observations, rows = _build(result.path, captures, messages, redactor, max_body)
        built.append(BuiltFile(result, observations, rows))
    return built


def _stored_flow_ids(db, wanted: set[str]) -> set[str]:
    """Which of ``wanted`` the store already holds (one scan, whatever its size)."""
    if not wanted:
        return set()
    cursor = db.execute(f"select distinct flow_id from {OBSERVATIONS} where flow_id is not null")
    return {flow_id for (flow_id,) in cursor if flow_id in wanted}


def _new_rows(db, built: list[BuiltFile]):
    """Observations (with their file's result) and WebSocket rows whose flow ids are new."""
    wanted = {capture.flow_id for item in built for capture, _ in item.observations}
    seen = _stored_flow_ids(db, wanted)
    fresh: list[tuple[Capture, Observation, FileResult]] = []
    messages: list[dict] = []
    for item in built:
        result = item.result
        new_ids = set()
        for capture, observation in item.observations:
            if capture.flow_id in seen:  # stored before, or earlier on this command line
                result.already_stored += 1
                continue
            seen.add(capture.flow_id)
            new_ids.add(capture.flow_id)
            fresh.append((capture, observation, result))
        for row in item.messages:
            if row["flow_id"] in new_ids:
                messages.append(row)
                result.websocket_messages += 1
    return fresh, messages


def write_captures(db_path: Path, built: list[BuiltFile], body_budget: int = 0) -> list[FileResult]:
    """Append what ``read_captures`` built, skipping flow ids already stored, in one transaction.

    ``body_budget``: bodies kept per endpoint per hour of observation time,
    as the recorder's ``freshmock_body_budget``; 0 keeps every body.
    """
    db = open_store(db_path, must_exist=False)
    try:
        fresh, messages = _new_rows(db, built)
        # Sampling budgets run per hour of observation time: feed it in time order.
        fresh.sort(key=lambda entry: entry[0].started_at)
        sampler = Sampler(body_budget)
        for capture, observation, result in fresh:
            if not sample(observation, sampler, capture.started_at):
                result.sampled_out += 1
            result.imported += 1
            result.redacted += observation.redacted
        append_capture_batch(db, [observation.row for _, observation, _ in fresh], messages)
    except sqlite3.Error as error:  # rolled back: nothing of this import is in the store
        raise StoreError(f"cannot write to {db_path}: {error}") from None
    finally:
        db.close()
    return [item.result for item in built]


def import_files(
    db_path: Path,
    paths: Iterable[Path],
    service: str = "",
    rules: RedactionRules = DEFAULT_RULES,
    body_budget: int = 0,
    max_body: int = DEFAULT_MAX_BODY,
) -> list[FileResult]:
    """Read, redact and append every exchange of ``paths``, or nothing at all."""
    return write_captures(db_path, read_captures(paths, service, rules, max_body), body_budget)
