"""Which stub answers which request (``targets/variants.py``), at unit level.

Every target writes the stubs ``service_stubs`` decides: a default per route, exact
stubs for requests the default answers otherwise, records for answers no request
singles out. The peer tests (WireMock, vcrpy, responses, respx) show those stubs
answer real clients; these show the decision itself, on a real store published as
``generate`` publishes it, one rule at a time, each with both sides of its boundary.
"""

from __future__ import annotations

import json

import pytest

from freshmock.generators.model.endpoint import Endpoint
from freshmock.generators.model.exemplars import Exemplar
from freshmock.generators.model.json_bodies import json_body
from freshmock.generators.model.publish import publish
from freshmock.generators.targets.variants import (
    DEFAULT,
    EXACT,
    MAX_EXACT_PER_ROUTE,
    RECORD,
    DuplicateStubError,
    OperationMatch,
    check_distinct,
    dominant_endpoint,
    operation_match,
    service_stubs,
)
from freshmock.proxy.store import insert_observations

from store_kit import new_store, observation_row

_clock = iter(range(10**6))


def row(path: str, status: int = 200, body=None, *, method: str = "GET",
        media_type: str = "application/json", headers: list | None = None,
        request=None, query: str = "", at: int | None = None, **columns) -> dict:
    """One observation of service ``api``; ``at``: seconds after 2026-11-20T10:00."""
    second = next(_clock) if at is None else at
    return observation_row(
        observed_at=f"2026-11-20T{10 + second // 3600:02d}:{second // 60 % 60:02d}:"
                    f"{second % 60:02d}.000000Z",
        service="api", method=method, path=path, status=status,
        body={"path": path, "status": status} if body is None else body,
        media_type=media_type, request=request, query=query,
        request_headers=json.dumps(headers or []), **columns)


def stubs_of(folder, rows: list[dict]):
    folder.mkdir(parents=True, exist_ok=True)
    db = new_store(folder / "store.db")
    insert_observations(db, rows)
    model = publish(db)
    return service_stubs(model, model.endpoints)


def kinds(stubs) -> list[tuple[str, int]]:
    return [(stub.kind, stub.endpoint.status) for stub in stubs]


def default_of(stubs):
    found = [stub for stub in stubs if stub.kind == DEFAULT]
    assert len(found) <= 1
    return found[0] if found else None


# -- the default: the route's most common success ---------------------------------

def test_the_default_is_the_most_common_success_not_the_first_or_the_lowest(tmp_path):
    rows = [row("/orders", 200, {"id": 1}, method="POST", request={"n": 1})] * 2
    rows += [row("/orders", 201, {"id": 2}, method="POST", request={"n": 1})] * 3
    assert default_of(stubs_of(tmp_path, rows)).endpoint.status == 201


def test_between_equally_common_successes_the_lower_status_is_the_default(tmp_path):
    rows = [row("/orders", 201, {"id": 2}, method="POST", request={"n": 1})] * 2
    rows += [row("/orders", 200, {"id": 1}, method="POST", request={"n": 1})] * 2
    assert default_of(stubs_of(tmp_path, rows)).endpoint.status == 200


def test_between_equally_common_media_types_the_first_in_order_is_the_default(tmp_path):
    rows = [row("/report", 200, b"<r/>", media_type="application/xml")] * 2
    rows += [row("/report", 200, {"r": 1})] * 2
    assert default_of(stubs_of(tmp_path, rows)).endpoint.media_type == "application/json"


@pytest.mark.parametrize("status", [400, 404, 500])
def test_an_error_is_never_the_default_however_common(tmp_path, status):
    rows = [row("/items/1", status, {"error": "no"})] * 5 + [row("/items/1", 200, {"id": 1})]
    stubs = stubs_of(tmp_path, rows)
    assert default_of(stubs).endpoint.status == 200
    # the error was the request's usual answer: an exact stub, not the route's default
    assert (EXACT, status) in kinds(stubs)


