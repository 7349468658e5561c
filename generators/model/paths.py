"""Path templates: ``/users/42/orders`` → ``/users/{user_id}/orders``.

Rules, measured on the corpora of ``tests/test_paths.py`` (synthetic) and
``tests/test_openapi_corpus.py`` (real OpenAPI documents):

1. A segment typed like an identifier (integer, UUID, hex id, date, ULID,
   long token) is a parameter at first sight.
2. Otherwise a per-service trie of every path seen decides per position from
   the evidence it holds: how many distinct literals the position has, whether
   they look like values (digits, mixed case, dots) or like vocabulary words,
   and whether the sibling subtrees *behave alike*: each terminal node keeps
   the signatures of its responses (method, status, top-level JSON keys), and
   each node its child segments. Sub-resource words each answer with their
   own shape (``/orgs/{org}/blocks`` vs ``/events``); values of one parameter
   answer alike (``/models/gpt-4o`` vs ``/models/o3``).

   - ``merge_threshold`` (K, default 10) or more literals merge unless most of
     those seen answering have a shape no sibling shares (K = 2 over-merges
     ``/repos/{o}/{r}/{issues|commits}``, K = 50 needs tens of thousands of
     observations; the shape check keeps ten sub-resource words apart);
   - 3 to K-1 literals merge when they look like values and no sibling has a
     shape of its own, or, vocabulary words, when every sibling's subtree
     answers alike two levels deep (``/items/{collection}/{id}``);
   - the first segment merges only on K or more value-like literals that
     behave alike (path-style buckets); below that it names a collection.

   Merged siblings pool their subtrees, so ``/repos/{owner}/{repo}`` emerges
   even though no single owner has ten repositories. Version segments
   (``v2``), well-known words (``me``), the rules' literals and a literal that
   dominates its siblings stay literal. Without response signatures (paths fed
   in alone) only the count rule applies.

Parameters are named from the collection they index: ``/orgs/{org}``,
``/users/{user_id}`` (an identifier), ``/repos/{owner}/{repo}`` (a pair).

Pinned templates (from the rules) and locked ones (accepted on an earlier run)
win over the trie, so an endpoint never renames by itself, with one
exception: a literal the trie keeps (``/users/me`` beside a locked
``/users/{user_id}``) is never captured by a lock. A locked template that is
all literal may still be absorbed by a new parameter.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from freshmock.proxy.errors import FreshmockError
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


_RANDOM_TAIL = re.compile(r"[A-Za-z0-9]{12,}$")
_CASE_RUN = re.compile(r"[A-Z]+|[a-z]+|[0-9]+")


def _random_mixed_case(segment: str) -> bool:
    """A long tail of letters whose case flips every couple of characters, as
    base62 ids do (``asst_xZjbGYyJCaMePthQs6MVcXNR``, which may hold no digit at
    all); camelCase words flip once per word (``fineTuningJobs``: 3.0 characters
    a run, 7 runs), a random tail about every 2 (3.0 for ``NU3nmolcKrLYHNEFCLMEZwvO``)."""
    tail = _RANDOM_TAIL.search(segment)
    if tail is None or len(segment) < 16:
        return False
    runs = _CASE_RUN.findall(tail.group())
    return len(runs) >= 8 and len(tail.group()) / len(runs) <= 3.0


def is_identifier(segment: str) -> bool:
    return any(pattern.match(segment) for pattern in _TYPED) or _random_mixed_case(segment)


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


MIN_VALUES = 3  # fewer distinct literals than this are never merged by shape evidence
# Signatures kept per terminal node: enough to see a shared shape, bounded.
MAX_SIGNATURES = 8


class _Node:
    __slots__ = ("children", "count", "signatures", "kind")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.count = 0
        self.signatures: set[str] = set()  # of responses to paths ending here
        self.kind = ID  # of a parameter node: NAME once it merged literal values


def _union(nodes: list[_Node]) -> _Node:
    merged = _Node()
    grouped: dict[str, list[_Node]] = {}
    for node in nodes:
        merged.count += node.count
        merged.signatures |= node.signatures
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


ID, NAME = "id", "name"  # what a parameter's values were: typed identifiers, or names


def _collection_name(literal: str | None) -> str:
    if not literal:
        return ""
    return _NAME_CHARS.sub("_", _singular(literal.lower())).strip("_")


def _run_names(collection: str, kinds: list[str]) -> list[str]:
    """Names for a run of parameters after the literal ``collection``.

    ``/users/{user_id}`` (an identifier), ``/orgs/{org}`` (a name),
    ``/repos/{owner}/{repo}`` (two names: the last is the collection's item),
    ``/a/{a_id}/{id}`` (identifiers after the first carry no collection).
    """
    if not collection:  # no collection word before: /{namespace}/{name} (buckets, keys)
        first = ID if kinds[0] == ID else "namespace"
        return [first] + [ID if kind == ID else NAME for kind in kinds[1:]]
    if len(kinds) == 2 and kinds == [NAME, NAME]:
        return ["owner", collection]
    names = [f"{collection}_id" if kinds[0] == ID else collection]
    return names + [ID if kind == ID else NAME for kind in kinds[1:]]


def name_parameters(segments: list[str | None], kinds: list[str] | None = None) -> str:
    """Segments with ``None`` for parameters → a template with unique names.

    ``kinds`` says per segment whether a parameter's values were typed
    identifiers (``ID``, the default) or names and slugs (``NAME``).
    """
    kinds = kinds or [ID] * len(segments)
    names: list[str | None] = [None] * len(segments)
    index = 0
    while index < len(segments):
        if segments[index] is not None:
            index += 1
            continue
        start = index
        while index < len(segments) and segments[index] is None:
            index += 1
        previous = next((s for s in reversed(segments[:start]) if s), None)
        for offset, name in enumerate(_run_names(_collection_name(previous),
                                                 list(kinds[start:index]))):
            names[start + offset] = name
    used: set[str] = set()
    out = []
    for segment, name in zip(segments, names, strict=True):
        if segment is not None:
            out.append(segment)
            continue
        unique, n = name, 2
        while unique in used:
            unique, n = f"{name}{n}", n + 1
        used.add(unique)
        out.append("{" + unique + "}")
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


def looks_like_value(segment: str) -> bool:
    """A literal that reads as a value rather than a word of the API's vocabulary:
    digits (``gpt-4o``, ``eu-west-1``), capitals (``ZxY``, ``ADA``), a dot (``a.b.com``)."""
    return (any(c.isdigit() for c in segment) or "." in segment
            or segment.lower() != segment)  # mixed case, or capitals: ``ZxY``, ``ADA``


def _profile(node: _Node) -> set[tuple[str, str]]:
    """(child key, signature) two levels deep: how a subtree answers."""
    found = {("", signature) for signature in node.signatures}
    for key, child in node.children.items():
        found |= {(key, signature) for signature in child.signatures}
    return found


def _own_shapes(literal: dict[str, _Node]) -> tuple[int, int]:
    """(siblings whose responses were seen, of those the ones sharing no response
    signature with any sibling): sub-resource words each answer with their own shape.

    Child segments are no evidence of difference: below a parameter they are
    values too (``/repos/alice/widget`` and ``/repos/bob/gadget``)."""
    signature_use: dict[str, int] = {}
    for node in literal.values():
        for signature in node.signatures:
            signature_use[signature] = signature_use.get(signature, 0) + 1
    with_evidence = own = 0
    for node in literal.values():
        if not node.signatures:
            continue
        with_evidence += 1
        own += all(signature_use[s] == 1 for s in node.signatures)
    return with_evidence, own


def _answer_alike(literal: dict[str, _Node]) -> bool:
    """Every sibling's subtree answers alike two levels deep, with evidence below
    the siblings themselves: ``/items/articles/{id}`` and ``/items/authors/{id}``."""
    profiles = [_profile(node) for node in literal.values()]
    if not all(profiles) or not all(any(k for k, _ in p) for p in profiles):
        return False
    shared = set.intersection(*profiles)
    return all(len(shared) * 2 >= len(profile) for profile in profiles)


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

    def add(self, path: str, count: int = 1, signatures: Iterable[str] = ()) -> None:
        """One path (or shape) seen ``count`` times, with signatures of its responses."""
        node = self._root
        node.count += count
        for index, segment in enumerate(_segments(path)):
            key = PARAM if index > 0 and self._typed(segment) else segment
            node = node.children.setdefault(key, _Node())
            node.count += count
        if signatures and len(node.signatures) < MAX_SIGNATURES:
            node.signatures.update(sorted(signatures)[:MAX_SIGNATURES - len(node.signatures)])
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

    def _merges(self, literal: dict[str, _Node], depth: int) -> bool:
        """Whether the literal children of one position are values of a parameter."""
        n = len(literal)
        if n < 2:
            return False
        with_evidence, own = _own_shapes(literal)
        distinct = with_evidence > 0 and own * 2 >= with_evidence
        values = sum(map(looks_like_value, literal)) * 2 >= n
        if depth == 0:  # a collection name unless the evidence is strong
            return n >= self.rules.merge_threshold and values and not distinct
        if n >= self.rules.merge_threshold:
            return not distinct
        # Values a parameter elsewhere already took (``/items/{collection}`` makes
        # ``/utils/export/articles`` a collection too): data, not vocabulary.
        recurring = sum(key in self._merged_values for key in literal) * 2 >= n
        if (recurring or frozenset(literal) in self._shared_domains) and not distinct:
            return True
        if n < MIN_VALUES or own:
            return False
        return (values and with_evidence > 0) or _answer_alike(literal)

    def _joins_typed(self, key: str, node: _Node, typed: _Node) -> bool:
        """A literal beside typed ids that is one of them, untyped by chance (a
        base62 id with no digit): long and value-like, or answering as they do."""
        if not looks_like_value(key):
            return False
        return len(key) >= 16 or bool(node.signatures & typed.signatures)

    def _compile(self, node: _Node, depth: int) -> _Node:
        literal = {k: n for k, n in node.children.items() if k != PARAM}
        pooled = [node.children[PARAM]] if PARAM in node.children else []
        candidates = {k: n for k, n in literal.items() if k and k not in self.rules.literals
                      and k not in WELL_KNOWN_LITERALS and not _VERSION.match(k)}
        kind = ID
        if self._merges(candidates, depth):
            total = sum(n.count for n in candidates.values())
            for key in [k for k in candidates if not self._keep_literal(k, candidates, total)]:
                pooled.append(literal.pop(key))
                self._found_values.add(key)
                kind = NAME
        elif pooled and depth > 0:
            for key in [k for k in candidates if self._joins_typed(k, candidates[k], pooled[0])]:
                pooled.append(literal.pop(key))
        compiled = _Node()
        compiled.count = node.count
        compiled.signatures = node.signatures
        for key, child in literal.items():
            compiled.children[key] = self._compile(child, depth + 1)
        if pooled:
            compiled.children[PARAM] = self._compile(_union(pooled), depth + 1)
            compiled.children[PARAM].kind = kind
        return compiled

    def _sibling_sets(self, root: _Node) -> list[frozenset[str]]:
        """Each position's literal children, where there are 3 to K-1 of them."""
        found, stack = [], [(root, 0)]
        while stack:
            node, depth = stack.pop()
            literal = frozenset(k for k in node.children if k != PARAM)
            if depth > 0 and MIN_VALUES <= len(literal) < self.rules.merge_threshold:
                found.append(literal)
            stack.extend((child, depth + 1) for child in node.children.values())
        return found

    def _value_domains(self, compiled: _Node) -> set[frozenset[str]]:
        """Sibling sets that recur, mostly the same, at different positions of the
        compiled trie: one domain of values (the collections of ``/items/*`` and
        ``/fields/*``). Vocabulary rarely repeats wholesale at different positions
        (below a parameter, ``/repos/{o}/{r}/issues|pulls`` is one position once
        compiled); Jaccard >= 0.5 between two sets."""
        sets = self._sibling_sets(compiled)
        shared: set[frozenset[str]] = set()
        for index, first in enumerate(sets):
            for second in sets[index + 1:]:
                if len(first & second) * 2 >= len(first | second):
                    shared.update((first, second))
        return shared

    def _compile_all(self) -> _Node:
        # Twice: the first pass finds which literals are values somewhere, the
        # second lets those values merge wherever else they recur.
        self._merged_values: set[str] = set()
        self._found_values: set[str] = set()
        self._shared_domains: set[frozenset[str]] = set()
        first = self._compile(self._root, 0)
        self._shared_domains = self._value_domains(first)
        self._merged_values, self._found_values = self._found_values, set()
        return self._compile(self._root, 0)

    def _trie_template(self, path: str) -> str:
        if self._compiled is None:
            self._compiled = self._compile_all()
        node: _Node | None = self._compiled
        segments: list[str | None] = []
        kinds: list[str] = []
        for index, segment in enumerate(_segments(path)):
            typed = index > 0 and self._typed(segment)
            if node is not None and not typed and segment in node.children:
                node = node.children[segment]
                segments.append(segment)
                kinds.append(ID)
            elif node is not None and PARAM in node.children and (index > 0 or not typed):
                node = node.children[PARAM]
                segments.append(None)
                kinds.append(node.kind)
            else:  # a path never added: only typed segments become parameters
                node = None
                segments.append(None if typed else segment)
                kinds.append(ID)
        return name_parameters(segments, kinds)

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
            learnt_segments = _segments(learnt)
            if any(not is_parameter(mine) and is_parameter(theirs)
                   for mine, theirs in zip(learnt_segments, _segments(best), strict=True)):
                return learnt  # a literal the trie keeps is never captured by a lock
            if any(map(is_parameter, _segments(best))) or learnt == best:
                return best
            # An all-literal locked template is absorbed by a parameter that now
            # covers it (a merge); a parameter template is never split.
        return learnt

    def merged_values(self, paths: Iterable[str], limit: int = 5) -> dict[str, list]:
        """For each template, per parameter position: how many distinct values it
        merged and the first ``limit`` of them (what ``freshmock endpoints`` shows)."""
        seen: dict[str, list[set[str]]] = {}
        for path in paths:
            template = self.template(path)
            segments, actual = _segments(template), _segments(path)
            if len(segments) != len(actual):
                continue
            slots = seen.setdefault(template, [set() for _ in segments])
            for slot, mine, value in zip(slots, segments, actual, strict=True):
                if is_parameter(mine):
                    slot.add(value)
        out: dict[str, list] = {}
        for template, slots in seen.items():
            out[template] = [
                {"parameter": segment, "typed": PARAM in values or any(map(is_parameter, values)),
                 "distinct": len(named), "values": sorted(named)[:limit]}
                for segment, values in zip(_segments(template), slots, strict=True)
                if is_parameter(segment)
                for named in [{v for v in values if v != PARAM and not is_parameter(v)}]
            ]
        return out


class PathRulesError(FreshmockError):
    """A rules file that cannot be used; the message names the file and key."""


def load_path_rules(path) -> PathRules:
    """``[paths]`` of a freshmock.toml: merge_threshold, templates (pinned), literals."""
    from freshmock.proxy.toml_file import read_toml

    table = read_toml(path, PathRulesError).get("paths", {})
    if not isinstance(table, dict):
        raise PathRulesError(f"{path}: paths must be a [paths] table")
    from freshmock.proxy.toml_file import unknown_key_hint

    known = ("merge_threshold", "templates", "literals", "discriminators")
    for key in sorted(set(table) - set(known)):
        raise PathRulesError(f"{path}: [paths] unknown key {key!r}; {unknown_key_hint(key, known)}")
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
