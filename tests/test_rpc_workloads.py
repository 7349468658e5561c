"""RPC-style dependencies recorded for real through `freshmock record`: one endpoint
per operation exercised, named after it.

boto3 drives S3 (path-style, a dozen buckets), DynamoDB and SQS (AWS JSON:
``X-Amz-Target``) and STS (AWS query: ``Action=`` in a form body) on moto's
server; httpx sends named GraphQL operations with variables, an anonymous
query, a mutation and a failing field to strawberry under uvicorn.
"""

from __future__ import annotations

import json
import re
import subprocess

import httpx
import pytest
from rpc_servers import graphql_server, moto_server

from conftest import freshmock_command, recording_with_config

BUCKETS = [f"acme-{word}-eu-west-{n % 3 + 1}" for n, word in enumerate(
    ["logs", "media", "backups", "exports", "reports", "assets", "builds", "models",
     "invoices", "audit", "uploads", "archive"])]


def record(tmp_path, name: str, upstream: str, drive) -> list[dict]:
    db = tmp_path / "store.db"
    config = tmp_path / "freshmock.toml"
    config.write_text(f'[record]\ndb = "{db}"\n\n[[dependencies]]\nname = "{name}"\n'
                      f'upstream = "{upstream}"\nlisten_port = 0\n')
    with recording_with_config(config) as run:
        drive(f"http://127.0.0.1:{run.port(f'{name}: reverse proxy')}")
    for args in (("infer", "--db", str(db)), ("endpoints", "--db", str(db), "--json")):
        result = subprocess.run(freshmock_command(*args), capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def operations(endpoints: list[dict]) -> set[tuple[str, str, str]]:
    return {(e["method"], e["path_template"], e["operation"]) for e in endpoints}


def drive_aws(url: str) -> None:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE",
                                    aws_secret_access_key="not-a-secret",
                                    region_name="us-east-1")
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
    s3 = session.client("s3", endpoint_url=url, config=config)
    for bucket in BUCKETS:
        s3.create_bucket(Bucket=bucket)
        for day in (1, 2, 3):
            key = f"{bucket[5:9]}-2026-11-{day:02d}.json"
            s3.put_object(Bucket=bucket, Key=key, Body=json.dumps({"day": day}).encode(),
                          ContentType="application/json")
            s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.list_objects_v2(Bucket=bucket)
        s3.delete_object(Bucket=bucket, Key=f"{bucket[5:9]}-2026-11-01.json")
    s3.list_buckets()

    dynamodb = session.client("dynamodb", endpoint_url=url, config=config)
    dynamodb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    for n in range(5):
        dynamodb.put_item(TableName="orders", Item={"id": {"S": f"o-{n}"}, "n": {"N": str(n)}})
        dynamodb.get_item(TableName="orders", Key={"id": {"S": f"o-{n}"}})
    dynamodb.scan(TableName="orders")

    sqs = session.client("sqs", endpoint_url=url, config=config)
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    for n in range(4):
        sqs.send_message(QueueUrl=queue, MessageBody=f"job {n}")
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=4)

    sts = session.client("sts", endpoint_url=url, config=config)
    sts.get_caller_identity()
    sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/deployer", RoleSessionName="ci")


@pytest.mark.slow  # issue 14: >20 s on 2 shared cores; `make test-slow` runs it
def test_aws_services_come_out_one_endpoint_per_operation(tmp_path):
    with moto_server() as upstream:
        endpoints = record(tmp_path, "aws", upstream, drive_aws)
    found = operations(endpoints)
    rpc = {(m, t, o) for m, t, o in found if o}
    assert rpc == {
        ("POST", "/", "DynamoDB_20120810.CreateTable"),
        ("POST", "/", "DynamoDB_20120810.PutItem"),
        ("POST", "/", "DynamoDB_20120810.GetItem"),
        ("POST", "/", "DynamoDB_20120810.Scan"),
        ("POST", "/", "AmazonSQS.CreateQueue"),
        ("POST", "/", "AmazonSQS.SendMessage"),
        ("POST", "/", "AmazonSQS.ReceiveMessage"),
        ("POST", "/", "GetCallerIdentity"),
        ("POST", "/", "AssumeRole"),
    }, sorted(found)
    discriminators = {e["operation"]: e["discriminator"] for e in endpoints if e["operation"]}
    assert discriminators["AssumeRole"] == "form:Action"
    assert discriminators["AmazonSQS.SendMessage"] == "header:X-Amz-Target"
    # S3, path-style: the bucket is a parameter, each object operation one endpoint
    rest = {(m, re.sub(r"\{[^}]+\}", "{}", t)) for m, t, o in found if not o}
    assert rest == {("PUT", "/{}"), ("PUT", "/{}/{}"), ("GET", "/{}/{}"), ("GET", "/{}"),
                    ("DELETE", "/{}/{}"), ("GET", "/")}, sorted(found)
    assert "/{namespace}/{name}" in {t for _, t, _ in found}
    counts = {(e["method"], e["path_template"]): e["observations"] for e in endpoints
              if not e["operation"]}
    assert counts[("PUT", "/{namespace}/{name}")] == 3 * len(BUCKETS)


QUERIES = {
    "GetBook": ("query GetBook($id: ID!) { book(id: $id) { title author } }", {"id": "1"}),
    "ListBooks": ("query ListBooks($genre: String) { books(genre: $genre) { id title } }",
                  {"genre": "sf"}),
    "GetAuthor": ("query GetAuthor($name: String!) { author(name: $name) { books { title } } }",
                  {"name": "Jane Austen"}),
    "AddBook": ("mutation AddBook($title: String!, $author: String!) "
                "{ addBook(title: $title, author: $author) { id } }",
                {"title": "Kindred", "author": "Octavia Butler"}),
    "Inventory": ("query Inventory { inventory }", {}),  # the field raises: an error
}


def drive_graphql(url: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        for round_ in range(3):
            for name, (query, variables) in QUERIES.items():
                # operationName only on some: the document's own name must do
                body = {"query": query, "variables": variables}
                if round_ % 2 == 0:
                    body["operationName"] = name
                answer = client.post("/graphql", json=body)
                assert answer.status_code == 200, answer.text
                assert ("errors" in answer.json()) == (name == "Inventory")
            assert client.post("/graphql", json={"query": "{ books { title } }"}).is_success


def test_graphql_operations_are_endpoints_of_their_own(tmp_path):
    with graphql_server() as upstream:
        endpoints = record(tmp_path, "books", upstream, drive_graphql)
    assert operations(endpoints) == {("POST", "/graphql", name) for name in QUERIES} | {
        ("POST", "/graphql", "books")}
    by_name = {e["operation"]: e for e in endpoints}
    assert {e["discriminator"] for e in endpoints} == {"graphql"}
    assert all(by_name[name]["observations"] == 3 for name in QUERIES)
    assert by_name["books"]["observations"] == 3