def test_a_route_with_only_errors_has_no_default(tmp_path):
    stubs = stubs_of(tmp_path, [row("/items/1", 404, {"error": "no"}),
                                row("/items/2", 404, {"error": "no"})])
    assert default_of(stubs) is None
    assert sorted(stub.exemplar.path for stub in stubs) == ["/items/1", "/items/2"]
    assert {stub.kind for stub in stubs} == {EXACT}


def test_a_redirect_is_a_success_and_can_be_the_default(tmp_path):
    stubs = stubs_of(tmp_path, [row("/old", 399, b"", media_type="")])
    assert default_of(stubs).endpoint.status == 399


@pytest.mark.parametrize("status,media_type,header", [
    (101, "", ["Upgrade", "websocket"]),
    (206, "application/json", ["Range", "bytes=0-9"]),
    (304, "", ["If-None-Match", '"v1"']),
    (200, "text/event-stream", ["Accept", "text/event-stream"]),
])
def test_upgrades_ranges_revalidations_and_streams_never_answer_a_plain_request(
        tmp_path, status, media_type, header):
    special = row("/feed", status, b"data: 1\n\n" if media_type == "text/event-stream" else b"",
                  media_type=media_type, headers=[header])
    rows = [special] * 4 + [row("/feed", 200, {"items": []}, media_type="application/json")]
    stubs = stubs_of(tmp_path, rows)
    default = default_of(stubs)
    assert (default.endpoint.status, default.endpoint.media_type) == (200, "application/json")
    (special_stub,) = [stub for stub in stubs if stub is not default]
    assert special_stub.kind == EXACT
    # it answers only a client that asks for it: its header is always a matcher
    assert (header[0], header[1]) in special_stub.match_headers


def test_a_route_of_only_partial_content_has_no_default(tmp_path):
    stubs = stubs_of(tmp_path, [row("/file", 206, {"part": 1}, headers=[["Range", "bytes=0-1"]])])
    assert default_of(stubs) is None


def test_dominant_endpoint_of_nothing_is_none():
    assert dominant_endpoint([]) is None


def test_the_default_does_not_depend_on_the_order_endpoints_come_in():
    def endpoint(status: int, media_type: str | None, observations: int) -> Endpoint:
        return Endpoint("api", "GET", "/r", "", status, media_type, observations=observations)

    tied = [endpoint(200, "application/xml", 2), endpoint(200, "application/json", 2),
            endpoint(200, None, 2)]
    for order in (tied, tied[::-1]):
        assert dominant_endpoint(order).media_type is None  # no body sorts first ("")
    tied = [endpoint(201, "application/json", 2), endpoint(200, "application/xml", 2)]
    for order in (tied, tied[::-1]):
        assert dominant_endpoint(order).status == 200


# -- exact stubs: requests the default answers otherwise --------------------------

def _users(*extra: dict) -> list[dict]:
    """Five requests of one user, the route's common shape: the default replays it."""
    return [row("/users/9", 200, {"id": 9, "name": "ada"})] * 5 + list(extra)


def test_a_request_the_default_already_answers_gets_no_stub_of_its_own(tmp_path):
    stubs = stubs_of(tmp_path, _users())
    assert kinds(stubs) == [(DEFAULT, 200)]
    assert stubs[0].requests == 5


def test_a_request_answered_otherwise_gets_an_exact_stub_for_its_path(tmp_path):
    stubs = stubs_of(tmp_path, _users(row("/users/7", 200, {"id": 7, "team": "core"})))
    assert kinds(stubs) == [(DEFAULT, 200), (EXACT, 200)]
    assert stubs[0].exemplar.path == "/users/9"
    assert stubs[1].exemplar.path == "/users/7"
    assert json.loads(stubs[1].exemplar.response_body) == {"id": 7, "team": "core"}


