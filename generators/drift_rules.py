"""Thresholds drift is decided with, and the statistics behind them.

Drift compares a baseline window with a current window, never one night with
the next: nightly samples of 20-100 flip a 99%-present field between
required and optional on 30-45% of nights (NOTES-inference.md).
"""

from __future__ import annotations

from dataclasses import dataclass

# Rule of three: a property seen in all of n baseline objects has an absence
# rate below 3/n with 95% confidence. At 100 that bound is 3%: "present in
# nearly every baseline observation".
BASELINE_MIN_OBJECTS = 100
NEARLY_ALWAYS = 0.97

# A property "removed" must be missing from this many current objects in a
# row-independent sense: at a true presence of 97%, 30 misses in a row happen
# with probability 0.03**30 — never. Fewer current objects: no verdict.
CURRENT_MIN_OBJECTS = 30

# required -> optional: present in every baseline object (>= BASELINE_MIN_OBJECTS)
# and absent from at least this many current objects AND this share of them.
# A field at 95% presence is never "required" in the baseline, so it cannot
# flip-flop; a field at 100% that misses once in thousands is noise, not drift.
OPTIONAL_MIN_MISSES = 3
OPTIONAL_MIN_MISS_SHARE = 0.01

# A type (or null) counts as present on a side only with this many values,
# and as gone from the current side only when the field itself was seen this
# often there.
TYPE_MIN_VALUES = 3

# A string field is enum-like in the baseline only with at most this many
# distinct values over at least ENUM_MIN_VALUES observations; only then is a
# new current value "enum value added".
ENUM_MAX_DISTINCT = 16
ENUM_MIN_VALUES = 50

# A format is established when at least this many non-empty baseline values
# all matched it.
FORMAT_MIN_VALUES = 30

# An endpoint (method + template) or a status "no longer seen" needs at least
# this many baseline observations of it, and the dependency must have at least
# CURRENT_MIN_SERVICE_OBSERVATIONS in the current window: a sidecar that saw
# nothing this week is an outage of the sidecar, not of the endpoint.
ENDPOINT_MIN_OBSERVATIONS = 20
CURRENT_MIN_SERVICE_OBSERVATIONS = 50


@dataclass(frozen=True)
class DriftThresholds:
    baseline_min_objects: int = BASELINE_MIN_OBJECTS
    nearly_always: float = NEARLY_ALWAYS
    current_min_objects: int = CURRENT_MIN_OBJECTS
    optional_min_misses: int = OPTIONAL_MIN_MISSES
    optional_min_miss_share: float = OPTIONAL_MIN_MISS_SHARE
    type_min_values: int = TYPE_MIN_VALUES
    enum_max_distinct: int = ENUM_MAX_DISTINCT
    enum_min_values: int = ENUM_MIN_VALUES
    format_min_values: int = FORMAT_MIN_VALUES
    endpoint_min_observations: int = ENDPOINT_MIN_OBSERVATIONS
    current_min_service_observations: int = CURRENT_MIN_SERVICE_OBSERVATIONS
