"""genson's ``SchemaBuilder``, made to merge exactly: ``StatsBuilder``.

genson keeps one strategy object per type per node and rebuilds ``required``
from emitted schemas, which is why merging its schemas is not associative
(issues #25, #78). Here one registered strategy, ``ObservedValues``, owns the
whole value tree as the plain-dict statistics of ``stats.py``: no per-node
objects, one dispatch per value, and a partial that merges exactly.

- ``add_object(body)`` observes one parsed body;
- ``add_schema(other)`` merges another ``StatsBuilder`` or a partial schema
  (``{"x-freshmock-stats": NODE}``, what ``to_partial()`` returns);
- ``to_schema()`` publishes the clean schema; ``to_partial()`` is the mergeable
  state, itself a JSON Schema document that only carries an annotation.
"""

from __future__ import annotations

from genson import SchemaBuilder
from genson.schema.strategies import SchemaStrategy

from freshmock.generators.model.schema import stats
from freshmock.generators.model.schema.publish import DIALECT, publish

STATS_KEYWORD = "x-freshmock-stats"


class ObservedValues(SchemaStrategy):
    """Every JSON value, whatever its type, tracked in one statistics node."""

    KEYWORDS = (STATS_KEYWORD,)

    @classmethod
    def match_object(cls, obj) -> bool:
        return True

    @classmethod
    def match_schema(cls, schema) -> bool:
        return STATS_KEYWORD in schema

    def __init__(self, node_class):
        super().__init__(node_class)
        self.node: dict = {}

    def add_object(self, obj) -> None:
        stats.observe(self.node, obj)

    def add_schema(self, schema) -> None:
        stats.merge_into(self.node, schema[STATS_KEYWORD])

    def to_schema(self) -> dict:
        return {STATS_KEYWORD: stats.clone(self.node)}


class StatsBuilder(SchemaBuilder):
    EXTRA_STRATEGIES = (ObservedValues,)

    def __init__(self, partial: dict | None = None):
        super().__init__(schema_uri=DIALECT)
        if partial is not None:
            self.add_schema(partial)

    @classmethod
    def from_node(cls, node: dict) -> StatsBuilder:
        """A builder that owns ``node`` (no copy: the caller hands it over)."""
        builder = cls()
        strategy = ObservedValues(builder.NODE_CLASS)
        strategy.node = node
        builder._root_node._active_strategies.append(strategy)
        return builder

    @property
    def node(self) -> dict:
        """The live statistics node (read it, do not change it)."""
        strategies = self._root_node._active_strategies
        return strategies[0].node if strategies else {}

    def add_object(self, obj, repeat: bool = False) -> None:
        """Observe one body; ``repeat``: a byte-identical copy of one observed before."""
        if not repeat:
            super().add_object(obj)
            return
        if not self._root_node._active_strategies:
            # An empty builder (a new day's partial whose first body repeats one
            # an earlier run folded in): start the node empty, never by genson's
            # add_object, which would count the copy as value evidence.
            self._root_node._active_strategies.append(ObservedValues(self.NODE_CLASS))
        stats.observe(self.node, obj, repeat=True)

    def add_schema(self, schema) -> None:
        if isinstance(schema, StatsBuilder):
            schema = schema.to_partial()
        if not isinstance(schema, dict) or STATS_KEYWORD not in schema:
            raise ValueError(
                f"StatsBuilder merges only its own partials ({STATS_KEYWORD!r}): "
                "a plain JSON Schema has no counts to merge"
            )
        super().add_schema({STATS_KEYWORD: schema[STATS_KEYWORD]})

    def to_partial(self) -> dict:
        return {STATS_KEYWORD: stats.clone(self.node)}

    def to_schema(self) -> dict:
        return {**self._base_schema(), **publish(self.node)}

    def __len__(self) -> int:
        return stats.count(self.node)
