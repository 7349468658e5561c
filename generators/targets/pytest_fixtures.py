"""Write one Python module of pytest fixtures per dependency, for ``responses`` and ``respx``.

``OUT/<service>_stubs.py`` (importable: ``-`` becomes ``_``) holds ``ENDPOINTS``,
the recorded exemplar of every endpoint as Python data, and fixtures that
register them all: ``<service>_responses`` for ``requests``, ``<service>_respx``
for ``httpx``, both answering under ``<service>_base_url``. The entries are the
dependency's stubs (``variants``), as in the WireMock mappings: a route's
default answers every path of its template, an exact entry only requests like
its recorded one (path, query, body, the headers that predicted its answer),
and a record (or a WebSocket handshake) stays in the data but never answers.
Response headers follow ``stub_headers``.
The module docstring and every entry say when the dependency was last observed
and on how many samples the stub rests.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from freshmock.generators.model.endpoint import Endpoint, Model
from freshmock.generators.model.exemplars import Exemplar, body_text
from freshmock.generators.model.paths import is_parameter
from freshmock.generators.targets.emit import (
    remove_stale,
    slug,
    write_generated,
)
from freshmock.generators.targets.stamp import is_pytest_module, observed
from freshmock.generators.targets.stub_headers import body_is_verbatim, replayed_headers
from freshmock.generators.targets.templating import environment
from freshmock.generators.targets.variants import (
    DEFAULT,
    EXACT,
    RECORD,
    SWITCHING_PROTOCOLS,
    Stub,
    check_distinct,
    service_stubs,
)
from freshmock.proxy.redaction import is_redacted

TEMPLATE = "pytest_fixtures.py.j2"
INDENT = "    "
# How an entry answers, in the order the module tries them: exact requests
# before templates (WireMock's priorities), records of shadowed variants last.
ANSWERS_EXEMPLAR, ANSWERS_TEMPLATE, ANSWERS_NONE = "exemplar", "template", "none"
_ANSWER_RANK = {ANSWERS_EXEMPLAR: 0, ANSWERS_TEMPLATE: 1, ANSWERS_NONE: 2}


@dataclass(frozen=True)
class WrittenModule:
    service: str
    path: Path
    module: str  # the import name, e.g. demo_shop_stubs
    fixtures: tuple[str, ...]
    endpoints: list[Endpoint]


def identifier(service: str) -> str:
    """The service as a Python name: ``demo-shop`` -> ``demo_shop``."""
    name = slug(service).replace("-", "_")
    return f"service_{name}" if name[0].isdigit() else name


def python_literal(value, level: int = 0) -> str:
    """A Python literal of JSON-like data, one item a line, keys sorted, nested ``level`` deep.

    One item a line keeps a changed field to a changed line in a diff.
    """
    inner, outer = INDENT * (level + 1), INDENT * level
    if isinstance(value, dict) and value:
        items = [f"{inner}{python_literal(key)}: {python_literal(item, level + 1)},"
                 for key, item in sorted(value.items())]
        return "{\n" + "\n".join(items) + f"\n{outer}}}"
    if isinstance(value, list) and value:
        items = [f"{inner}{python_literal(item, level + 1)}," for item in value]
        return "[\n" + "\n".join(items) + f"\n{outer}]"
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:  # then it holds no quote at all
            return f'"{text[1:-1]}"'
        return text
    return repr(value)  # None, booleans, numbers, {} and []


def path_regex(template: str) -> str:
    """Concrete paths of a template: ``/users/{user_id}`` matches ``/users/42``."""
    segments = ["[^/]+" if is_parameter(s) else re.escape(s) for s in template.split("/")]
    return "^" + "/".join(segments) + "$"


def _specificity(template: str) -> tuple[int, ...]:
    """Literal segments before parameters, left to right: ``/users/me`` before ``/users/{id}``."""
    return tuple(1 if is_parameter(s) else 0 for s in template.split("/"))


def _body(exemplar_json, has_json: bool, data: bytes | None) -> dict:
    if has_json:
        return {"json": exemplar_json}
    if not data:
        return {}
    text = body_text(data)
    if text is not None:
        return {"text": text}
    return {"base64": base64.b64encode(data).decode("ascii")}


def _request(stub: Stub) -> dict:
    """The exemplar request, as much of it as a stub may match on."""
    exemplar = stub.exemplar
    request = {
        "path": exemplar.path,
        # redacted values would never match what a test sends
        "query": {name: value
                  for name, value in parse_qsl(exemplar.query, keep_blank_values=True)
                  if not is_redacted(value)},
    }
    if stub.match_headers:  # None: the request must not send it
        request["headers"] = dict(stub.match_headers)
    if stub.operation is not None:  # the route's operation, where the request names it
        request["operation"] = {"source": stub.operation.source, "name": stub.operation.name,
                                "value": stub.operation.value,
                                "pattern": stub.operation.pattern}
    if "request" not in exemplar.synthesized:  # never match on a body nobody sent
        request.update(_body(exemplar.request_json, exemplar.has_request_json(),
                             exemplar.request_body))
    return request


def _response(exemplar: Exemplar) -> dict:
    response = {"status": exemplar.status}
    body = _body(exemplar.response_json, exemplar.has_response_json(), exemplar.response_body)
    sent = (base64.b64decode(body["base64"]) if "base64" in body
            else body["text"].encode("utf-8") if "text" in body else b"" if not body else None)
    verbatim = sent is not None and body_is_verbatim(exemplar, sent)
    headers = replayed_headers(exemplar.response_headers, status=exemplar.status,
                               sends_body=bool(body), verbatim=verbatim)
    content_type = next((v for n, v in headers if n.lower() == "content-type"),
                        exemplar.response_media_type or None)
    if content_type:
        response["content_type"] = content_type
    others = [[name, value] for name, value in headers if name.lower() != "content-type"]
    if others:
        response["headers"] = others
    response.update(body)
    if exemplar.response_truncated:
        response["truncated"] = True  # the body was cut at the size cap when recorded
    return response


_ANSWERS = {DEFAULT: ANSWERS_TEMPLATE, EXACT: ANSWERS_EXEMPLAR, RECORD: ANSWERS_NONE}


def build_entries(model: Model, endpoints: list[Endpoint]) -> list[dict]:
    """The module's ``ENDPOINTS``, in the order a request is matched against them."""
    entries = []
    for stub in service_stubs(model, endpoints):
        endpoint, exemplar = stub.endpoint, stub.exemplar
        websocket = endpoint.status == SWITCHING_PROTOCOLS
        entry = {
            "name": stub.name,
            "method": endpoint.method,
            "path_template": endpoint.path_template,
            "path_regex": path_regex(endpoint.path_template),
            # responses and respx replay HTTP: a WebSocket handshake stays on record
            "answers": ANSWERS_NONE if websocket else _ANSWERS[stub.kind],
            "request": _request(stub),
            "response": _response(exemplar),
            **observed(endpoint),
        }
        if exemplar.synthesized:
            entry["synthesized"] = list(exemplar.synthesized)
        entries.append(entry)
    check_distinct([(e["name"], [e["method"], e["answers"], e["path_regex"], e["request"]])
                    for e in entries if e["answers"] != ANSWERS_NONE],
                   "pytest fixtures")
    return sorted(entries, key=lambda e: (
        _ANSWER_RANK[e["answers"]], _specificity(e["path_template"]), e["method"],
        e["path_template"], -e["observations"], e["response"]["status"], e["name"]))


