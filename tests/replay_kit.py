"""Real dependencies, real clients, and replay fidelity: written once for every target.

Two workloads, each a list of calls a real client makes:

- ``aws_workload``: boto3 against moto (S3 path-style with binary objects,
  ranged and conditional GETs, a missing key; DynamoDB; SQS; STS);
- ``graphql_workload``: httpx against a strawberry-graphql app under uvicorn
  (named queries with variables, GET queries, mutations, an error, a
  validation error, a subscription over WebSocket).

A call's *outcome* is what its client lets a program see: for boto3 the parsed
result (bodies read, ``ResponseMetadata`` reduced to status and request ids)
or the error code and message; for GraphQL the status, media type and JSON
body. ``fidelity`` compares the outcomes of a replay with those recorded live:
equal (a redaction marker in the replay stands for any recorded value), a
clear "no stub for this request", or a wrong answer.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from freshmock.proxy.redaction import is_redacted

# --- outcomes and fidelity -----------------------------------------------------------


class NoStub(Exception):
    """The target said, in its own way, that nothing was recorded for this request."""


@dataclass
class Outcome:
    name: str
    value: object = None
    no_stub: str | None = None  # why, when the target refused the request


@dataclass
class Fidelity:
    target: str
    calls: int
    equal: int
    no_stub: list[tuple[str, str]] = field(default_factory=list)
    wrong: list[tuple[str, object, object]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.equal / self.calls if self.calls else 0.0

    def report(self) -> str:
        lines = [f"replay fidelity {self.target}: {self.equal}/{self.calls} = {self.ratio:.1%}"
                 f" ({len(self.no_stub)} no stub, {len(self.wrong)} wrong)"]
        lines += [f"  no stub: {name}: {why}" for name, why in self.no_stub]
        lines += [f"  WRONG: {name}: recorded {live!r:.150} replayed {got!r:.150}"
                  for name, live, got in self.wrong]
        return "\n".join(lines)


def same(live, replayed) -> bool:
    """Equal, where a redaction marker in the replay stands for whatever was recorded live."""
    if isinstance(replayed, str) and is_redacted(replayed):
        return isinstance(live, str) or live is None
    if isinstance(live, dict) and isinstance(replayed, dict):
        return live.keys() == replayed.keys() and all(same(live[k], replayed[k]) for k in live)
    if isinstance(live, list | tuple) and isinstance(replayed, list | tuple):
        return len(live) == len(replayed) and all(map(same, live, replayed))
    return live == replayed


def fidelity(target: str, live: list[Outcome], replayed: list[Outcome]) -> Fidelity:
    assert [o.name for o in live] == [o.name for o in replayed]
    assert not any(o.no_stub for o in live), [o for o in live if o.no_stub]
    result = Fidelity(target, len(live), 0)
    for recorded, got in zip(live, replayed, strict=True):
        if got.no_stub is not None:
            result.no_stub.append((got.name, got.no_stub))
        elif same(recorded.value, got.value):
            result.equal += 1
        else:
            result.wrong.append((got.name, recorded.value, got.value))
    return result


def run_calls(calls: list[tuple[str, Callable[[], object]]],
              no_stub: Callable[[BaseException], str | None] = lambda error: None,
              unmatched: Callable[[], int] | None = None) -> list[Outcome]:
    """Each call's outcome. ``no_stub`` names a target's refusal in an error;
    ``unmatched()`` counts requests a stub server answered with "no stub" (WireMock's
    journal), for targets whose refusal reaches the client as an ordinary response."""
    outcomes = []
    for name, call in calls:
        before = unmatched() if unmatched else 0
        try:
            value = call()
            if unmatched and unmatched() > before:
                outcomes.append(Outcome(name, no_stub="the stub server matched no stub"))
                continue
            outcomes.append(Outcome(name, value))
        except NoStub as refused:
            outcomes.append(Outcome(name, no_stub=str(refused)))
        except Exception as error:  # noqa: BLE001 - a client error is an outcome to compare
            why = no_stub(error)
            outcomes.append(Outcome(name, no_stub=why) if why else
                            Outcome(name, ("raised", type(error).__name__, str(error)[:300])))
    return outcomes


def chain(error: BaseException) -> Iterator[BaseException]:
    """The error, its causes and contexts, and errors botocore wraps in ``kwargs``."""
    seen = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack += [current.__cause__, current.__context__]
        wrapped = getattr(current, "kwargs", {}).get("error")
        if isinstance(wrapped, BaseException):
            stack.append(wrapped)


# --- the AWS workload (boto3 against moto) --------------------------------------------

BUCKET, TABLE = "fm-bucket", "fm-table"


def blob(seed: int, size: int) -> bytes:
    """Deterministic bytes that are not UTF-8 (every chunk of a SHA-256 stream)."""
    out, counter = bytearray(b"\x89BIN\x00"), 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def _plain(value):
    """A boto3 result as plain data: bodies read, timestamps as text, metadata reduced."""
    if isinstance(value, dict):
        plain = {k: _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
        meta = value.get("ResponseMetadata")
        if meta is not None:
            plain["ResponseMetadata"] = {k: meta[k] for k in ("HTTPStatusCode", "RequestId",
                                                              "HostId") if k in meta}
        return plain
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "read") and callable(value.read):
        return {"body-bytes": value.read()}
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _aws_call(function: Callable[[], object]) -> Callable[[], object]:
    def call():
        from botocore.exceptions import ClientError

        try:
            return _plain(function())
        except ClientError as error:
            response = error.response
            return ("error", response.get("Error", {}).get("Code"),
                    response.get("Error", {}).get("Message"),
                    response.get("ResponseMetadata", {}).get("HTTPStatusCode"))

    return call


def aws_clients(endpoint_url: str, register: Callable | None = None) -> dict:
    """boto3 clients of S3 (path-style), DynamoDB, SQS, STS for ``endpoint_url``.

    ``register(client)`` may hook the client's events (a transport for the
    pytest target). One attempt per call: a retry would hide a wrong answer.
    """
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id="testing",
                                    aws_secret_access_key="testing", region_name="us-east-1")
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1,
                                                                "mode": "standard"})
    clients = {name: session.client(name, endpoint_url=endpoint_url, config=config)
               for name in ("s3", "dynamodb", "sqs", "sts")}
    if register is not None:
        for client in clients.values():
            register(client)
    return clients


def aws_workload(endpoint_url: str, register: Callable | None = None
                 ) -> list[tuple[str, Callable[[], object]]]:
    """About 80 calls; no request repeats with a different answer expected.

    A stateless stub answers one request one way: the workload never sends the
    very same request twice across a change of state (state changes are
    observed through new requests: another key, another filter).
    """
    c = aws_clients(endpoint_url, register)
    s3, ddb, sqs, sts = c["s3"], c["dynamodb"], c["sqs"], c["sts"]
    calls: list[tuple[str, Callable]] = []

    def add(name, function):
        calls.append((name, _aws_call(function)))

    add("s3 create_bucket", lambda: s3.create_bucket(Bucket=BUCKET))
    objects = {f"blobs/b{n}.bin": blob(n, 3000 + 7000 * n) for n in range(1, 5)}
    objects.update({"notes/n1.txt": b"first note\nline two\n",
                    "notes/n2.txt": "second note, caf\u00e9\n".encode()})
    for key, data in objects.items():
        content_type = "text/plain" if key.endswith(".txt") else "application/octet-stream"
        add(f"s3 put_object {key}", lambda key=key, data=data, ct=content_type: s3.put_object(
            Bucket=BUCKET, Key=key, Body=data, ContentType=ct))
    for key in ("blobs/b1.bin", "blobs/b2.bin", "notes/n1.txt", "notes/n2.txt"):
        add(f"s3 head_object {key}", lambda key=key: s3.head_object(Bucket=BUCKET, Key=key))
    for key in ("blobs/b1.bin", "blobs/b2.bin", "blobs/b3.bin", "blobs/b4.bin", "notes/n1.txt"):
        add(f"s3 get_object {key}", lambda key=key: s3.get_object(Bucket=BUCKET, Key=key))
    for key, byte_range in (("blobs/b1.bin", "bytes=0-99"), ("blobs/b1.bin", "bytes=100-199"),
                            ("blobs/b2.bin", "bytes=0-99"), ("blobs/b3.bin", "bytes=-50")):
        add(f"s3 get_object {key} Range {byte_range}",
            lambda key=key, r=byte_range: s3.get_object(Bucket=BUCKET, Key=key, Range=r))
    etags = {}

    def conditional(key):
        if key not in etags:
            etags[key] = s3.head_object(Bucket=BUCKET, Key=key)["ETag"]
        return s3.get_object(Bucket=BUCKET, Key=key, IfNoneMatch=etags[key])

    add("s3 get_object blobs/b4.bin If-None-Match", lambda: conditional("blobs/b4.bin"))
    add("s3 list_objects_v2 blobs/", lambda: s3.list_objects_v2(Bucket=BUCKET, Prefix="blobs/"))
    add("s3 list_objects_v2 notes/", lambda: s3.list_objects_v2(Bucket=BUCKET, Prefix="notes/"))
    add("s3 get_bucket_location", lambda: s3.get_bucket_location(Bucket=BUCKET))
    add("s3 delete_object notes/n2.txt", lambda: s3.delete_object(Bucket=BUCKET,
                                                                  Key="notes/n2.txt"))
    add("s3 get_object notes/n2.txt (deleted)",
        lambda: s3.get_object(Bucket=BUCKET, Key="notes/n2.txt"))
    add("s3 get_object missing.txt", lambda: s3.get_object(Bucket=BUCKET, Key="missing.txt"))

    add("dynamodb create_table", lambda: ddb.create_table(
        TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                    {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST"))
    for n in range(1, 7):
        item = {"pk": {"S": f"user#{n % 3}"}, "sk": {"N": str(n)}, "name": {"S": f"name {n}"},
                "tags": {"SS": [f"t{n}", "all"]}, "score": {"N": str(n * 1.5)}}
        add(f"dynamodb put_item {n}", lambda item=item: ddb.put_item(TableName=TABLE, Item=item))
    for n in range(1, 7):
        add(f"dynamodb get_item {n}", lambda n=n: ddb.get_item(
            TableName=TABLE, Key={"pk": {"S": f"user#{n % 3}"}, "sk": {"N": str(n)}}))
    add("dynamodb get_item missing", lambda: ddb.get_item(
        TableName=TABLE, Key={"pk": {"S": "nobody"}, "sk": {"N": "0"}}))
    for pk in ("user#0", "user#1"):
        add(f"dynamodb query {pk}", lambda pk=pk: ddb.query(
            TableName=TABLE, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}}))
    add("dynamodb scan", lambda: ddb.scan(TableName=TABLE, Limit=4))
    add("dynamodb update_item 1", lambda: ddb.update_item(
        TableName=TABLE, Key={"pk": {"S": "user#1"}, "sk": {"N": "1"}},
        UpdateExpression="SET score = :s", ExpressionAttributeValues={":s": {"N": "99"}},
        ReturnValues="ALL_NEW"))
    add("dynamodb put_item 2 if absent (fails)", lambda: ddb.put_item(
        TableName=TABLE, Item={"pk": {"S": "user#2"}, "sk": {"N": "2"}},
        ConditionExpression="attribute_not_exists(pk)"))
    add("dynamodb delete_item 6", lambda: ddb.delete_item(
        TableName=TABLE, Key={"pk": {"S": "user#0"}, "sk": {"N": "6"}}))
    add("dynamodb batch_get_item", lambda: ddb.batch_get_item(RequestItems={TABLE: {"Keys": [
        {"pk": {"S": "user#2"}, "sk": {"N": "2"}}, {"pk": {"S": "user#0"}, "sk": {"N": "3"}}]}}))
    add("dynamodb describe_table missing", lambda: ddb.describe_table(TableName="no-table"))
    add("dynamodb list_tables", lambda: ddb.list_tables())

    queue_urls = {}

    def queue(name):
        return queue_urls[name]

    def create_queue(name, **options):
        result = sqs.create_queue(QueueName=name, **options)
        queue_urls[name] = result["QueueUrl"]
        return result

    add("sqs create_queue fm-q1", lambda: create_queue("fm-q1"))
    add("sqs create_queue fm-q2", lambda: create_queue("fm-q2", Attributes={"DelaySeconds": "0"}))
    add("sqs get_queue_url fm-q1", lambda: sqs.get_queue_url(QueueName="fm-q1"))
    for n in range(1, 5):
        add(f"sqs send_message {n}", lambda n=n: sqs.send_message(
            QueueUrl=queue("fm-q1"), MessageBody=json.dumps({"order": n, "note": f"msg {n}"})))
    add("sqs send_message_batch", lambda: sqs.send_message_batch(
        QueueUrl=queue("fm-q2"), Entries=[{"Id": f"e{n}", "MessageBody": f"batch {n}"}
                                          for n in range(3)]))
    received = {}

    def receive():
        result = sqs.receive_message(QueueUrl=queue("fm-q1"), MaxNumberOfMessages=10,
                                     VisibilityTimeout=60)
        received["handles"] = [m["ReceiptHandle"] for m in result.get("Messages", [])]
        return result

    add("sqs receive_message fm-q1", receive)
    for n in range(4):
        add(f"sqs delete_message {n}", lambda n=n: sqs.delete_message(
            QueueUrl=queue("fm-q1"), ReceiptHandle=received["handles"][n])
            if n < len(received.get("handles", [])) else "no message to delete")
    add("sqs get_queue_attributes fm-q2", lambda: sqs.get_queue_attributes(
        QueueUrl=queue("fm-q2"), AttributeNames=["DelaySeconds", "VisibilityTimeout"]))
    add("sqs list_queues", lambda: sqs.list_queues(QueueNamePrefix="fm-"))
    add("sqs get_queue_url missing", lambda: sqs.get_queue_url(QueueName="no-such-queue"))

    add("sts get_caller_identity", lambda: sts.get_caller_identity())
    add("sts assume_role", lambda: sts.assume_role(
        RoleArn="arn:aws:iam::123456789012:role/fm-role", RoleSessionName="fm-session",
        DurationSeconds=900))
    return calls


# --- the GraphQL workload (httpx against strawberry) ----------------------------------

GRAPHQL_PATH = "/graphql"
GET_USER = "query GetUser($id: ID!) { user(id: $id) { id name email } }"
USER_AGE = "query UserAge($id: ID!) { user(id: $id) { id age } }"
LIST_USERS = ("query ListUsers($limit: Int!, $offset: Int!) "
              "{ users(limit: $limit, offset: $offset) { id name } }")
SEARCH = "query Search($text: String!) { search(text: $text) { id name } }"
ADD_USER = ("mutation AddUser($name: String!, $email: String!) "
            "{ addUser(name: $name, email: $email) { id name email age } }")
RENAME = ("mutation Rename($id: ID!, $name: String!) "
          "{ renameUser(id: $id, name: $name) { id name } }")
REPORT = "query Report { secretReport }"
BROKEN = "query Broken { user(id: 1) { nosuchfield } }"
COUNTDOWN = "subscription Countdown($start: Int!) { countdown(start: $start) }"


def _graphql_outcome(status: int, headers, body: bytes):
    media_type = (headers.get("content-type") or "").split(";")[0].strip()
    try:
        document = json.loads(body) if body else None
    except ValueError:
        document = body.decode("utf-8", "replace")
    return {"status": status, "media_type": media_type, "body": document}


def graphql_workload(base_url: str, post: Callable, get: Callable,
                     subscribe: Callable) -> list[tuple[str, Callable[[], object]]]:
    """About 40 calls. ``post(url, json_body)`` and ``get(url, params)`` return
    ``(status, headers, body)``; ``subscribe(url, query, variables)`` the events."""
    url = base_url.rstrip("/") + GRAPHQL_PATH
    calls: list[tuple[str, Callable]] = []

    def operation(name, query, variables=None):
        body = {"query": query, "operationName": name}
        if variables is not None:
            body["variables"] = variables
        calls.append((f"{name} {json.dumps(variables, sort_keys=True)}",
                      lambda: _graphql_outcome(*post(url, body))))

    for n in range(1, 7):
        operation("GetUser", GET_USER, {"id": str(n)})
    operation("GetUser", GET_USER, {"id": "999"})
    for n in range(1, 7):
        operation("UserAge", USER_AGE, {"id": str(n)})
    for limit, offset in ((2, 0), (2, 2), (3, 3), (10, 0)):
        operation("ListUsers", LIST_USERS, {"limit": limit, "offset": offset})
    for text in ("a", "ed", "zz"):
        operation("Search", SEARCH, {"text": text})
    for query in ("{ users(limit: 1) { id } }", "{ user(id: 2) { name } }"):
        calls.append((f"GET {query}", lambda q=query: _graphql_outcome(
            *get(url, {"query": q}))))
    operation("Report", REPORT)
    operation("Broken", BROKEN)
    calls.append(("subscription Countdown 3",
                  lambda: subscribe(url, COUNTDOWN, {"start": 3})))
    for name in ("Katherine", "Margaret", "Hedy"):
        operation("AddUser", ADD_USER, {"name": name, "email": f"{name.lower()}@example.com"})
    operation("Rename", RENAME, {"id": "2", "name": "Grace B. M. Hopper"})
    operation("Rename", RENAME, {"id": "5", "name": "Barbara L."})
    for n in (7, 8, 9):
        operation("GetUser", GET_USER, {"id": str(n)})
    operation("ListUsers", LIST_USERS, {"limit": 3, "offset": 6})
    return calls


def graphql_transport(client) -> tuple[Callable, Callable]:
    """``post`` and ``get`` for ``graphql_workload`` over an httpx Client or a requests
    Session: both spell ``post(url, json=)``, ``get(url, params=)`` and the response alike."""
    def post(url, body):
        response = client.post(url, json=body)
        return response.status_code, response.headers, response.content

    def get(url, params):
        response = client.get(url, params=params)
        return response.status_code, response.headers, response.content

    return post, get


def websocket_subscribe(url: str, query: str, variables: dict) -> list:
    """A graphql-transport-ws subscription: the ``next`` payloads until ``complete``."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    ws_url = re.sub(r"^http", "ws", url)
    try:
        connection = connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10)
    except InvalidStatus as refused:
        body = refused.response.body or b""
        if b"no stub for this request" in body:
            raise NoStub(body.decode("utf-8", "replace").strip()) from None
        raise
    with connection:
        connection.send(json.dumps({"type": "connection_init"}))
        assert json.loads(connection.recv(10))["type"] == "connection_ack"
        connection.send(json.dumps({"id": "1", "type": "subscribe",
                                    "payload": {"query": query, "variables": variables}}))
        events = []
        while True:
            message = json.loads(connection.recv(10))
            if message["type"] == "complete":
                return events
            events.append(message.get("payload"))


