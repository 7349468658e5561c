"""``verify --fix``: rewrite the stale parts of WireMock mappings and VCR cassettes.

Only what a stale finding names changes, with today's exemplar value (the
same recorded, redacted exchange ``generate`` replays): a removed field is
cut, a field whose type changed gets today's value. Everything else — the
user's matchers, priorities, other fields, key order, indentation — stays
byte for byte: edits are spans of the original text (``json_spans``, YAML
node marks), so the diff touches only the stale lines. Findings a value
cannot fix (an endpoint gone, a field now nullable or optional) are listed
for a human. A file is written whole or not at all: the result must parse.
"""

from __future__ import annotations

import base64
import json
import os
from collections import defaultdict
from pathlib import Path

import yaml

from freshmock.generators.model.exemplars import load_exemplar
from freshmock.generators.workflows.verify.json_spans import (
    Span,
    apply_edits,
    member_deletion,
    parse_spans,
)
from freshmock.generators.workflows.verify.pact_reader import segments
from freshmock.generators.workflows.verify.verdicts import STALE, Verdict
from freshmock.generators.workflows.verify.wiremock_reader import body_file
from freshmock.generators.workflows.verify.yaml_nodes import child, scalar_text, walk

_REPLACED = {"type-changed", "type-widened"}
_CUT = {"property-removed"}
FIXABLE_FORMATS = ("wiremock", "vcr")


def fix_mocks(db, verdicts: list[Verdict]) -> list[str]:
    """Rewrite what can be rewritten; return one line per file written or finding left."""
    messages: list[str] = []
    by_file: dict[Path, list[Verdict]] = defaultdict(list)
    for verdict in verdicts:
        stale = [f for f in verdict.findings if f.verdict == STALE]
        if not stale:
            continue
        if verdict.mock.format not in FIXABLE_FORMATS:
            messages.append(f"not fixed: {verdict.mock.location()} ({verdict.mock.format}: "
                            "--fix rewrites WireMock mappings and VCR cassettes only)")
            continue
        for finding in stale:
            if finding.kind not in _REPLACED | _CUT:
                messages.append(f"needs a human: {verdict.mock.location()} {finding.kind} "
                                f"{finding.path}: {finding.today}")
        by_file[verdict.mock.source].append(verdict)
    for path, file_verdicts in sorted(by_file.items()):
        fixer = _fix_wiremock if file_verdicts[0].mock.format == "wiremock" else _fix_cassette
        messages += fixer(db, path, file_verdicts)
    return messages


def _body_edits(text: str, span: Span, body, exemplar_body, verdict: Verdict) -> list:
    """Edits of a JSON body's text for the verdict's stale field findings."""
    edits: list[tuple[int, int, str]] = []
    for finding in verdict.findings:
        if finding.verdict != STALE or finding.kind not in _REPLACED | _CUT:
            continue
        _edit_at(text, span, exemplar_body, segments(finding.path), finding.kind, edits)
    return _without_nested(edits)


def _edit_at(text, span: Span, today, parts, kind, edits) -> None:
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    if head == "[]":
        if not span.items or not rest:
            return  # items themselves retyped: handled a level up, as the whole array
        sample = today[0] if isinstance(today, list) and today else None
        for item in span.items:
            _edit_at(text, item, sample, rest, kind, edits)
        return
    if head not in span.members:
        return
    _, value_span = span.members[head]
    today_value = today.get(head) if isinstance(today, dict) else None
    if rest and rest[0] == "[]" and rest[1:] == [] and kind in _REPLACED:
        rest = []  # a type change of items: today's whole array replaces the mock's
    if rest:
        _edit_at(text, value_span, today_value, rest, kind, edits)
        return
    if kind in _CUT:
        start, end = member_deletion(text, span, head)
        edits.append((start, end, ""))
    elif isinstance(today, dict) and head in today:
        edits.append((value_span.start, value_span.end,
                      json.dumps(today_value, ensure_ascii=False)))