def render_module(env, service: str, entries: list[dict]) -> str:
    prefix = identifier(service)
    return env.get_template(TEMPLATE).render(
        service=service,
        base_url=f"http://{slug(service)}",
        fixture_prefix=prefix,
        entries=entries,
        # each endpoint's first stub is named after it; more get " #2", " #3"...
        endpoint_count=sum("#" not in e["name"] for e in entries),
        last_observed=max(e["last_observed"] for e in entries),
        observations=sum(e["observations"] for e in entries if "#" not in e["name"]),
    )


def write_pytest_fixtures(
    model: Model,
    out_dir: Path,
    service: str | None = None,
    templates_dir: Path | None = None,
) -> list[WrittenModule]:
    env = environment(templates_dir)
    env.filters["python"] = python_literal
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for service_name, endpoints in model.by_service(service):
        prefix = identifier(service_name)
        target = out_dir / f"{prefix}_stubs.py"
        text = render_module(env, service_name, build_entries(model, endpoints))
        write_generated(target, text)
        fixtures = tuple(f"{prefix}_{kind}" for kind in ("base_url", "responses", "respx"))
        written.append(WrittenModule(service_name, target, target.stem, fixtures, endpoints))
    if service is None:  # every dependency was written: a module of none other is stale
        remove_stale(out_dir, "*_stubs.py", [w.path for w in written],
                     is_pytest_module)
    return written
