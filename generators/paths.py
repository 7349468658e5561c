"""Path templates: ``/users/42/orders`` → ``/users/{user_id}/orders``.

Two rules, measured on a corpus in ``tests/test_paths.py``:

1. A segment typed like an identifier (integer, UUID, hex id, date, ULID,
   long token) is a parameter at first sight.
2. Otherwise a per-service trie of every path seen merges a position into a
   parameter once it has ``merge_threshold`` distinct literal children
   (default 10: K = 2 over-merges ``/repos/{o}/{r}/{issues|commits}``, K = 50
   needs tens of thousands of observations). Merged siblings pool their
   subtrees, so ``/repos/{owner}/{repo}`` emerges even though no single owner
   has ten repositories. Version segments (``v2``), well-known words (``me``)
   and a literal that dominates its siblings stay literal.

The first segment is never a parameter: it names a collection. Pinned
templates (from the rules) and locked ones (accepted on an earlier run) win
over the trie, so an endpoint never splits or renames by itself; a locked
template that is all literal may still be absorbed by a new parameter.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from freshmock.proxy.operations import OperationRule, parse_rule

PARAM = "{}"  # trie key for a parameter position

_TYPED = [
    re.compile(r"^-?\d+$"),  # integer
    re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
    # hex with at least one digit and one letter: git SHAs, ObjectIds
    re.compile(r"^(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{7,}$"),
    re.compile(r"^\d{4}-\d{2}-\d{2}$"),  # date
    re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"),  # ULID
    # long token: letters and at least two digits, no slug-style dashes (cus_NffrFeUfNV2Hib)
    re.compile(r"^(?=(?:[^\d]*\d){2})(?=.*[A-Za-z])[A-Za-z0-9_]{16,}$"),
]
_VERSION = re.compile(r"^v\d+(?:\.\d+)*$|^api$")
WELL_KNOWN_LITERALS = frozenset(
    {"me", "self", "current", "mine", "latest", "search", "count", "default", "batch", "bulk"}
)
# A literal keeps its own template when it is at least this share of its
# position's traffic and this many times as common as any sibling: `/users/me`
# beside a thousand ids. A Zipf-distributed slug's top value is ~2x the next,
# so the ratio keeps popular slugs merged.
DOMINANT_SHARE = 0.2
DOMINANT_RATIO = 3
DEFAULT_MERGE_THRESHOLD = 10

_NAME_CHARS = re.compile(r"[^a-z0-9]+")


def is_identifier(segment: str) -> bool:
    return any(pattern.match(segment) for pattern in _TYPED)


def is_parameter(segment: str) -> bool:
    return len(segment) > 2 and segment[0] == "{" and segment[-1] == "}"


@dataclass(frozen=True)
class PathRules:
    merge_threshold: int = DEFAULT_MERGE_THRESHOLD
    pinned: tuple[str, ...] = ()  # e.g. "/repos/{owner}/{repo}"
    literals: frozenset[str] = field(default_factory=frozenset)  # never parameters
    # where an RPC API names its operation, beyond the protocols freshmock knows
    discriminators: tuple[OperationRule, ...] = ()

    def to_json(self) -> str:
        """Canonical text: what the store keeps, and what ``digest`` hashes."""
        return json.dumps({
            "merge_threshold": self.merge_threshold,
            "templates": list(self.pinned),
            "literals": sorted(self.literals),
            "discriminators": [
                {"use": rule.discriminator, "path": rule.path} for rule in self.discriminators
            ],
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PathRules:
        data = json.loads(text)
        return cls(
            data["merge_threshold"], tuple(data["templates"]), frozenset(data["literals"]),
            tuple(parse_rule(d["use"], d["path"]) for d in data["discriminators"]),
        )

    def digest(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]


class _Node:
    __slots__ = ("children", "count")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.count = 0


def _union(nodes: list[_Node]) -> _Node:
    merged = _Node()
    grouped: dict[str, list[_Node]] = {}
    for node in nodes:
        merged.count += node.count
        for key, child in node.children.items():
            grouped.setdefault(key, []).append(child)
    for key, children in grouped.items():
        merged.children[key] = children[0] if len(children) == 1 else _union(children)
    return merged


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _parameter_name(previous_literal: str | None) -> str:
    if not previous_literal:
        return "id"
    base = _NAME_CHARS.sub("_", _singular(previous_literal.lower())).strip("_")
    return f"{base}_id" if base else "id"


def name_parameters(segments: list[str | None]) -> str:
    """Segments with ``None`` for parameters → a template with unique names."""
    used: set[str] = set()
    previous_literal: str | None = None
    out = []
    for segment in segments:
        if segment is None:
            name = _parameter_name(previous_literal)
            unique, n = name, 2
            while unique in used:
                unique, n = f"{name}{n}", n + 1
            used.add(unique)
            out.append("{" + unique + "}")
            previous_literal = None
        else:
            out.append(segment)
            previous_literal = segment or previous_literal
    return "/" + "/".join(out)


def _segments(path: str) -> list[str]:
    return path.split("/")[1:]


def template_matches(template: str, path: str) -> bool:
    wanted, actual = _segments(template), _segments(path)
    return len(wanted) == len(actual) and all(
        w == a or is_parameter(w) for w, a in zip(wanted, actual, strict=True)
    )


def _specificity(template: str) -> tuple[int, str]:
    return (sum(not is_parameter(s) for s in _segments(template)), template)


class PathTemplater:
    """Templates for one service's paths. ``add`` every path, then ``template``."""

    def __init__(self, rules: PathRules | None = None, locked: Iterable[str] = ()) -> None:
        self.rules = rules or PathRules()
        self.locked = sorted(set(locked))
        # Locked templates by (segment count, first segment): a path is compared
        # only with the few that could match it, not with every lock (thousands
        # of endpoints made that scan most of a no-op `infer`).
        self._locks_by_head: dict[tuple, list[str]] = {}
        for template in self.locked:
            segments = _segments(template)
            head = None if not segments or is_parameter(segments[0]) else segments[0]
            self._locks_by_head.setdefault((len(segments), head), []).append(template)
        self._root = _Node()
        self._compiled: _Node | None = None

    def add(self, path: str, count: int = 1) -> None:
        node = self._root
        node.count += count
        for index, segment in enumerate(_segments(path)):
            key = PARAM if index > 0 and self._typed(segment) else segment
            node = node.children.setdefault(key, _Node())
            node.count += count
        self._compiled = None

    def _typed(self, segment: str) -> bool:
        if is_parameter(segment) or segment == PARAM:  # a template or shape fed back in
            return True
        return segment not in self.rules.literals and is_identifier(segment)

    def shape(self, path: str) -> str:
        """The path with typed segments as ``{}``: what the trie needs to keep of it."""
        if not path.startswith("/"):
            return path
        return "/" + "/".join(
            PARAM if index > 0 and self._typed(segment) else segment
            for index, segment in enumerate(_segments(path))
        )

    def _keep_literal(self, key: str, siblings: dict[str, _Node], total: int) -> bool:
        if key in self.rules.literals or key in WELL_KNOWN_LITERALS or _VERSION.match(key):
            return True
        count = siblings[key].count
        others = max((n.count for k, n in siblings.items() if k != key), default=0)
        return count >= DOMINANT_SHARE * total and count >= DOMINANT_RATIO * others

    def _compile(self, node: _Node, depth: int) -> _Node:
        literal = {k: n for k, n in node.children.items() if k != PARAM}
        pooled = [node.children[PARAM]] if PARAM in node.children else []
        if depth >= 1 and len(literal) >= self.rules.merge_threshold:
            total = sum(n.count for n in literal.values())
            for key in [k for k in literal if not self._keep_literal(k, literal, total)]:
                pooled.append(literal.pop(key))
        compiled = _Node()
        compiled.count = node.count
        for key, child in literal.items():
            compiled.children[key] = self._compile(child, depth + 1)
        if pooled:
            compiled.children[PARAM] = self._compile(_union(pooled), depth + 1)
        return compiled

    def _trie_template(self, path: str) -> str:
        if self._compiled is None:
            self._compiled = self._compile(self._root, 0)
        node: _Node | None = self._compiled
        segments: list[str | None] = []
        for index, segment in enumerate(_segments(path)):
            typed = index > 0 and self._typed(segment)
            if node is not None and not typed and segment in node.children:
                node = node.children[segment]
                segments.append(segment)
            elif node is not None and index > 0 and PARAM in node.children:
                node = node.children[PARAM]
                segments.append(None)
            else:  # a path never added: only typed segments become parameters
                node = None
                segments.append(None if typed else segment)
        return name_parameters(segments)

    def template(self, path: str) -> str:
        if not path.startswith("/"):  # "*" (OPTIONS *), or an empty path
            return path
        pinned = [t for t in self.rules.pinned if template_matches(t, path)]
        if pinned:
            return max(pinned, key=_specificity)
        learnt = self._trie_template(path)
        segments = _segments(path)
        candidates = self._locks_by_head.get((len(segments), segments[0]), []) + (
            self._locks_by_head.get((len(segments), None), []))
        locked = [t for t in candidates if template_matches(t, path)]
        if locked:
            best = max(locked, key=_specificity)
            if any(map(is_parameter, _segments(best))) or learnt == best:
                return best
            # An all-literal locked template is absorbed by a parameter that now
            # covers it (a merge); a parameter template is never split.
        return learnt