def _without_nested(edits: list) -> list:
    kept: list = []
    for edit in sorted(edits, key=lambda e: (e[0], -e[1])):
        if kept and edit[0] < kept[-1][1]:
            continue  # inside an edit already made
        kept.append(edit)
    return kept


def _exemplar_body(db, verdict: Verdict):
    """Today's recorded body; None when none was kept (a synthesised one is not today's)."""
    exemplar = load_exemplar(db, verdict.partial.endpoint_row(verdict.key))
    if "response" in exemplar.synthesized or not exemplar.has_response_json():
        return None
    return exemplar.response_json


def _string_body_edit(inner: str, db, verdict: Verdict) -> str | None:
    try:
        span = parse_spans(inner)
    except ValueError:
        return None
    edits = _body_edits(inner, span, span.value, _exemplar_body(db, verdict), verdict)
    return apply_edits(inner, edits) if edits else None


def _fix_wiremock(db, path: Path, verdicts: list[Verdict]) -> list[str]:
    text = path.read_text(encoding="utf-8")
    edits, messages, body_files = [], [], {}
    for verdict in verdicts:
        if verdict.partial is None:
            continue
        mapping: Span = verdict.mock.handle["span"]
        source = verdict.mock.handle["body_source"]
        response = mapping.members["response"][1]
        if source == "jsonBody":
            body_span = response.members["jsonBody"][1]
            edits += _body_edits(text, body_span, body_span.value, _exemplar_body(db, verdict),
                                 verdict)
        elif source in ("body", "base64Body"):
            body_span = response.members[source][1]
            inner = (body_span.value if source == "body"
                     else base64.b64decode(body_span.value).decode("utf-8"))
            new = _string_body_edit(inner, db, verdict)
            if new is not None:
                encoded = (json.dumps(new, ensure_ascii=False) if source == "body"
                           else json.dumps(base64.b64encode(new.encode()).decode()))
                edits.append((body_span.start, body_span.end, encoded))
        elif source == "bodyFileName":
            file = body_file(path, response.members["bodyFileName"][1].value)
            new = _string_body_edit(file.read_text(encoding="utf-8"), db, verdict)
            if new is not None:
                body_files[file] = new
    if edits:
        new_text = apply_edits(text, edits)
        json.loads(new_text)  # the edits keep it JSON, or nothing is written
        _write(path, new_text)
        messages.append(f"fixed: {path}")
    for file, new in body_files.items():
        json.loads(new)
        _write(file, new)
        messages.append(f"fixed: {file}")
    return messages


def _fix_cassette(db, path: Path, verdicts: list[Verdict]) -> list[str]:
    text = path.read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    # vcrpy's JSON serializer: a JSON string is also a YAML scalar, the reverse is not
    scalar = json.dumps if path.suffix == ".json" else scalar_text
    edits = []
    for verdict in verdicts:
        if verdict.partial is None:
            continue
        index = verdict.mock.handle["index"]
        if verdict.mock.handle.get("compressed"):
            continue  # a binary (compressed) body: rewriting it is not a one-line change
        response = walk(root, "interactions", index, "response")
        node = walk(response, "body", "string")
        if node is None or not isinstance(node.value, str):
            continue
        inner = yaml.safe_load(text[node.start_mark.index:node.end_mark.index])
        new = _string_body_edit(inner, db, verdict)
        if new is None:
            continue
        edits.append((node.start_mark.index, node.end_mark.index, scalar(new)))
        length = _header_node(child(response, "headers"), "content-length")
        if length is not None:
            value = length.value[0] if isinstance(length, yaml.SequenceNode) else length
            edits.append((value.start_mark.index, value.end_mark.index,
                          scalar(str(len(new.encode("utf-8"))))))
    if not edits:
        return []
    new_text = apply_edits(text, edits)
    # still a cassette, or nothing is written
    json.loads(new_text) if path.suffix == ".json" else yaml.safe_load(new_text)
    _write(path, new_text)
    return [f"fixed: {path}"]


def _header_node(headers, name: str):
    if not isinstance(headers, yaml.MappingNode):
        return None
    for key, value in headers.value:
        if str(key.value).lower() == name:
            return value
    return None


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.freshmock-fix")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
