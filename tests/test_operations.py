"""The operation discriminator: RPC operations sent to one path are endpoints of their own."""

from __future__ import annotations

import json
import sqlite3

import pytest

from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.paths import PathRules, PathRulesError, load_path_rules
from freshmock.generators.model.tables import ENDPOINT_KEY, list_endpoints, migrate_model
from freshmock.proxy.capture import Capture
from freshmock.proxy.operations import graphql_operation, operation_of, parse_rule
from freshmock.proxy.rows import build_observation
from freshmock.proxy.store import insert_observations, open_store


def capture(path: str, body: bytes | None = None, media_type: str = "application/json",
            headers: tuple = (), status: int = 200, at: float = 1.79e9,
            response: bytes = b'{"ok": true}') -> Capture:
    request_headers = [(b"content-type", media_type.encode())] if body else []
    request_headers += [(k.encode(), v.encode()) for k, v in headers]
    return Capture(
        flow_id="f", service="api", started_at=at, ended_at=at + 0.01, method="POST",
        scheme="http", host="api", port=80, path=path, request_headers=request_headers,
        request_body=body, request_body_size=len(body or b""), status=status,
        response_headers=[(b"content-type", b"application/json")], response_body=response,
        response_body_size=len(response), response_streamed=False, error=None,
    )


def row(*args, **kwargs) -> dict:
    return build_observation(capture(*args, **kwargs)).row


def graphql(query: str, name: str | None = None, variables: dict | None = None) -> bytes:
    document = {"query": query, "variables": variables or {}}
    if name is not None:
        document["operationName"] = name
    return json.dumps(document).encode()


# --- where each protocol names its operation ----------------------------------

def test_aws_json_protocols_name_the_operation_in_x_amz_target():
    found = row("/", b'{"TableName": "t"}', "application/x-amz-json-1.0",
                headers=(("X-Amz-Target", "DynamoDB_20120810.PutItem"),))
    assert (found["operation"], found["discriminator"]) == (
        "DynamoDB_20120810.PutItem", "header:X-Amz-Target")


def test_aws_query_protocol_names_it_in_action_in_the_query_or_a_form_body():
    assert operation_of("/", "Action=GetCallerIdentity&Version=2011-06-15", [], "", None) == (
        "GetCallerIdentity", "query:Action")
    form = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
    found = row("/", form, "application/x-www-form-urlencoded")
    assert (found["operation"], found["discriminator"]) == ("AssumeRole", "form:Action")


def test_graphql_uses_operation_name_else_the_named_operation_else_its_first_field():
    assert operation_of("/graphql", "", [], "application/json",
                        graphql("query A { a } query B { b }", "B")) == ("B", "graphql")
    assert graphql_operation(
        "# query Commented { x }\nmutation AddBook($t: String!) { add(t: $t) { id } }"
    ) == "AddBook"
    assert graphql_operation('{ books(filter: "query Fake { x }") { title } }') == "books"
    assert graphql_operation("{ alias: book(id: 1) { title } }") == "book"
    # GraphQL over GET carries the document in the query string
    assert operation_of("/graphql", "query=%7B%20me%20%7B%20id%20%7D%20%7D", [], "", None) == (
        "me", "graphql")


def test_jsonrpc_uses_method_and_a_batch_its_sorted_methods():
    single = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": []})
    batch = json.dumps([{"jsonrpc": "2.0", "id": n, "method": m}
                        for n, m in enumerate(["b_call", "a_call", "b_call"])])
    assert operation_of("/", "", [], "application/json", single.encode()) == (
        "eth_getBalance", "jsonrpc")
    assert operation_of("/", "", [], "application/json", batch.encode()) == (
        "a_call,b_call", "jsonrpc")


def test_rest_requests_have_no_operation():
    assert operation_of("/users/1", "page=2", [["accept", "application/json"]],
                        "application/json", b'{"name": "x", "method": "card"}') == ("", "")
    assert operation_of("/search", "query=shoes", [], "", None) == ("", "")
    found = row("/users", b'{"name": "ada"}')
    assert (found["operation"], found["discriminator"]) == ("", "")


def test_a_body_cut_at_the_cap_still_names_its_graphql_operation():
    body = graphql("query Big { x }", "Big", {"blob": "x" * 100})
    assert operation_of("/graphql", "", [], "application/json", body[:60]) == ("Big", "graphql")


def test_rules_name_a_header_query_parameter_or_body_field_first_match_wins():
    rules = [parse_rule("header:X-Op", "/rpc"), parse_rule("body:command.name")]
    assert operation_of("/rpc", "", [["x-op", "Ping"]], "application/json",
                        b'{"command": {"name": "Other"}}', rules) == ("Ping", "header:X-Op")
    assert operation_of("/other", "", [["x-op", "Ping"]], "application/json",
                        b'{"command": {"name": "Other"}}', rules) == ("Other", "body:command.name")
    assert operation_of("/x", "op=Find", [], "", None, [parse_rule("query:op")]) == (
        "Find", "query:op")
    with pytest.raises(ValueError, match="header:NAME"):
        parse_rule("cookie:x")


def test_paths_config_reads_discriminators(tmp_path):
    config = tmp_path / "freshmock.toml"
    config.write_text('[paths]\ndiscriminators = ["header:X-Op", '
                      '{use = "body:action", path = "/rpc/*"}]\n')
    rules = load_path_rules(config)
    assert [(r.discriminator, r.path) for r in rules.discriminators] == [
        ("header:X-Op", ""), ("body:action", "/rpc/*")]
    assert PathRules.from_json(rules.to_json()) == rules
    config.write_text('[paths]\ndiscriminators = ["form:Action"]\n')
    with pytest.raises(PathRulesError, match="discriminators"):
        load_path_rules(config)