def test_a_repeated_request_replays_the_answer_it_got_most_often(tmp_path):
    often, once = {"id": 7, "team": "core"}, {"id": 7, "team": "web"}
    stubs = stubs_of(tmp_path, _users(row("/users/7", 200, often, at=100),
                                      row("/users/7", 200, often, at=101),
                                      row("/users/7", 200, once, at=102)))
    (exact,) = [stub for stub in stubs if stub.kind == EXACT]
    assert json.loads(exact.exemplar.response_body) == often
    assert exact.requests == 3  # it stands for every time the request was seen


def test_a_request_answered_twice_as_often_each_way_replays_its_newest_answer(tmp_path):
    older, newer = {"id": 7, "team": "core"}, {"id": 7, "team": "web"}
    for order in ((older, newer), (newer, older)):
        # arrival order is not time order: the row inserted last is the older one
        rows = _users(row("/users/7", 200, order[0], at=200 if order[0] is older else 300),
                      row("/users/7", 200, order[1], at=200 if order[1] is older else 300))
        folder = tmp_path / ("older-first" if order[0] is older else "newer-first")
        (exact,) = [stub for stub in stubs_of(folder, rows) if stub.kind == EXACT]
        assert json.loads(exact.exemplar.response_body) == newer


def test_json_request_bodies_compare_as_values_not_bytes(tmp_path):
    answer = {"hits": ["a"], "cached": True}
    rows = [row("/search", 200, {"hits": []}, method="POST", request={"q": "x", "n": 1})] * 3
    rows += [row("/search", 200, answer, method="POST", request=b'{"q": "y", "n": 2}'),
             row("/search", 200, answer, method="POST", request=b'{"n":2,"q":"y"}')]
    (exact,) = [stub for stub in stubs_of(tmp_path, rows) if stub.kind == EXACT]
    assert exact.requests == 2


def test_queries_compare_in_any_order_and_without_redacted_values(tmp_path):
    answer = {"page": 2, "items": ["b"]}
    rows = [row("/items", 200, {"page": 1, "items": []}, query="page=1")] * 3
    rows += [row("/items", 200, answer, query="page=2&size=5"),
             row("/items", 200, answer, query="size=5&page=2"),
             row("/items", 200, answer, query="size=5&page=2&token=<redacted>")]
    (exact,) = [stub for stub in stubs_of(tmp_path, rows) if stub.kind == EXACT]
    assert exact.requests == 3


@pytest.mark.parametrize("truncated,expected", [(0, [(DEFAULT, 200), (EXACT, 200)]),
                                                (1, [(DEFAULT, 200)])])
def test_a_request_body_cut_at_the_cap_is_never_matched_on(tmp_path, truncated, expected):
    rows = _users(row("/users/7", 200, {"id": 7, "team": "core"}, request={"big": "x"},
                      request_body_truncated=truncated))
    assert kinds(stubs_of(tmp_path, rows)) == expected


def test_past_the_bound_the_most_recently_seen_requests_are_kept(tmp_path):
    # inserted newest first: the row order is not the time order
    seen_at = {f"/users/{n}": 5000 - n for n in range(10, 220)}
    rows = [row(path, 200, {"id": n, "team": f"t{n}"}, at=at)
            for n, (path, at) in enumerate(seen_at.items())]
    stubs = stubs_of(tmp_path, rows)
    candidates = sorted(set(seen_at) - {default_of(stubs).exemplar.path},
                        key=lambda path: -seen_at[path])
    kept = {stub.exemplar.path for stub in stubs if stub.kind == EXACT}
    assert kept == set(candidates[:200])  # each seen once: the 200 newest


def test_the_stub_of_a_repeated_request_replays_its_newest_occurrence(tmp_path):
    answer = {"id": 7, "team": "core"}
    stubs = stubs_of(tmp_path, _users(
        row("/users/7", 200, answer, headers=[["X-Trace", "old"]], at=100),
        row("/users/7", 200, {"id": 7, "team": "web"}, at=200),
        row("/users/7", 200, answer, headers=[["X-Trace", "new"]], at=300)))
    (exact,) = [stub for stub in stubs if stub.kind == EXACT]
    assert json.loads(exact.exemplar.response_body) == answer
    assert exact.exemplar.request_header("X-Trace") == "new"


