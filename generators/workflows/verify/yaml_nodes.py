"""YAML read twice: values with PyYAML's safe loader, positions from its node graph.

Cassettes and ``responses`` files are YAML; a finding names the line of its
interaction and ``--fix`` rewrites one scalar in place, so the composed node
(with its marks) of each value is kept beside the value.
"""

from __future__ import annotations

import yaml


class YamlError(ValueError):
    pass


def load_with_nodes(text: str):
    """(value, node) of the first document; YamlError when it is not YAML."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise YamlError(str(error).splitlines()[0]) from None
    return value, node


def child(node, key):
    """The node under ``key`` of a mapping node (or index of a sequence node), or None."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return value_node
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return None


def walk(node, *keys):
    for key in keys:
        if node is None:
            return None
        node = child(node, key)
    return node


def line(node) -> int:
    return node.start_mark.line + 1 if node is not None else 1


def scalar_text(text: str) -> str:
    """``text`` as a YAML scalar on one line: single-quoted when it has no line break."""
    if "\n" in text or "\r" in text or not text.isprintable():
        import json

        return json.dumps(text)  # a JSON string is a YAML double-quoted scalar
    return "'" + text.replace("'", "''") + "'"
