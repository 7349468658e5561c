"""Fuzzing the capture path: arbitrary bodies, headers and content-encodings (valid,
stacked, corrupt, cut short) never raise out of row building, and never keep more
than the cap."""

from __future__ import annotations

import gzip
import json
import pickle
import sqlite3
import tempfile
import zlib
from contextlib import closing
from pathlib import Path

import brotli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mitmproxy import http
from mitmproxy.test import tflow

from freshmock.proxy.bodies import zstd
from freshmock.proxy.capture import Capture, capture_flow
from freshmock.proxy.rows import build_observation, sample
from freshmock.proxy.sampling import Sampler
from freshmock.proxy.worker import Worker, WorkerSettings

CAP = 2048

ENCODE = {
    "gzip": lambda data: gzip.compress(data, mtime=0),
    "x-gzip": lambda data: gzip.compress(data, mtime=0),
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstd.compress(data),
    "identity": lambda data: data,
}

MEDIA_TYPES = [
    "application/json", "application/json; charset=utf-8", "application/problem+json",
    "application/x-www-form-urlencoded", "text/plain", "text/event-stream", "image/png",
    "application/octet-stream", "application/x-protobuf", "", "garbage/;;;",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)

raw_bodies = st.one_of(
    st.binary(max_size=5000),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.integers(0, 400_000).map(lambda n: b"\0" * n),  # compresses into a small bomb
)


@st.composite
def encoded_bodies(draw):
    """``(content-encoding header, body as sent, size as received)``."""
    body = draw(raw_bodies)
    chain = draw(st.lists(st.sampled_from(sorted(ENCODE)), max_size=2))
    for encoding in chain:
        body = ENCODE[encoding](body)
    header = ", ".join(chain)
    damage = draw(st.sampled_from(["none", "none", "flip", "cut", "lie"]))
    if damage == "flip" and body:
        at = draw(st.integers(0, len(body) - 1))
        body = body[:at] + bytes([body[at] ^ 0xFF]) + body[at + 1:]
    elif damage == "cut":
        body = body[: draw(st.integers(0, len(body)))]
    elif damage == "lie":
        header = draw(st.sampled_from(["gzip", "br", "zstd", "deflate", "compress", "gzip, br",
                                       " GZIP ", "x-unknown"]))
    size = len(body)
    if len(body) > CAP:  # what capture_flow keeps
        body = body[:CAP]
    return header, body, size


header_names = st.binary(min_size=1, max_size=20).filter(lambda b: b":" not in b)
header_lists = st.lists(st.tuples(header_names, st.binary(max_size=60)), max_size=6)


@st.composite
def captures(draw):
    request_encoding, request_body, request_size = draw(encoded_bodies())
    response_encoding, response_body, response_size = draw(encoded_bodies())

    def headers(encoding):
        fields = draw(header_lists)
        fields.append((b"Content-Type", draw(st.sampled_from(MEDIA_TYPES)).encode()))
        if encoding:
            fields.append((b"Content-Encoding", encoding.encode("latin-1")))
        return tuple(fields)

    return Capture(
        flow_id=draw(st.text(max_size=36)),
        service=draw(st.text(max_size=20)),
        started_at=draw(st.floats(0, 4e9)),
        ended_at=draw(st.none() | st.floats(0, 4e9)),
        method=draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "X-ODD"])),
        scheme="http", host="upstream", port=80,
        # mitmproxy decodes paths with surrogateescape: bytes that are not UTF-8
        # arrive as lone surrogates
        path=draw(st.text(min_size=1, max_size=80) | st.binary(max_size=40).map(
            lambda b: "/" + b.decode("utf-8", "surrogateescape"))),
        request_headers=headers(request_encoding),
        request_body=draw(st.none()) if draw(st.booleans()) else request_body,
        request_body_size=request_size,
        status=draw(st.none() | st.integers(100, 599)),
        response_headers=headers(response_encoding),
        response_body=response_body,
        response_body_size=response_size,
        response_streamed=draw(st.booleans()),
        error=draw(st.none() | st.text(max_size=40)),
    )


def _check_row(row: dict) -> None:
    for side in ("request", "response"):
        body = row[f"{side}_body"]
        assert body is None or len(body) <= CAP
        assert row[f"{side}_body_truncated"] in (0, 1)
        json.loads(row[f"{side}_headers"])
    assert isinstance(row["path"], str) and row["sampled_out"] in (0, 1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(captures())
def test_row_building_never_raises_and_respects_the_cap(capture):
    observation = build_observation(capture, CAP)
    _check_row(observation.row)
    sample(observation, Sampler(budget=1), capture.started_at)
    sample(observation, Sampler(budget=1), capture.started_at)
    _check_row(observation.row)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    request_fields=header_lists,
    response_fields=header_lists,
    request_body=st.none() | st.binary(max_size=3 * CAP),
    response_body=st.none() | st.binary(max_size=3 * CAP),
    path=st.binary(max_size=40),
)
def test_real_flows_capture_pickle_and_build_rows(
    request_fields, response_fields, request_body, response_body, path
):
    """The hook's copy of a real mitmproxy flow survives the trip to the worker."""
    flow = tflow.tflow(resp=True)
    flow.request.path = b"/" + path
    flow.request.headers = http.Headers(request_fields)
    flow.request.raw_content = request_body
    flow.response.headers = http.Headers(response_fields)
    flow.response.raw_content = response_body
    capture = capture_flow(flow, "svc", CAP)
    assert capture.request_body is None or len(capture.request_body) <= CAP
    assert capture.weight <= 2 * CAP + 512
    copied = pickle.loads(pickle.dumps([capture], protocol=pickle.HIGHEST_PROTOCOL))[0]
    assert copied == capture
    row = build_observation(copied, CAP).row
    _check_row(row)
    row["path"].encode("utf-8")  # storable as SQLite text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(captures(), min_size=1, max_size=8))
def test_the_worker_writes_whatever_it_is_given(batch):
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "store.db"
        worker = Worker(WorkerSettings(str(db), "run", 0.0, 1, max_body=CAP, body_budget=2))
        worker.process(batch, {"seen": len(batch)})
        worker.finish({"seen": len(batch)})
        assert worker.counters["recorded"] == len(batch), dict(worker.counters)
        assert not any(key.startswith("errors.") for key in worker.counters)
        # the rows themselves, not only the counters: one per capture, in order, whole
        with closing(sqlite3.connect(db)) as connection:
            connection.row_factory = sqlite3.Row
            stored = [dict(row) for row in connection.execute(
                "select * from observations order by id")]
        assert [(row["method"], row["status"]) for row in stored] == [
            (capture.method, capture.status) for capture in batch]
        for row in stored:
            _check_row(row)