def test_a_blank_query_parameter_is_part_of_the_request(tmp_path):
    stubs = stubs_of(tmp_path, _users(row("/users/9", 200, {"id": 9, "flagged": True},
                                          query="flag=")))
    (exact,) = [stub for stub in stubs if stub.kind == EXACT]
    assert exact.exemplar.query == "flag="


def test_a_request_with_a_json_type_and_no_body_is_matched_on_its_path(tmp_path):
    stubs = stubs_of(tmp_path, _users(row("/users/7", 200, {"id": 7, "team": "core"},
                                          request_media_type="application/json")))
    assert kinds(stubs) == [(DEFAULT, 200), (EXACT, 200)]


def test_bodies_that_are_not_json_compare_as_bytes_even_when_they_parse(tmp_path):
    rows = [row("/echo", 200, {"echo": None}, method="POST", request=b"x",
                request_media_type="text/plain")] * 3
    rows += [row("/echo", 200, {"echo": "spaced"}, method="POST", request=b'{"n": 1}',
                 request_media_type="text/plain"),
             row("/echo", 200, {"echo": "tight"}, method="POST", request=b'{"n":1}',
                 request_media_type="text/plain")]
    exact = [stub for stub in stubs_of(tmp_path, rows) if stub.kind == EXACT]
    assert len(exact) == 2


def test_a_cut_request_body_is_skipped_and_the_requests_after_it_still_read(tmp_path):
    rows = _users(row("/users/8", 200, {"id": 8, "team": "web"}, at=100),
                  row("/users/7", 200, {"id": 7, "team": "core"}, request={"big": "x"},
                      request_body_truncated=1, at=200))
    (exact,) = [stub for stub in stubs_of(tmp_path, rows) if stub.kind == EXACT]
    assert exact.exemplar.path == "/users/8"


def test_answers_differ_by_the_headers_a_stub_replays_and_only_those(tmp_path):
    def answer(etag: str, date: str, md5: str) -> list:
        return [["content-type", "application/json"], ["ETag", etag], ["Date", date],
                ["Content-MD5", md5]]

    body = {"v": 1}
    rows = [row("/doc/1", 200, body, response_headers=answer('"v1"', f"day {n}", f"m{n}"))
            for n in range(3)]
    # a Date and a checksum (not replayed over a re-serialised body) are no other answer
    rows.append(row("/doc/2", 200, body, response_headers=answer('"v1"', "day 9", "m9")))
    assert kinds(stubs_of(tmp_path / "same", rows)) == [(DEFAULT, 200)]
    rows.append(row("/doc/3", 200, body, response_headers=answer('"v2"', "day 9", "m9")))
    (exact,) = [stub for stub in stubs_of(tmp_path, rows) if stub.kind == EXACT]
    assert exact.exemplar.path == "/doc/3"


def test_three_answers_told_apart_by_one_header_make_it_a_matcher(tmp_path):
    rows = [row("/export", 200, {"rows": [1]}, headers=[["Accept", "application/json"]])] * 3
    rows += [row("/export", 200, b"a,b\n", media_type="text/csv",
                 headers=[["Accept", "text/csv"]]),
             row("/export", 200, b"<rows/>", media_type="application/xml",
                 headers=[["Accept", "application/xml"]])]
    exact = {stub.endpoint.media_type: stub.match_headers
             for stub in stubs_of(tmp_path, rows) if stub.kind == EXACT}
    assert exact == {"text/csv": (("Accept", "text/csv"),),
                     "application/xml": (("Accept", "application/xml"),)}


