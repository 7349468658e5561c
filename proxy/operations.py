"""Which operation a request asks for, when the path alone does not say.

RPC-style APIs send many operations to one path: AWS JSON protocols name it in
``X-Amz-Target`` (DynamoDB, SQS, KMS), the AWS query protocol in ``Action=``
(STS, IAM, EC2; in the query string or a form body), GraphQL in the body
(``operationName``, else the operation the document defines), JSON-RPC in the
body's ``method``. ``operation_of`` returns ``(operation, discriminator)``,
``("", "")`` for an API that routes by path alone; the discriminator names
where the operation came from (``header:X-Amz-Target``, ``query:Action``,
``form:Action``, ``graphql``, ``jsonrpc``, or a rule's ``header:``/``query:``/
``body:`` source), so stubs can match on the same thing.

The sidecar files each row under its operation before sampling (so a
sampled-out row, whose body is gone, keeps it) and the inference stage reads
it back; ``freshmock infer`` re-derives it from the stored request when
``[paths] discriminators`` name another source. Works on what the store keeps:
redacted header pairs, the redacted query string and the redacted body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

SOURCES = ("header", "query", "body")
_FORM = "application/x-www-form-urlencoded"
_MAX_NAME = 200  # an operation name longer than this is not a name (a cut body, a blob)
_NAME = r"[_A-Za-z][_0-9A-Za-z]*"
_GRAPHQL_OPERATION = re.compile(rf"\b(query|mutation|subscription)\s+({_NAME})")
_GRAPHQL_FIRST_FIELD = re.compile(rf"\{{\s*(?:{_NAME}\s*:\s*)?({_NAME})")  # an alias skipped
_GRAPHQL_COMMENT = re.compile(r"#[^\n\r]*")
_GRAPHQL_STRING = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"')
# A body cut at the size cap is not JSON; the name is still readable in its prefix.
_CUT_FIELD = {
    "operationName": re.compile(r'"operationName"\s*:\s*"([^"\\]{1,200})"'),
    "method": re.compile(r'"method"\s*:\s*"([^"\\]{1,200})"'),
    "query": re.compile(r'"query"\s*:\s*"((?:[^"\\]|\\.)*)'),
}


@dataclass(frozen=True, slots=True)
class OperationRule:
    """``[paths] discriminators`` entry: the operation is this header, query parameter
    or JSON body field (dotted for nested fields), for paths matching ``path`` (a
    template or a literal prefix ending in ``*``; ``""``: every path)."""

    source: str  # "header", "query" or "body"
    name: str
    path: str = ""

    @property
    def discriminator(self) -> str:
        return f"{self.source}:{self.name}"

    def applies_to(self, path: str) -> bool:
        if not self.path:
            return True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        wanted, actual = self.path.split("/"), path.split("/")
        return len(wanted) == len(actual) and all(
            w == a or (w.startswith("{") and w.endswith("}"))
            for w, a in zip(wanted, actual, strict=True)
        )


def parse_rule(text: str, path: str = "") -> OperationRule:
    """``"header:X-Api-Op"``, ``"query:op"``, ``"body:action.name"`` → a rule; ValueError else."""
    source, _, name = text.partition(":")
    if source not in SOURCES or not name.strip():
        raise ValueError(
            f"{text!r} is not a discriminator: write header:NAME, query:NAME or body:FIELD"
        )
    return OperationRule(source, name.strip(), path)


def _header(headers: Iterable, name: str) -> str:
    wanted = name.lower()
    for pair in headers:
        if len(pair) == 2 and str(pair[0]).lower() == wanted:
            return str(pair[1])
    return ""


def _param(query: str, name: str) -> str:
    for key, value in parse_qsl(query or "", keep_blank_values=True):
        if key == name:
            return value
    return ""


def _name(value) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    text = str(value).strip() if isinstance(value, (str, int, float)) else ""
    return text if 0 < len(text) <= _MAX_NAME else ""


def _field(document, dotted: str):
    for part in dotted.split("."):
        if not isinstance(document, dict) or part not in document:
            return None
        document = document[part]
    return document


def graphql_operation(document: str, operation_name=None) -> str:
    """``operationName``, else the document's first named operation, else its first field."""
    name = _name(operation_name)
    if name:
        return name
    if not isinstance(document, str):
        return ""
    text = _GRAPHQL_COMMENT.sub("", _GRAPHQL_STRING.sub('""', document))
    match = _GRAPHQL_OPERATION.search(text)
    if match:
        return match[2]
    match = _GRAPHQL_FIRST_FIELD.search(text)
    return match[1] if match else ""


