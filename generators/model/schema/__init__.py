"""Schema inference that merges exactly: mergeable statistics, then a clean schema.

- ``stats``: per-node statistics of observed JSON values; ``observe``, ``merge``;
- ``publish``: statistics → JSON Schema 2020-12 (OpenAPI 3.1) (the function
  ``publish.publish`` is not re-exported: it would shadow its module);
- ``formats``: string format detectors;
- ``thresholds``: every threshold, with the statistic behind it;
- ``builder``: the same behind genson's ``SchemaBuilder`` interface.
"""

from freshmock.generators.model.schema.builder import StatsBuilder
from freshmock.generators.model.schema.publish import publish_document
from freshmock.generators.model.schema.stats import dumps, loads, merge, merge_into, observe

__all__ = [
    "StatsBuilder",
    "dumps",
    "loads",
    "merge",
    "merge_into",
    "observe",
    "publish_document",
]