def test_a_header_whose_values_each_got_every_answer_is_not_a_matcher(tmp_path):
    rows = [row("/doc", 200, {"v": n % 2, "odd": bool(n % 2)},
                headers=[["Accept", ["application/json", "*/*"][n // 2]]], at=100 + n)
            for n in range(4)]
    assert all(stub.match_headers == () for stub in stubs_of(tmp_path, rows))


def test_an_upgrade_answers_only_an_upgrade_even_when_nothing_else_was_seen(tmp_path):
    stubs = stubs_of(tmp_path, [row("/ws", 101, b"", media_type="",
                                    headers=[["Upgrade", "websocket"]])] * 2)
    assert [(stub.kind, stub.match_headers) for stub in stubs] == [
        (EXACT, (("Upgrade", "websocket"),))]


def test_exact_stubs_per_route_are_bounded_keeping_the_most_requested(tmp_path):
    rows = _users()
    rows += [row(f"/users/{n}", 200, {"id": n, "team": f"t{n}"}, at=20_000 + n)
             for n in range(10, 10 + 210)]
    # seen three times, before all the others: kept for how often, not how recently
    rows += [row("/users/500", 200, {"id": 500, "team": "often"}, at=19_000 + k)
             for k in range(3)]
    exact = [stub for stub in stubs_of(tmp_path, rows) if stub.kind == EXACT]
    assert len(exact) == MAX_EXACT_PER_ROUTE == 200  # the documented bound
    assert "/users/500" in {stub.exemplar.path for stub in exact}
    # written in request order, not in the order of how often each was seen
    paths = [stub.exemplar.path for stub in exact]
    assert paths == sorted(paths)


# -- headers: matchers only where they predicted the answer -----------------------

def test_a_header_that_told_answers_apart_is_matched_and_one_that_merely_varied_is_not(
        tmp_path):
    rows = [row("/export", 200, {"rows": [1]}, headers=[["Accept", "application/json"],
                                                         ["User-Agent", f"client/{n}"]])
            for n in range(3)]
    rows.append(row("/export", 200, b"a,b\n", media_type="text/csv",
                    headers=[["Accept", "text/csv"], ["User-Agent", "client/9"]]))
    stubs = stubs_of(tmp_path, rows)
    default = default_of(stubs)
    # Accept is not one a server may ignore: the default requires what its request sent
    assert default.match_headers == (("Accept", "application/json"),)
    (exact,) = [stub for stub in stubs if stub.kind == EXACT]
    assert (exact.endpoint.media_type, exact.match_headers) == ("text/csv",
                                                                (("Accept", "text/csv"),))


def test_a_predictive_header_is_found_whatever_the_requests_before_it(tmp_path):
    rows = [row("/export", 200, {"rows": [1]}, headers=[["Accept", "application/json"]],
                at=100 + n) for n in range(3)]
    rows.append(row("/export", 200, b"a,b\n", media_type="text/csv",
                    headers=[["Accept", "text/csv"]], at=200))
    # newer requests, each always answered alike, are read first: no evidence either way
    rows += [row("/export", 200, {"rows": [n]}, query=f"page={n}", at=300 + n)
             for n in range(3)]
    (csv,) = [stub for stub in stubs_of(tmp_path, rows) if stub.endpoint.media_type == "text/csv"]
    assert csv.match_headers == (("Accept", "text/csv"),)


def test_a_json_request_body_that_does_not_parse_compares_as_bytes(tmp_path):
    answer = {"error": "bad json"}
    rows = [row("/search", 200, {"hits": []}, method="POST", request={"q": "x"})] * 3
    rows += [row("/search", 400, answer, method="POST", request=b"{not json",
                 request_media_type="application/json")] * 2
    (exact,) = [stub for stub in stubs_of(tmp_path, rows) if stub.kind == EXACT]
    assert (exact.endpoint.status, exact.requests) == (400, 2)


def test_a_header_a_server_may_ignore_never_narrows_the_default(tmp_path):
    rows = [row("/doc", 200, {"v": 1})] * 3
    rows += [row("/doc", 304, b"", media_type="", headers=[["If-None-Match", '"v1"']])]
    stubs = stubs_of(tmp_path, rows)
    assert default_of(stubs).match_headers == ()
    (exact,) = [stub for stub in stubs if stub.kind == EXACT]
    assert exact.match_headers == (("If-None-Match", '"v1"'),)


def test_a_header_whose_values_all_got_the_same_answer_is_not_a_matcher(tmp_path):
    rows = [row("/doc", 200, {"v": 1}, headers=[["If-None-Match", f'"v{n}"']])
            for n in range(3)]
    # another request of the route, answered otherwise: its own query tells it apart
    rows.append(row("/doc", 200, {"v": 1, "extra": True}, query="full=1"))
    stubs = stubs_of(tmp_path, rows)
    assert all(stub.match_headers == () for stub in stubs)


def test_a_header_outside_the_candidates_never_pins_a_stub(tmp_path):
    rows = [row("/doc", 200, {"v": 1}, headers=[["X-Tenant", "a"]])] * 3
    rows.append(row("/doc", 200, {"v": 2, "other": True}, headers=[["X-Tenant", "b"]]))
    assert all(stub.match_headers == () for stub in stubs_of(tmp_path, rows))


def test_a_redacted_header_value_is_never_a_matcher(tmp_path):
    rows = [row("/doc", 200, {"v": 1}, headers=[["Prefer", "<redacted>"]])] * 3
    rows.append(row("/doc", 200, {"v": 2, "other": True}, headers=[["Prefer", "<redacted>"]]))
    assert all(stub.match_headers == () for stub in stubs_of(tmp_path, rows))


def test_a_header_name_is_read_whatever_its_case_and_only_its_first_value(tmp_path):
    rows = [row("/export", 200, {"rows": [1]}, headers=[["accept", "application/json"]])] * 3
    rows.append(row("/export", 200, b"a,b\n", media_type="text/csv",
                    headers=[["ACCEPT", "text/csv"], ["Accept", "application/json"]]))
    (exact,) = [stub for stub in stubs_of(tmp_path, rows) if stub.kind == EXACT]
    assert exact.match_headers == (("Accept", "text/csv"),)


# -- records: answers no request singles out --------------------------------------

def test_an_answer_the_same_request_got_less_often_stays_on_record(tmp_path):
    rows = [row("/users/9", 200, {"id": 9})] * 3 + [row("/users/9", 503, {"error": "busy"})]
    stubs = stubs_of(tmp_path, rows)
    assert kinds(stubs) == [(DEFAULT, 200), (RECORD, 503)]
    record = stubs[1]
    assert record.match_headers == () and record.requests == 1


def test_an_endpoint_with_an_exact_stub_is_not_also_a_record(tmp_path):
    stubs = stubs_of(tmp_path, _users(row("/users/404", 404, {"error": "no"})))
    assert kinds(stubs) == [(DEFAULT, 200), (EXACT, 404)]


# -- names and routes --------------------------------------------------------------

def test_stub_names_are_unique_and_say_the_media_type_only_where_it_tells_two_apart(tmp_path):
    rows = _users(row("/users/7", 200, {"id": 7, "team": "core"}),
                  row("/users/8", 200, {"id": 8, "team": "web"}))
    rows += [row("/report", 200, b"<r/>", media_type="application/xml")] * 2
    rows += [row("/report", 200, {"r": 1})] * 3
    names = [stub.name for stub in stubs_of(tmp_path, rows)]
    assert len(set(names)) == len(names)
    assert "GET /report 200 application/json" in names
    assert "GET /report 200 application/xml" in names
    user_names = [name for name in names if "/users/" in name]
    assert user_names == ["GET /users/{user_id} 200", "GET /users/{user_id} 200 #2",
                          "GET /users/{user_id} 200 #3"]


def test_routes_are_written_in_key_order_whatever_the_traffic_order(tmp_path):
    rows = [row("/zebra", 200, {"z": 1}), row("/apple", 200, {"a": 1}),
            row("/mango", 200, {"m": 1}, method="DELETE")]
    order = [stub.endpoint.route for stub in stubs_of(tmp_path, rows)]
    assert order == sorted(order)


def test_two_stubs_matching_the_same_requests_fail_loudly():
    check_distinct([("a", {"url": "/x"}), ("b", {"url": "/y"})], "wiremock")
    with pytest.raises(DuplicateStubError, match="'a' and 'c'"):
        check_distinct([("a", {"url": "/x"}), ("b", {"url": "/y"}), ("c", {"url": "/x"})],
                       "wiremock")
    # the same matchers written in another key order are the same matchers
    with pytest.raises(DuplicateStubError):
        check_distinct([("a", {"url": "/x", "method": "GET"}),
                        ("b", {"method": "GET", "url": "/x"})], "wiremock")


# -- where a request names its operation ------------------------------------------

def _endpoint(operation: str, discriminator: str) -> Endpoint:
    return Endpoint("api", "POST", "/rpc", operation, 200, "application/json", discriminator)


def _exemplar(request: bytes = b"", query: str = "") -> Exemplar:
    return Exemplar(method="POST", path="/graphql", query=query,
                    request_media_type="application/json", request_body=request,
                    request_json=json_body("application/json", request), status=200,
                    response_headers=(), response_media_type="application/json",
                    response_body=b"{}", response_json={})


@pytest.mark.parametrize("discriminator,expected", [
    ("header:X-Amz-Target", OperationMatch("header", "X-Amz-Target", "Op")),
    ("query:Action", OperationMatch("query", "Action", "Op")),
    ("form:Action", OperationMatch("form", "Action", "Op")),
    ("body:action.name", OperationMatch("json", "action.name", "Op")),
    ("jsonrpc", OperationMatch("json", "method", "Op")),
    ("", None),
    ("mystery:thing", None),
    ("attribute:thing", None),  # sorts before "body": not taken for one
])
def test_each_discriminator_becomes_the_field_a_target_matches(discriminator, expected):
    assert operation_match(_endpoint("Op", discriminator), _exemplar()) == expected


def test_an_endpoint_without_an_operation_matches_no_field():
    assert operation_match(_endpoint("", "header:X-Amz-Target"), _exemplar()) is None


def test_a_graphql_operation_is_matched_by_its_operation_name_when_the_client_sends_one():
    request = json.dumps({"operationName": "GetUser",
                          "query": "query GetUser { user { id } }"}).encode()
    assert operation_match(_endpoint("GetUser", "graphql"), _exemplar(request)) == \
        OperationMatch("json", "operationName", "GetUser")


def test_a_graphql_batch_is_told_apart_by_its_exact_body_not_an_operation():
    assert operation_match(_endpoint("A,B", "graphql"), _exemplar(b"[]")) is None


@pytest.mark.parametrize("document,asked,not_asked", [
    ("query GetUser($id: ID!) { user(id: $id) { id } }",
     "query GetUser { user { name } }", "query GetUsers { users { id } }"),
    ("{ users(first: 2) { id } }", "{users{name}}", "{ usersCount }"),
    ("query { me: users { id } }", "{ me:users { id } }", "{ me: other { users } }"),
])
def test_a_graphql_document_without_an_operation_name_is_matched_by_a_pattern(
        document, asked, not_asked):
    import re

    operation = "GetUser" if document.startswith("query GetUser") else "users"
    match = operation_match(_endpoint(operation, "graphql"),
                            _exemplar(json.dumps({"query": document}).encode()))
    assert (match.source, match.name, match.value) == ("json", "query", operation)
    assert re.fullmatch(match.pattern, asked)
    assert not re.fullmatch(match.pattern, not_asked)


def test_a_graphql_query_over_get_is_matched_in_the_query_string():
    match = operation_match(_endpoint("users", "graphql"),
                            _exemplar(query="query=%7B%20users%20%7B%20id%20%7D%20%7D"))
    assert (match.source, match.name) == ("query", "query")
    assert match.pattern is not None