class PathRulesError(Exception):
    """A rules file that cannot be used; the message names the file and key."""


def load_path_rules(path) -> PathRules:
    """``[paths]`` of a freshmock.toml: merge_threshold, templates (pinned), literals."""
    from freshmock.proxy.toml_file import read_toml

    table = read_toml(path, PathRulesError).get("paths", {})
    if not isinstance(table, dict):
        raise PathRulesError(f"{path}: paths must be a [paths] table")
    unknown = set(table) - {"merge_threshold", "templates", "literals", "discriminators"}
    if unknown:
        raise PathRulesError(f"{path}: [paths] has unknown keys: {', '.join(sorted(unknown))}")
    threshold = table.get("merge_threshold", DEFAULT_MERGE_THRESHOLD)
    if not isinstance(threshold, int) or threshold < 2:
        raise PathRulesError(f"{path}: [paths] merge_threshold must be an integer >= 2")
    for key in ("templates", "literals"):
        values = table.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise PathRulesError(f"{path}: [paths] {key} must be a list of strings")
    templates = table.get("templates", [])
    bad = [t for t in templates if not t.startswith("/")]
    if bad:
        raise PathRulesError(f"{path}: [paths] templates must start with '/': {bad[0]!r}")
    return PathRules(threshold, tuple(templates), frozenset(table.get("literals", [])),
                     _discriminators(path, table.get("discriminators", [])))


def _discriminators(path, entries) -> tuple[OperationRule, ...]:
    """``["header:X-Op", {use = "body:action", path = "/rpc"}]``: first match wins."""
    if not isinstance(entries, list):
        raise PathRulesError(f"{path}: [paths] discriminators must be a list")
    rules = []
    for entry in entries:
        use, where = (entry, "") if isinstance(entry, str) else (
            (entry.get("use"), entry.get("path", "")) if isinstance(entry, dict) else (None, ""))
        if not isinstance(use, str) or not isinstance(where, str) or (
            isinstance(entry, dict) and set(entry) - {"use", "path"}
        ):
            raise PathRulesError(
                f"{path}: [paths] discriminators entries are \"header:NAME\", \"query:NAME\", "
                f"\"body:FIELD\" or {{use = \"...\", path = \"/template\"}}, not {entry!r}")
        try:
            rules.append(parse_rule(use, where))
        except ValueError as error:
            raise PathRulesError(f"{path}: [paths] discriminators: {error}") from None
    return tuple(rules)


def path_template(path: str) -> str:
    """Template one path on its own: only typed segments become parameters."""
    return PathTemplater().template(path)
