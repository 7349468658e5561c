"""Line numbers of keys in a JSON or YAML document, for findings that name a line."""

from __future__ import annotations

import yaml

from freshmock.generators.workflows.verify.json_spans import line_of, parse_spans
from freshmock.generators.workflows.verify.yaml_nodes import line, walk


def json_locator(text: str):
    root = parse_spans(text)

    def locate(*keys) -> int:
        span, at = root, root.start
        for key in keys:
            if isinstance(key, int) and key < len(span.items):
                span = span.items[key]
                at = span.start
            elif key in span.members:
                at, span = span.members[key]
            else:
                break
        return line_of(text, at)

    return locate


def yaml_locator(root):
    """The line of the last key found (the key's own line, not its value's)."""
    def locate(*keys) -> int:
        node, at = root, line(root)
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value if k.value == key), None)
                if pair is None:
                    break
                at, node = line(pair[0]), pair[1]
            else:
                nxt = walk(node, key)
                if nxt is None:
                    break
                at, node = line(nxt), nxt
        return at

    return locate