# --- endpoints per operation ---------------------------------------------------

def test_each_operation_is_an_endpoint_with_its_own_request_schema(tmp_path):
    db = open_store(tmp_path / "s.db", must_exist=False)
    rows = []
    for n in range(3):
        rows.append(row("/graphql", graphql("query GetBook($id: ID!) { book(id: $id) { title } }",
                                            "GetBook", {"id": str(n)}), at=1.79e9 + n))
        rows.append(row("/graphql", graphql("mutation AddBook($t: String!) { add(t: $t) { id } }",
                                            None, {"t": "x"}), at=1.79e9 + n))
    insert_observations(db, rows)
    endpoints = infer_endpoints(db)
    assert [(e["path_template"], e["operation"], e["discriminator"]) for e in endpoints] == [
        ("/graphql", "AddBook", "graphql"), ("/graphql", "GetBook", "graphql")]
    schemas = {e["operation"]: json.loads(e["request_schema"]) for e in endpoints}
    assert set(schemas["GetBook"]["properties"]["variables"]["properties"]) == {"id"}
    assert set(schemas["AddBook"]["properties"]["variables"]["properties"]) == {"t"}
    assert all(e["observations"] == 3 for e in endpoints)


def test_a_sampled_out_row_keeps_the_operation_the_sidecar_read(tmp_path):
    db = open_store(tmp_path / "s.db", must_exist=False)
    kept = row("/graphql", graphql("query A { a }", "A"))
    gone = dict(row("/graphql", graphql("query A { a }", "A"), at=1.79e9 + 1),
                request_body=None, response_body=None, sampled_out=1)
    insert_observations(db, [kept, gone])
    (endpoint,) = infer_endpoints(db)
    assert (endpoint["operation"], endpoint["observations"]) == ("A", 2)


def test_config_rules_rederive_operations_from_the_stored_request(tmp_path):
    db = open_store(tmp_path / "s.db", must_exist=False)
    insert_observations(db, [row("/rpc", json.dumps({"action": a}).encode(), at=1.79e9 + n)
                             for n, a in enumerate(["list", "get", "get"])])
    assert [e["operation"] for e in infer_endpoints(db)] == [""]
    rules = PathRules(discriminators=(parse_rule("body:action"),))
    endpoints = infer_endpoints(db, path_rules=rules)
    assert [(e["operation"], e["discriminator"], e["observations"]) for e in endpoints] == [
        ("get", "body:action", 2), ("list", "body:action", 1)]
    # the rules now live with the store: a command without --config agrees
    assert [e["operation"] for e in infer_endpoints(db)] == ["get", "list"]


def test_rows_from_before_operations_get_them_derived(tmp_path):
    db = open_store(tmp_path / "s.db", must_exist=False)
    old = row("/", b"{}", "application/x-amz-json-1.0",
              headers=(("X-Amz-Target", "AmazonSQS.SendMessage"),))
    old["operation"] = old["discriminator"] = None
    insert_observations(db, [old])
    (endpoint,) = infer_endpoints(db)
    assert (endpoint["operation"], endpoint["discriminator"]) == (
        "AmazonSQS.SendMessage", "header:X-Amz-Target")


def test_a_store_from_before_operations_migrates_keeping_its_rows(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    old_key = "service, method, path_template, status, media_type"
    conn.executescript(f"""
        create table endpoints (service text, method text, path_template text, status integer,
            media_type text, observations integer, first_seen text, last_seen text,
            request_schema text, response_schema text, exemplar_id integer,
            request_stats text, response_stats text, primary key ({old_key}));
        insert into endpoints values ('api', 'GET', '/a', 200, 'application/json', 3,
            '2026-01-01', '2026-01-02', null, null, 1, null, null);
        create table schema_versions (service text, method text, path_template text,
            status integer, media_type text, version integer, shape_hash text,
            request_schema text, response_schema text, first_seen text, last_seen text,
            observations integer, total_observations integer,
            primary key ({old_key}, version));
        insert into schema_versions values ('api', 'GET', '/a', 200, 'application/json', 1,
            'h', null, null, '2026-01-01', '2026-01-02', 3, 3);
        create table infer_partials (service text, method text, path_template text,
            status integer, media_type text, day text, observations integer,
            first_seen text, last_seen text, exemplar_id integer, exemplar_observed_at text,
            exemplar_kept integer, exemplar_candidates text, request_stats text,
            response_stats text, primary key ({old_key}, day));
    """)
    conn.commit()
    conn.close()
    db = open_store(path)
    (endpoint,) = list_endpoints(db)  # read as it is: opening migrates capture tables only
    assert "operation" not in db["endpoints"].columns_dict
    migrate_model(db)
    (endpoint,) = list_endpoints(db)
    assert (endpoint["path_template"], endpoint["operation"], endpoint["observations"]) == (
        "/a", "", 3)
    pk = [c.name for c in db["endpoints"].columns if c.name in db["endpoints"].pks]
    assert set(db["endpoints"].pks) == set(ENDPOINT_KEY), pk
    assert "operation" in db["schema_versions"].pks
    assert "operation" in db["infer_partials"].pks
    # and inference runs on it, two operations side by side
    insert_observations(db, [row("/", None, headers=(("X-Amz-Target", t),), at=1.79e9 + n)
                             for n, t in enumerate(["S.A", "S.B"])])
    assert [e["operation"] for e in infer_endpoints(db)] == ["S.A", "S.B"]
