"""Two-sample evidence for drift: a one-sided Fisher exact test and its family correction.

Every drift verdict compares counts: ``hits`` of ``n`` baseline observations
against ``hits`` of ``m`` current ones (objects carrying a field, values of a
type, calls answered with a status). ``fisher_lower`` is the chance, given
the margins, of a current share this low when nothing changed;
``decide`` applies Tarone's and Holm's corrections to a family of such tests.
The levels are in ``drift_rules``.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import exp, lgamma


def _log_choose(n: int, k: int) -> float:
    return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)


def _log_pmf(x: int, total: int, hits: int, drawn: int) -> float:
    """log P(X = x), X the hits among ``drawn`` of ``total`` holding ``hits`` (hypergeometric)."""
    return (_log_choose(hits, x) + _log_choose(total - hits, drawn - x)
            - _log_choose(total, drawn))


@dataclass(frozen=True)
class Evidence:
    """One one-sided test: did the share fall from ``before`` to ``after``?"""

    p: float  # the p-value
    p_min: float  # the smallest p-value these margins allow (Tarone)


def fisher_lower(hits_before: int, n_before: int, hits_after: int, n_after: int) -> Evidence:
    """Fisher's exact test that the share of hits is lower after than before."""
    total, hits = n_before + n_after, hits_before + hits_after
    if not n_before or not n_after:
        return Evidence(1.0, 1.0)
    x_min = max(0, hits - n_before)  # every baseline observation a hit
    p_min = exp(_log_pmf(x_min, total, hits, n_after))
    if hits_after * n_before >= hits_before * n_after:  # no fall at all
        return Evidence(1.0, p_min)
    # Below the mean the terms shrink as x falls: sum down until they vanish.
    tail, x = 0.0, hits_after
    while x >= x_min:
        term = exp(_log_pmf(x, total, hits, n_after))
        tail += term
        if term < tail * 1e-15:
            break
        x -= 1
    return Evidence(min(1.0, tail), p_min)


def fisher_higher(hits_before: int, n_before: int, hits_after: int, n_after: int) -> Evidence:
    """Fisher's exact test that the share of hits is higher after than before."""
    return fisher_lower(hits_after, n_after, hits_before, n_before)


def decide(tests: list[tuple[Evidence, object]], level: float) -> list[object]:
    """The items of ``tests`` whose change is significant at family-wise ``level``.

    Tarone: with discrete tests, some cannot reach significance whatever the
    data; counting them in a Bonferroni divisor only costs power. The divisor
    ``k`` is the smallest with at most ``k`` tests able to reach ``level / k``.
    Holm's step-down then runs over those tests.
    """
    if not tests:
        return []
    k = 1
    while sum(1 for evidence, _ in tests if evidence.p_min <= level / k) > k:
        k += 1
    testable = sorted((t for t in tests if t[0].p_min <= level / k), key=lambda t: t[0].p)
    accepted = []
    for rank, (evidence, item) in enumerate(testable):
        if evidence.p > level / (k - rank):
            break
        accepted.append(item)
    return accepted


def decisive_at_best(n_before: int, n_after: int) -> float:
    """The smallest p-value any all-to-none change between these sizes can have."""
    if not n_before or not n_after:
        return 1.0
    return exp(-_log_choose(n_before + n_after, n_before))