# --- transports for the pytest target: boto3 over requests or httpx ------------------


class _RawBody:
    """What botocore reads a response body from: ``stream()`` and ``read(amt)``."""

    def __init__(self, content: bytes) -> None:
        import io

        self._buffer = io.BytesIO(content)

    def read(self, amt=None):
        return self._buffer.read(amt)

    def stream(self, **kwargs):
        while chunk := self._buffer.read(65536):
            yield chunk

    def close(self):
        pass


def botocore_over(send: Callable) -> Callable:
    """``register(client)`` for ``aws_clients``: every request goes through ``send(method,
    url, headers, body) -> (status, headers, content)`` (a requests or httpx client, which
    the responses or respx fixtures intercept) instead of botocore's own urllib3."""
    from botocore.awsrequest import AWSResponse

    def before_send(request, **kwargs):
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        headers = {k: (v.decode() if isinstance(v, bytes) else v)
                   for k, v in request.headers.items()}
        status, response_headers, content = send(request.method, request.url, headers, body)
        return AWSResponse(request.url, status, dict(response_headers.items()),
                           _RawBody(content))

    def register(client):
        client.meta.events.register("before-send", before_send)

    return register


def requests_sender(session) -> Callable:
    def send(method, url, headers, body):
        response = session.request(method, url, headers=headers, data=body)
        return response.status_code, response.headers, response.content
    return send


def httpx_sender(client) -> Callable:
    def send(method, url, headers, body):
        response = client.request(method, url, headers=headers, content=body)
        return response.status_code, response.headers, response.content
    return send
