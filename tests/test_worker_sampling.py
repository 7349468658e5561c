"""The worker decides a body's fate from its shape before it redacts anything.

Driven in-process (a Worker writing a real SQLite store), no network: the
sampler must keep every new shape even when it hides among thousands of
alike bodies, kept bodies must be stored byte for byte (or redacted), and
sampled-out bodies must never be redacted at all.
"""

from __future__ import annotations

import gzip
import json
import sqlite3

from freshmock.proxy.capture import Capture
from freshmock.proxy.redaction import Redactor
from freshmock.proxy.worker import Worker, WorkerSettings

JSON = ((b"content-type", b"application/json"),)


def capture(n: int, body: bytes, headers=JSON, path: str = "/orders") -> Capture:
    at = 1_800_000_000.0 + n * 0.001  # 10,000 captures fit in one hour: one budget
    return Capture(
        f"flow-{n}", "shop", at, at + 0.002, "GET", "http", "127.0.0.1", 80, path,
        ((b"host", b"shop"), (b"accept", b"*/*")), None, None, 200,
        headers, body, len(body), False, None,
    )


def worker(tmp_path, budget: int) -> Worker:
    return Worker(WorkerSettings(str(tmp_path / "store.db"), "run", 0.0, 1, body_budget=budget))


def stored(tmp_path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "store.db") as conn:
        return conn.execute(
            "select flow_id, sampled_out, response_body, response_body_sha256, "
            "response_body_size from observations order by id"
        ).fetchall()


def alike(n: int) -> bytes:
    return json.dumps({"id": n, "total": n * 3 + 0.5, "items": [{"sku": f"S{n}", "qty": n % 7}],
                       "status": "paid"}).encode()


def test_a_rare_shape_among_10000_alike_bodies_is_kept(tmp_path):
    rare_at = 7_777
    rare = json.dumps({"id": rare_at, "total": 1.5, "items": [], "status": "refunded",
                       "refund": {"reason": "damaged", "amount": 1.5}}).encode()
    captures = [capture(n, rare if n == rare_at else alike(n)) for n in range(10_000)]
    w = worker(tmp_path, budget=100)
    for start in range(0, len(captures), 500):
        w.process(captures[start:start + 500], {})
    rows = stored(tmp_path)
    assert len(rows) == 10_000
    kept = [flow for flow, sampled_out, *_ in rows if not sampled_out]
    # the budget's 100, plus the rare one (the "items": [] of the rare body is a new
    # shape too, but it is the same body)
    assert kept == [f"flow-{n}" for n in range(100)] + [f"flow-{rare_at}"]
    by_flow = {row[0]: row for row in rows}
    assert by_flow[f"flow-{rare_at}"][2] == rare  # stored byte for byte
    assert w.counters["sampled_out"] == 10_000 - 101
    # sampled-out rows keep their metadata, not the body nor a hash of it
    assert all(body is None and digest is None and size > 0
               for _, sampled_out, body, digest, size in rows if sampled_out)


def test_kept_bodies_are_stored_byte_for_byte_big_integers_and_all(tmp_path):
    # spacing, key order, escapes and a 100-bit integer a float could not hold
    text = (b'{ "id" : 1267650600228229401496703205377,\n  "name": "caf\\u00e9",'
            b' "n": [1.10, 2e3, -0], "z": 1 }')
    gzipped = gzip.compress(text, mtime=0)
    w = worker(tmp_path, budget=10)
    w.process([capture(0, text), capture(1, gzipped, JSON + ((b"content-encoding", b"gzip"),))],
              {})
    assert [row[2] for row in stored(tmp_path)] == [text, text]


def test_a_kept_body_with_a_secret_is_redacted_exactly_as_before(tmp_path):
    text = (b'{"id": 1267650600228229401496703205377, "password": "hunter2-hunter2",'
            b' "token": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}')
    w = worker(tmp_path, budget=10)
    w.process([capture(0, text)], {})
    [(_, sampled_out, body, digest, _)] = stored(tmp_path)
    assert not sampled_out
    # the same bytes the redactor produces on its own (json.loads + redact + dumps)
    assert body == Redactor().redact_body("application/json", text)
    assert b"1267650600228229401496703205377" in body
    assert b"hunter2" not in body and b"sk_live" not in body
    assert digest is not None


def test_sampled_out_bodies_are_never_redacted(tmp_path, monkeypatch):
    calls = []
    original = Redactor.redact_body

    def counting(self, media_type, data, *args):
        calls.append(data)
        return original(self, media_type, data, *args)

    monkeypatch.setattr(Redactor, "redact_body", counting)
    w = worker(tmp_path, budget=5)
    w.process([capture(n, alike(n)) for n in range(200)], {})
    assert len(calls) == 5  # the budget's bodies, and no other
    assert w.counters["sampled_out"] == 195


def test_the_same_bytes_again_are_shaped_from_memory_not_parsed(tmp_path, monkeypatch):
    from freshmock.proxy import rows as rows_module

    parses = []
    original = rows_module.parse_or_invalid
    monkeypatch.setattr(rows_module, "parse_or_invalid",
                        lambda data: parses.append(1) or original(data))
    body = gzip.compress(alike(1), mtime=0)
    headers = JSON + ((b"content-encoding", b"gzip"),)
    w = worker(tmp_path, budget=3)
    w.process([capture(n, body, headers) for n in range(50)], {})
    # the first sight parses; the two more kept ones decode again to be redacted
    assert len(parses) == 3
    assert [row[1] for row in stored(tmp_path)] == [0, 0, 0] + [1] * 47
