"""Line numbers of keys in a JSON or YAML document, for findings that name a line."""

from __future__ import annotations

from freshmock.generators.verify.json_spans import line_of, parse_spans
from freshmock.generators.verify.yaml_nodes import line, walk


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
    def locate(*keys) -> int:
        node = root
        for key in keys:
            nxt = walk(node, key)
            if nxt is None:
                break
            node = nxt
        return line(node)

    return locate
