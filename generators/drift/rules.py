"""Every threshold drift is decided with, and the statistics behind it.

Drift compares a baseline window with a current window. Whether a field, a
type, a status or an endpoint is "gone" (or "new") is a two-sample question
on counts the statistics already keep: present in ``a`` of ``n`` baseline
observations and in ``c`` of ``m`` current ones. It is answered with a
one-sided Fisher exact test (``drift_evidence.fisher_lower``): conditional
on the margins, the chance of a current count this low if nothing changed.
Present in all n and absent from all m gives p = 1/C(n+m, n): 5/5 -> 0/5 is
0.004 (no verdict at the level below), 7/7 -> 0/7 is 3e-4, 30/30 -> 0/30 is
8e-18 (decisive); 50/50 -> 49/50 is p = 0.5, so a field at 95-99% presence
never flip-flops between nightly windows (NOTES-inference.md).

Many fields are tested at once, so a family of tests (the fields and types
of one endpoint's bodies; the statuses of one endpoint; the endpoints of one
dependency) shares one false-alarm level: Tarone's rule first drops the
tests that cannot reach significance whatever the data (a field present
everywhere on both sides has one possible table, p = 1), then Holm's step
down keeps the family-wise false-alarm rate at ``FALSE_ALARM_LEVEL``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Family-wise false-alarm level per family of tests (one endpoint's bodies,
# one endpoint's statuses, one dependency's endpoints). At 0.001 a nightly
# job over 30 endpoints raises a false alarm about once in 30 nights at
# worst (Holm bounds it; discrete Fisher tests stay well below the bound).
FALSE_ALARM_LEVEL = 1e-3

# Effect-size floor: a significant change must also move a presence (or a
# type's share) by at least this much. With thousands of observations a
# 0.5-point drift is "significant" yet is sampling of a long tail, not a
# changed contract; a required field missing from 2% of answers is not.
MIN_EFFECT = 0.02

# Fewer observations than this on either side of an endpoint (or status):
# no verdict, whatever the arithmetic says. 3/3 -> 0/100 is p = 6e-6, but
# three baseline calls are one deploy or one retry loop, not "the usual".
MIN_SIDE_OBSERVATIONS = 5

# A property that disappears entirely is breaking when the baseline had it
# in at least this share of objects (a consumer reads it unguarded), risky
# below (an optional field a consumer had to guard anyway).
NEARLY_ALWAYS = 0.95

# Value-based rules count distinct evidence only: values from bodies not
# seen before in the same day's partial (stats "repeats" are left out), so
# one example body served 30 times is one value, not thirty.
#
# A string field is enum-like when at least ENUM_MIN_VALUES distinct-body
# values took between ENUM_MIN_DISTINCT and ENUM_MAX_DISTINCT distinct
# values, none has a format and the set is not pattern-like (ids, hashes,
# colours: schema.formats.is_pattern_like). One value repeated is a
# constant or a single example, not evidence of a closed set. At 50 draws
# a value with a 6% share is missed with probability 0.94**50 = 4%.
ENUM_MIN_VALUES = 50
ENUM_MIN_DISTINCT = 2
ENUM_MAX_DISTINCT = 16

# A format is established when at least this many distinct-body non-empty
# baseline values all matched it (3/30 bounds the mismatch rate at 10%, 95%).
FORMAT_MIN_VALUES = 30


@dataclass(frozen=True)
class DriftThresholds:
    false_alarm_level: float = FALSE_ALARM_LEVEL
    min_effect: float = MIN_EFFECT
    min_side_observations: int = MIN_SIDE_OBSERVATIONS
    nearly_always: float = NEARLY_ALWAYS
    enum_min_values: int = ENUM_MIN_VALUES
    enum_min_distinct: int = ENUM_MIN_DISTINCT
    enum_max_distinct: int = ENUM_MAX_DISTINCT
    format_min_values: int = FORMAT_MIN_VALUES