def _is_graphql(document) -> bool:
    return (isinstance(document, dict) and isinstance(document.get("query"), str)
            and "{" in document["query"])


def _jsonrpc_operation(document) -> str:
    if isinstance(document, dict) and "jsonrpc" in document:
        return _name(document.get("method"))
    if isinstance(document, list) and document and all(
        isinstance(item, dict) and "jsonrpc" in item for item in document
    ):  # a batch: its methods, in a stable order
        return ",".join(sorted({_name(item.get("method")) for item in document} - {""}))
    return ""


def _parsed_json(body: bytes | None):
    if not body:
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _from_rule(rule: OperationRule, headers, query: str, document) -> str:
    if rule.source == "header":
        return _name(_header(headers, rule.name))
    if rule.source == "query":
        return _name(_param(query, rule.name))
    return _name(_field(document, rule.name))


def operation_of(
    path: str,
    query: str,
    headers: Iterable,
    media_type: str,
    body: bytes | None,
    rules: Iterable[OperationRule] = (),
) -> tuple[str, str]:
    """``(operation, discriminator)`` of one request; ``("", "")`` when routed by path."""
    headers = list(headers or ())
    parsed = None
    rules = [rule for rule in rules if rule.applies_to(path)]
    if any(rule.source == "body" for rule in rules):
        parsed = _parsed_json(body)
    for rule in rules:
        operation = _from_rule(rule, headers, query, parsed)
        if operation:
            return operation, rule.discriminator
    target = _name(_header(headers, "x-amz-target"))
    if target:
        return target, "header:X-Amz-Target"
    action = _name(_param(query, "Action"))
    if action:
        return action, "query:Action"
    if media_type == _FORM and body:
        action = _name(_param(body.decode("utf-8", "replace"), "Action"))
        if action:
            return action, "form:Action"
    if not body and "query=" in (query or ""):  # GraphQL over GET
        document = _param(query, "query")
        if "{" in document:
            name = graphql_operation(document, _param(query, "operationName"))
            return (name, "graphql") if name else ("", "")
    if not body or media_type == _FORM:
        return "", ""
    if parsed is None:
        parsed = _parsed_json(body)
    if _is_graphql(parsed):
        name = graphql_operation(parsed["query"], parsed.get("operationName"))
        return (name, "graphql") if name else ("", "")
    if isinstance(parsed, list) and parsed and all(_is_graphql(item) for item in parsed):
        names = sorted({graphql_operation(i["query"], i.get("operationName")) for i in parsed})
        return ",".join(n for n in names if n), "graphql"
    name = _jsonrpc_operation(parsed)
    if name:
        return name, "jsonrpc"
    if parsed is None:  # cut at the size cap: read the name from the prefix
        head = body[:4096].decode("utf-8", "replace")
        if '"query"' in head:
            match = _CUT_FIELD["operationName"].search(head)
            if match:
                return match[1], "graphql"
            match = _CUT_FIELD["query"].search(head)
            name = graphql_operation(match[1].replace("\\n", "\n")) if match else ""
            if name:
                return name, "graphql"
        if '"jsonrpc"' in head:
            match = _CUT_FIELD["method"].search(head)
            if match:
                return match[1], "jsonrpc"
    return "", ""
