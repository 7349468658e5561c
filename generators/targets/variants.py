"""Which stubs answer which requests: the one home every target asks.

A *route* is what one request line can reach: method, path template and the
operation an RPC or GraphQL API routes by (``endpoint.operation``, "" when
the API routes by path only). A route's endpoints are its statuses and media
types. Every target writes, per route:

- the **default** stub: the route's most common success (status < 400; ties go
  to the lower status, then the media type), answering any request of the
  route. A WebSocket handshake (101), a server-sent event stream, a 206 or a
  304 is never a default: it answers only a client that asks for one. A route with no
  success has no default, so an error never answers a request it was not
  recorded for;
- **exact** stubs: one per distinct recorded request (its concrete path,
  query, body and the headers that predicted the answer) whose recorded
  answer is not what the default gives; each answers only requests like it;
- **record** stubs: a recorded response that no request feature singles out
  (the same request was answered otherwise more often) is kept as a record,
  reachable only by naming it (``X-Freshmock-Variant``), never by accident.

A request header is a matcher of a route only when it *predicted* an answer
in the recordings: two requests alike in path, query and body but for that
header got different answers (``Range`` → 206, ``If-None-Match`` → 304,
``Accept`` → another media type, ``X-Amz-Target`` → another operation).
Headers that merely varied (``User-Agent``, tracing ids) never pin a stub.
The recorded answer of a request seen several times is the one it got most
often (ties: the newest).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl

from freshmock.generators.model.endpoint import Endpoint, Model, Recordings
from freshmock.generators.model.exemplars import Exemplar
from freshmock.generators.model.media_types import is_event_stream, is_json_media_type
from freshmock.generators.targets.stub_headers import replayed_headers
from freshmock.proxy.errors import ExitCode, FreshmockError
from freshmock.proxy.redaction import is_redacted

DEFAULT, EXACT, RECORD = "default", "exact", "record"
# Request headers that can change the answer for the same path and body
# (ranges, conditional requests, content negotiation, header-routed RPC,
# protocol upgrades). Only these are candidates; a header outside the list
# would pin a stub to one client.
CANDIDATE_HEADERS = ("Accept", "If-Match", "If-Modified-Since", "If-None-Match",
                     "If-Range", "If-Unmodified-Since", "Prefer", "Range", "SOAPAction",
                     "Upgrade", "X-Amz-Target", "X-HTTP-Method-Override")
# Headers a server may ignore (RFC 9110 §13.1, §14.2): the default's full answer
# is still a right one for them, so a default never requires their absence. Other
# predictive headers (Accept, X-Amz-Target...) a default requires as its request sent them.
IGNORABLE_HEADERS = frozenset({"If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
                               "If-Unmodified-Since", "Range", "Prefer"})
# What a target sends to reach a record stub by name.
VARIANT_HEADER = "X-Freshmock-Variant"
# Exact stubs per route (of up to MAX_ROWS_PER_ENDPOINT requests read per
# endpoint, model/publish.py): enough for every request of a test workload,
# bounded for a busy dependency.
MAX_EXACT_PER_ROUTE = 200
SWITCHING_PROTOCOLS = 101
PARTIAL_CONTENT, NOT_MODIFIED = 206, 304
ONLY_ON_REQUEST = frozenset({SWITCHING_PROTOCOLS, PARTIAL_CONTENT, NOT_MODIFIED})


class DuplicateStubError(FreshmockError):
    """Two stubs of one target would answer the same requests at one priority."""

    # a bug of freshmock's, said loudly rather than a wrong answer served
    exit_code = ExitCode.CHECK_FAILED


@dataclass(frozen=True)
class OperationMatch:
    """Where a request names its operation, as a target can match it.

    ``source``: "header" (a header's value), "query" (a query parameter),
    "form" (a field of a form body) or "json" (a field of a JSON body, dotted
    for nested ones). ``pattern``: instead of equalling ``value``, the field
    matches this regular expression (whole): a GraphQL document that names
    the operation itself, without an ``operationName``.
    """

    source: str
    name: str
    value: str
    pattern: str | None = None


@dataclass(frozen=True)
class Stub:
    kind: str  # DEFAULT, EXACT or RECORD
    endpoint: Endpoint
    exemplar: Exemplar
    match_headers: tuple[tuple[str, str | None], ...] = ()  # (name, value); None: absent
    requests: int = 0  # recorded requests this stub stands for
    name: str = ""  # unique within the service: the endpoint's name, then a number
    operation: OperationMatch | None = None  # every stub of an operation's route matches it
    observation_id: int | None = None  # the row it replays (exports carry these rows)


@dataclass
class _Request:
    row_id: int
    endpoint_index: int
    observed_at: str
    path: str
    query: tuple
    body: str  # digest of the request body
    headers: dict[str, str]  # candidate headers the request sent, by canonical name
    answer: tuple  # (status, media type, body digest)
    features: dict = field(default_factory=dict)


def operation_match(endpoint: Endpoint, exemplar: Exemplar) -> OperationMatch | None:
    """How the endpoint's operation shows in a request (``endpoint.discriminator``)."""
    operation = endpoint.operation or ""
    source = endpoint.discriminator or ""
    if not operation or not source:
        return None
    kind, _, name = source.partition(":")
    if kind in ("header", "query", "form"):
        return OperationMatch(kind, name, operation)
    if kind == "body":
        return OperationMatch("json", name, operation)
    if kind == "jsonrpc":
        return OperationMatch("json", "method", operation)
    if kind != "graphql" or "," in operation:  # a batch: its exact body tells it apart
        return None
    document = exemplar.request_json if exemplar.has_request_json() else None
    if isinstance(document, dict):
        if document.get("operationName") == operation:
            return OperationMatch("json", "operationName", operation)
        text = document.get("query") if isinstance(document.get("query"), str) else ""
        return OperationMatch("json", "query", operation, _document_pattern(text, operation))
    text = dict(parse_qsl(exemplar.query, keep_blank_values=True)).get("query", "")
    return OperationMatch("query", "query", operation,  # GraphQL over GET
                          _document_pattern(text, operation))


def _document_pattern(document: str, operation: str) -> str:
    """A regex a GraphQL document matches when it asks for ``operation`` as this one does:
    a named operation (``query GetUser``), else its first field (``{ users(...) ...``)."""
    name = re.escape(operation)
    if re.search(rf"\b(query|mutation|subscription)\s+{name}\b", document):
        return rf"(?s).*\b(query|mutation|subscription)\s+{name}\b.*"
    return rf"(?s)\s*(query\s*)?\{{\s*({_GRAPHQL_NAME}\s*:\s*)?{name}\b.*"


_GRAPHQL_NAME = r"[_A-Za-z][_0-9A-Za-z]*"


def dominant_endpoint(endpoints: Sequence[Endpoint]) -> Endpoint | None:
    """THE rule for a route's default: its most common success, never an upgrade or a stream."""
    eligible = [e for e in endpoints if is_default_eligible(e)]
    if not eligible:
        return None
    return min(eligible, key=lambda e: (-e.observations, e.status, e.media_type or ""))


def is_default_eligible(endpoint: Endpoint) -> bool:
    """A success that answers a plain request: not an upgrade, a stream, or an answer that
    only a conditional or ranged request gets (304, 206: RFC 9110 §15.3.7, §15.4.5)."""
    status = endpoint.status
    return (status < 400 and status not in ONLY_ON_REQUEST
            and not is_event_stream(endpoint.media_type))


def _digest(data: bytes | None) -> str:
    return hashlib.sha256(data or b"").hexdigest()[:16]


def _body_key(media_type: str | None, data: bytes | None) -> str:
    """JSON bodies compare as values (key order and spacing are the client's choice)."""
    if data and media_type and is_json_media_type(media_type):
        try:
            return "json:" + _digest(json.dumps(json.loads(data), sort_keys=True).encode())
        except ValueError:
            pass
    return _digest(data)


def _query_key(query: str) -> tuple:
    return tuple(sorted((name, value) for name, value in parse_qsl(query, keep_blank_values=True)
                        if not is_redacted(value)))


def _headers(text: str | None) -> dict[str, str]:
    wanted = {name.lower(): name for name in CANDIDATE_HEADERS}
    found = {}
    for name, value in json.loads(text or "[]"):
        canonical = wanted.get(name.lower())
        if canonical and canonical not in found and not is_redacted(value):
            found[canonical] = value
    return found


def _requests(recordings: Recordings, endpoints: Sequence[Endpoint]) -> list[_Request]:
    requests = []
    for index, endpoint in enumerate(endpoints):
        for row in recordings.requests(endpoint):
            if row.request_body_truncated:
                continue  # a request body cut at the cap cannot be matched on
            requests.append(_Request(
                row_id=row.id, endpoint_index=index, observed_at=row.observed_at,
                path=row.path, query=_query_key(row.query),
                body=_body_key(row.request_media_type, row.request_body),
                headers=_headers(row.request_headers),
                answer=(endpoint.status, endpoint.media_type or "",
                        row.response_body_sha256 or "",
                        headers_digest(endpoint.status, row.response_headers)),
            ))
    return requests


def headers_digest(status: int, headers_text: str | None) -> str:
    """The response headers a stub replays (``stub_headers``), as part of an answer: a
    request id or an ETag a client reads makes two answers different."""
    pairs = replayed_headers(json.loads(headers_text or "[]"), status=status, sends_body=True,
                             verbatim=False, extra_dropped=("content-length",))
    return _digest(json.dumps(sorted([name.lower(), value] for name, value in pairs)).encode())


def predictive_headers(requests: list[_Request]) -> tuple[str, ...]:
    """Candidate headers that told two otherwise equal requests' answers apart."""
    groups: dict[tuple, list[_Request]] = defaultdict(list)
    for request in requests:
        groups[(request.path, request.query, request.body)].append(request)
    found = set()
    for group in groups.values():
        if len({r.answer for r in group}) < 2:
            continue
        for name in CANDIDATE_HEADERS:
            by_value: dict[str | None, set] = defaultdict(set)
            for request in group:
                by_value[request.headers.get(name)].add(request.answer)
            if len(by_value) > 1 and any(by_value[a] != by_value[b] for a in by_value
                                         for b in by_value if a != b):
                found.add(name)
    return tuple(name for name in CANDIDATE_HEADERS if name in found)


def _always_matched(endpoint: Endpoint) -> tuple[str, ...]:
    """An upgrade answers only upgrades; a stream only a client that asked for events."""
    if endpoint.status == SWITCHING_PROTOCOLS:
        return ("Upgrade",)
    if is_event_stream(endpoint.media_type):
        return ("Accept",)
    return ()


def route_stubs(recordings: Recordings, endpoints: Sequence[Endpoint]) -> list[Stub]:
    """Every stub of one route (its endpoints), default first, then exact, then records."""
    default_endpoint = dominant_endpoint(endpoints)
    default_exemplar = None if default_endpoint is None else default_endpoint.exemplar
    requests = _requests(recordings, endpoints)
    headers = predictive_headers(requests)
    # The answer each distinct request got most often, ties to the newest.
    by_signature: dict[tuple, list[_Request]] = defaultdict(list)
    for request in requests:
        signature = (request.path, request.query, request.body,
                     tuple(request.headers.get(name) for name in headers))
        by_signature[signature].append(request)
    default_answer, default_headers = None, {}
    if default_endpoint is not None:
        default_answer = _default_answer(recordings, default_endpoint)
        default_headers = {name: default_exemplar.request_header(name) for name in headers
                           if name not in IGNORABLE_HEADERS}
    chosen: list[tuple[int, str, _Request]] = []
    for group in by_signature.values():
        answers = Counter(r.answer for r in group)
        newest = {}
        for request in group:
            if request.observed_at >= newest.get(request.answer, ("", None))[0]:
                newest[request.answer] = (request.observed_at, request)
        answer = max(answers, key=lambda a: (answers[a], newest[a][0]))
        request = newest[answer][1]
        if (answer == default_answer and not _always_matched(endpoints[request.endpoint_index])
                and all(request.headers.get(name) == value
                        for name, value in default_headers.items())):
            continue  # the default already gives it
        chosen.append((len(group), newest[answer][0], newest[answer][1]))
    # Past the bound the most requested stay, then the most recently seen: a stub is
    # only as fresh as its observation (this was oldest first: of a busy route's
    # requests seen once each, the stubs replayed the window's first 200).
    chosen.sort(key=lambda item: (item[0], item[1], item[2].row_id), reverse=True)
    stubs: list[Stub] = []
    if default_endpoint is not None:
        required = tuple((name, default_exemplar.request_header(name)) for name in headers
                         if name not in IGNORABLE_HEADERS)
        stubs.append(Stub(DEFAULT, default_endpoint, default_exemplar, required,
                          requests=default_endpoint.observations,
                          observation_id=default_endpoint.exemplar_id))
    answered = {id(default_endpoint)}
    for count, _, request in sorted(chosen[:MAX_EXACT_PER_ROUTE],
                                    key=lambda item: (item[2].path, item[2].query,
                                                      item[2].body, item[2].row_id)):
        endpoint = endpoints[request.endpoint_index]
        names = (*headers, *(n for n in _always_matched(endpoint) if n not in headers))
        exemplar = endpoint.replaying(recordings.observation(request.row_id))
        stubs.append(Stub(EXACT, endpoint, exemplar,
                          tuple((name, request.headers.get(name)) for name in names),
                          requests=count, observation_id=request.row_id))
        answered.add(id(endpoint))
    for endpoint in endpoints:  # what no request singles out stays on record
        if id(endpoint) not in answered:
            stubs.append(Stub(RECORD, endpoint, endpoint.exemplar,
                              requests=endpoint.observations,
                              observation_id=endpoint.exemplar_id))
    return stubs


def _default_answer(recordings: Recordings, endpoint: Endpoint) -> tuple | None:
    row = recordings.observation(endpoint.exemplar_id)
    if row is None:
        return None
    digest = row["response_body_sha256"] or hashlib.sha256(
        row["response_body"] or b"").hexdigest()  # rows of stores older than the hash
    return (endpoint.status, endpoint.media_type or "", digest,
            headers_digest(endpoint.status, row["response_headers"]))


def service_stubs(model: Model, endpoints: Sequence[Endpoint]) -> list[Stub]:
    """Every stub of one dependency (``endpoints``, of ``model``), routes in key order,
    each named uniquely."""
    by_route: dict[tuple, list[Endpoint]] = defaultdict(list)
    for endpoint in endpoints:
        by_route[endpoint.route].append(endpoint)
    stubs = []
    for route in sorted(by_route):
        stubs += route_stubs(model.recordings, by_route[route])
    return _named([replace(stub, operation=operation_match(stub.endpoint, stub.exemplar))
                   for stub in stubs])


def endpoint_name(endpoint: Endpoint, with_media_type: bool) -> str:
    """``GET /users/{user_id} 404`` (+ the operation, + the media type where needed)."""
    parts = [endpoint.method, endpoint.path_template]
    if endpoint.operation:
        parts.append(endpoint.operation)
    parts.append(str(endpoint.status))
    if with_media_type:
        parts.append(endpoint.media_type or "none")
    return " ".join(parts)


def _named(stubs: list[Stub]) -> list[Stub]:
    keys = Counter((s.endpoint.route, s.endpoint.status) for s in
                   {id(s.endpoint): s for s in stubs}.values())
    seen: Counter = Counter()
    named = []
    for stub in stubs:
        base = endpoint_name(stub.endpoint,
                             keys[(stub.endpoint.route, stub.endpoint.status)] > 1)
        seen[base] += 1
        suffix = "" if seen[base] == 1 else f" #{seen[base]}"
        named.append(replace(stub, name=base + suffix))
    return named


def check_distinct(stubs_and_keys: list[tuple[str, object]], target: str) -> None:
    """Fail loudly when two stubs of a target would have identical matchers at one priority."""
    seen: dict[str, str] = {}
    for name, key in stubs_and_keys:
        text = json.dumps(key, sort_keys=True, default=str)
        if text in seen:
            raise DuplicateStubError(
                f"{target}: stubs {seen[text]!r} and {name!r} would match the same requests "
                "at the same priority; one would never answer (report this as a freshmock bug)")
        seen[text] = name
