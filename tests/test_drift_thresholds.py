"""Each documented drift threshold, on both sides of its value, and the statistics behind it.

`generators/drift/rules.py` names every number drift is decided with; a mutation run
(tests/mutation) showed that lowering one went unnoticed. Here each is probed one step
below and at (or one step above) its value, with the other rules far from their own
edges, so a change of any one number flips exactly one verdict. The Fisher tests are
checked against an exact hypergeometric sum in rationals, computed independently.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest

from freshmock.generators.drift.evidence import (
    Evidence,
    decide,
    decisive_at_best,
    fisher_higher,
    fisher_lower,
)
from freshmock.generators.drift.rules import DriftThresholds
from freshmock.generators.drift.shapes import Severity, compare_nodes
from freshmock.generators.drift.stub_baseline import StubbedEndpoint
from freshmock.generators.drift.windows import NO_VERDICT, NOT_OBSERVED, compare_windows
from freshmock.generators.model.schema.stats import observe

RULES = DriftThresholds()
LEVEL = RULES.false_alarm_level


# --- evidence.py: the Fisher test and the family correction -------------------------

def exact_lower(a: int, n: int, c: int, m: int) -> float:
    """P(current hits <= c) given the margins: the hypergeometric tail, in rationals."""
    total, hits = n + m, a + c
    tail = sum(Fraction(comb(hits, x) * comb(total - hits, m - x)) for x in range(0, c + 1))
    return float(tail / comb(total, m))


@pytest.mark.parametrize(("a", "n", "c", "m"), [
    (5, 5, 0, 5), (7, 7, 0, 7), (30, 30, 0, 30), (50, 50, 49, 50), (8, 10, 2, 10),
    (40, 60, 10, 60), (3, 200, 0, 150), (120, 120, 100, 130), (9, 10, 8, 40),
])
def test_fisher_lower_is_the_exact_hypergeometric_tail(a, n, c, m):
    evidence = fisher_lower(a, n, c, m)
    assert evidence.p == pytest.approx(exact_lower(a, n, c, m), rel=1e-9)
    # p_min: every baseline observation a hit, the fewest current hits the margins allow
    x_min = max(0, a + c - n)
    p_min = comb(a + c, x_min) * comb(n + m - a - c, m - x_min) / comb(n + m, m)
    assert evidence.p_min == pytest.approx(p_min, rel=1e-9)


def test_the_documented_p_values_of_an_all_to_none_change():
    assert fisher_lower(5, 5, 0, 5).p == pytest.approx(1 / 252)  # 0.004: no verdict
    assert fisher_lower(7, 7, 0, 7).p == pytest.approx(1 / 3432)  # 3e-4: a verdict
    assert fisher_lower(50, 50, 49, 50).p == pytest.approx(0.5)


def test_an_equal_or_higher_share_after_is_no_fall_and_a_slightly_lower_one_is():
    assert fisher_lower(10, 20, 10, 20).p == 1.0  # the same share exactly
    assert fisher_lower(10, 20, 11, 20).p == 1.0
    slight = fisher_lower(10, 20, 9, 20)
    assert 0.3 < slight.p < 1.0
    assert slight.p == pytest.approx(exact_lower(10, 20, 9, 20), rel=1e-9)


def test_an_empty_side_has_no_evidence_either_way():
    assert fisher_lower(0, 0, 5, 5) == Evidence(1.0, 1.0)
    assert fisher_lower(5, 5, 0, 0) == Evidence(1.0, 1.0)
    assert fisher_higher(0, 0, 5, 5) == Evidence(1.0, 1.0)


def test_fisher_higher_is_the_lower_test_with_the_sides_swapped():
    assert fisher_higher(0, 30, 30, 30).p == pytest.approx(1 / comb(60, 30), rel=1e-9)
    assert fisher_higher(2, 40, 9, 40) == fisher_lower(9, 40, 2, 40)
    assert fisher_higher(9, 40, 2, 40).p == 1.0


def test_decisive_at_best_is_one_over_the_number_of_tables():
    assert decisive_at_best(7, 7) == pytest.approx(1 / 3432)
    assert decisive_at_best(4, 100) == pytest.approx(1 / comb(104, 4))
    assert decisive_at_best(0, 9) == 1.0 and decisive_at_best(9, 0) == 1.0


def ev(p: float, p_min: float = 1e-12) -> Evidence:
    return Evidence(p, p_min)


def test_decide_on_nothing_is_nothing():
    assert decide([], LEVEL) == []


def test_holm_steps_down_from_the_smallest_p_value():
    # k = 2: 0.0004 <= 0.001/2, then 0.0009 <= 0.001/1 (Bonferroni would stop at 0.0005)
    assert decide([(ev(0.0009), "b"), (ev(0.0004), "a")], LEVEL) == ["a", "b"]
    # the smallest fails its level: the step-down stops, the next is not even tried
    assert decide([(ev(0.0006), "a"), (ev(0.0001 + 0.0006), "b")], LEVEL) == []
    # a p-value equal to its level is accepted
    assert decide([(ev(0.0005), "a"), (ev(0.001), "b")], LEVEL) == ["a", "b"]
    assert decide([(ev(0.0005), "a"), (ev(0.0010001), "b")], LEVEL) == ["a"]


def test_tarone_leaves_out_tests_that_could_never_reach_the_level():
    # the second test cannot reach 0.001 whatever the data: it costs no power
    assert decide([(ev(0.0009), "a"), (ev(1.0, 1.0), "b")], LEVEL) == ["a"]
    assert decide([(ev(0.0009), "a"), (ev(1.0, LEVEL * 1.0001), "b")], LEVEL) == ["a"]
    # ... but one that can (p_min at the level) is counted: k = 2 and 0.0009 > 0.0005
    assert decide([(ev(0.0009), "a"), (ev(1.0, 0.0005), "b")], LEVEL) == []
    # three able tests: k = 3, so 0.0004 > 0.001/3 is not enough
    three = [(ev(0.0004), "a"), (ev(1.0, 0.0002), "b"), (ev(1.0, 0.0003), "c")]
    assert decide(three, LEVEL) == []
    assert decide([(ev(0.0003), "a"), *three[1:]], LEVEL) == ["a"]


def test_tarone_counts_a_test_only_against_level_over_k_not_level_times_k():
    # k = 1: two tests could reach 0.001, too many; k = 2: only one could reach 0.0005,
    # so k = 2 (a third, p_min 0.0015, never counts) and 0.0004 <= 0.001 / 2 is a verdict
    family = [(ev(0.0004), "a"), (ev(1.0, 0.0008), "b"), (ev(1.0, 0.0015), "c")]
    assert decide(family, LEVEL) == ["a"]


def test_a_test_tarone_left_out_is_not_accepted_later_in_the_step_down():
    # k = 2 (only "a" could reach 0.0005): "b", p_min 0.0008, is not testable, even though
    # its p = 0.0009 would pass Holm's second step (0.001 / 1)
    assert decide([(ev(1e-12), "a"), (ev(0.0009, 0.0008), "b")], LEVEL) == ["a"]


def test_tarone_counts_a_test_whose_best_p_value_is_exactly_level_over_k():
    # p_min of "c" is exactly 0.001 / 2: at k = 2 three tests could reach it, so k = 3,
    # and 0.0004 > 0.001 / 3 is no verdict (k = 2 would have accepted it)
    family = [(ev(0.0004), "a"), (ev(1.0), "b"), (ev(1.0, LEVEL / 2), "c")]
    assert decide(family, LEVEL) == []


def test_a_test_whose_best_p_value_is_exactly_the_level_is_testable():
    assert decide([(ev(LEVEL, LEVEL), "a")], LEVEL) == ["a"]


# --- rules.py, through shapes.py: presence, formats, enums ----------------------------

def stats(bodies) -> dict:
    node: dict = {}
    for body in bodies:
        observe(node, body)
    return node


def changes(base_bodies, current_bodies):
    return [(c.severity, c.kind, c.path) for c in compare_nodes(stats(base_bodies),
                                                                 stats(current_bodies))]


def with_note(n: int, present: int) -> list[dict]:
    return [{"id": k, **({"note": f"n{k}"} if k < present else {})} for k in range(n)]


def test_a_property_gone_that_was_in_95_percent_of_objects_is_breaking_below_is_risky():
    current = [{"id": k} for k in range(100)]
    assert changes(with_note(100, 95), current) == [
        (Severity.breaking, "property-removed", "/note")]
    assert changes(with_note(100, 94), current) == [
        (Severity.risky, "optional-property-removed", "/note")]


def test_a_property_gone_below_the_effect_floor_is_not_tested():
    current = [{"id": k} for k in range(3000)]
    # 2% of 200 baseline objects is 4: at the floor it is reported; 3 is below it,
    # though 3/200 -> 0/3000 alone would be significant (p = 2.4e-4)
    assert changes(with_note(200, 4), current) == [
        (Severity.risky, "optional-property-removed", "/note")]
    assert changes(with_note(200, 3), current) == []


def test_a_new_property_below_the_effect_floor_is_not_an_addition():
    base = [{"id": k} for k in range(3000)]
    # 4 of 200 current objects is the 2% floor (p = C(200,4)/C(3200,4), decisive)
    assert changes(base, with_note(200, 4)) == [(Severity.additive, "property-added", "/note")]
    assert changes(base, with_note(200, 3)) == []


def test_missing_from_2_percent_of_current_objects_is_became_optional_below_is_not():
    base = with_note(3000, 3000)
    assert changes(base, with_note(200, 196)) == [
        (Severity.breaking, "became-optional", "/note")]
    assert changes(base, with_note(200, 197)) == []


def test_a_type_that_appears_below_the_effect_floor_is_not_a_change():
    base = [{"v": k} for k in range(3000)]
    at_floor = [{"v": k} for k in range(196)] + [{"v": f"s{k}"} for k in range(4)]
    below = [{"v": k} for k in range(197)] + [{"v": f"s{k}"} for k in range(3)]
    assert changes(base, at_floor) == [(Severity.breaking, "type-widened", "/v")]
    assert changes(base, below) == []


def test_a_type_that_stops_below_the_effect_floor_is_not_a_change():
    current = [{"v": k} for k in range(3000)]
    at_floor = [{"v": k} for k in range(196)] + [{"v": None} for _ in range(4)]
    below = [{"v": k} for k in range(197)] + [{"v": None} for _ in range(3)]
    assert changes(at_floor, current) == [(Severity.risky, "type-narrowed", "/v")]
    assert changes(below, current) == []


def stamps(n: int) -> list[dict]:
    return [{"at": f"2026-11-{1 + k % 28:02d}T10:{k % 60:02d}:00Z"} for k in range(n)]


def test_a_format_is_established_by_30_distinct_body_values():
    current = [{"at": "yesterday"} for _ in range(40)]
    assert changes(stamps(30), current) == [(Severity.risky, "format-dropped", "/at")]
    assert changes(stamps(29), current) == []


def test_a_format_changed_to_another_is_format_changed():
    current = [{"at": f"user{k}@example.test"} for k in range(40)]
    assert changes(stamps(30), current) == [(Severity.risky, "format-changed", "/at")]


def states(n: int, words: list[str]) -> list[dict]:
    return [{"state": words[k % len(words)]} for k in range(n)]


WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
         "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec"]
NEW_VALUE = [{"state": "zulu"} for _ in range(100)]


def test_an_enum_needs_50_distinct_body_values():
    added = [(Severity.risky, "enum-value-added", "/state")]
    assert changes(states(50, WORDS[:3]), NEW_VALUE) == added
    assert changes(states(49, WORDS[:3]), NEW_VALUE) == []


def test_an_enum_needs_at_least_2_and_at_most_16_distinct_values():
    added = [(Severity.risky, "enum-value-added", "/state")]
    assert changes(states(200, WORDS[:2]), NEW_VALUE) == added
    assert changes(states(200, WORDS[:1]), NEW_VALUE) == []
    assert changes(states(200, WORDS[:16]), NEW_VALUE) == added
    assert changes(states(200, WORDS[:17]), NEW_VALUE) == []


def test_a_known_value_is_never_an_enum_addition():
    assert changes(states(200, WORDS[:4]), states(100, WORDS[:2])) == []


# --- rules.py, through windows.py: side sizes, statuses, endpoints ---------------------

SERVICE = "shop"


def window(calls: dict[tuple[str, str, int, str], int]) -> dict:
    """A window of call counts only: (method, template, status, media type) -> calls."""
    return {(SERVICE, method, template, "", status, media): StubbedEndpoint(
        n, "2026-11-01T00:00:00Z", "2026-11-07T00:00:00Z")
        for (method, template, status, media), n in calls.items()}


def kinds(report) -> set[tuple]:
    return {(d.method, d.path_template, d.status, c.kind, c.severity)
            for d in report.drifts for c in d.changes}


def route(status_calls: dict[int, int], path: str = "/orders") -> dict:
    return {("GET", path, status, ""): n for status, n in status_calls.items()}


def by_service(calls: dict[str, int], path: str = "/orders") -> dict:
    """A window of one bodyless route per service: service -> calls."""
    return {(service, "GET", path, "", 200, ""): StubbedEndpoint(
        n, "2026-11-01T00:00:00Z", "2026-11-07T00:00:00Z") for service, n in calls.items()}


def with_bodies(bodies: dict[int, list]) -> dict:
    """A window of GET /orders with JSON response bodies: status -> objects."""
    found = {}
    for status, objects in bodies.items():
        partial = found[(SERVICE, "GET", "/orders", "", status, "application/json")] = \
            StubbedEndpoint(len(objects), "2026-11-01T00:00:00Z", "2026-11-07T00:00:00Z")
        for body in objects:
            partial.response.add_object(body)
    return found


def test_fewer_than_5_baseline_calls_is_no_verdict_even_when_decisive():
    # 4 -> 1000 calls has p = 1/C(1004, 4): only the side-size rule stops it
    report = compare_windows(window(route({200: 4})), window(route({500: 1000})))
    assert kinds(report) == set()
    assert {c.verdict for c in report.coverage} == {NO_VERDICT}
    report = compare_windows(window(route({200: 5})), window(route({500: 1000})))
    assert ("GET", "/orders", 200, "status-gone", Severity.breaking) in kinds(report)


def test_fewer_than_5_current_calls_is_no_verdict_even_when_decisive():
    report = compare_windows(window(route({200: 1000})), window(route({500: 4})))
    assert kinds(report) == set()
    report = compare_windows(window(route({200: 1000})), window(route({500: 5})))
    assert ("GET", "/orders", 200, "status-gone", Severity.breaking) in kinds(report)


def test_sides_too_small_to_ever_be_decisive_are_no_verdict():
    # 6 -> 6: at best 1/C(12, 6) = 0.0011 > 0.001; 7 -> 7: 1/3432
    report = compare_windows(window(route({200: 6})), window(route({500: 6})))
    assert kinds(report) == set()
    assert {c.verdict for c in report.coverage} == {NO_VERDICT}
    report = compare_windows(window(route({200: 7})), window(route({500: 7})))
    assert kinds(report) == {("GET", "/orders", 200, "status-gone", Severity.breaking)}


def test_an_error_that_replaced_a_success_is_told_once_on_the_success():
    report = compare_windows(window(route({200: 300})), window(route({404: 300})))
    assert kinds(report) == {("GET", "/orders", 200, "status-gone", Severity.breaking)}
    (gone,) = [c for d in report.drifts for c in d.changes]
    assert gone.new == "not seen; now 404 on 300 calls"


def test_a_new_client_error_beside_successes_is_breaking_a_new_success_additive():
    base = window(route({200: 3000}))
    report = compare_windows(base, window(route({200: 196, 409: 4})))
    assert kinds(report) == {("GET", "/orders", 409, "new-client-error", Severity.breaking)}
    report = compare_windows(base, window(route({200: 196, 201: 4})))
    assert kinds(report) == {("GET", "/orders", 201, "status-added", Severity.additive)}
    report = compare_windows(base, window(route({200: 196, 503: 4})))
    assert kinds(report) == {("GET", "/orders", 503, "status-added", Severity.additive)}


def test_a_new_status_below_the_effect_floor_is_not_reported():
    report = compare_windows(window(route({200: 3000})), window(route({200: 197, 409: 3})))
    assert kinds(report) == set()


def test_a_status_gone_below_the_effect_floor_is_not_tested():
    current = window(route({200: 3000}))
    report = compare_windows(window(route({200: 392, 500: 8})), current)
    assert {c.note for c in report.coverage if c.status == 500} == {
        "an error status no longer seen"}
    report = compare_windows(window(route({200: 393, 500: 7})), current)
    assert {c.verdict for c in report.coverage if c.status == 500} == {NOT_OBSERVED}


def test_an_endpoint_gone_or_added_with_the_dependency_still_busy():
    base = window({**route({200: 300}), **route({200: 300}, "/users")})
    current = window({**route({200: 300}), **route({200: 300}, "/carts")})
    assert kinds(compare_windows(base, current)) == {
        ("GET", "/users", None, "endpoint-gone", Severity.breaking),
        ("GET", "/carts", None, "endpoint-added", Severity.additive)}


def test_an_endpoint_not_seen_in_a_quiet_window_is_not_gone():
    base = window({**route({200: 300}), **route({200: 3}, "/users")})
    current = window(route({200: 30}))
    report = compare_windows(base, current)
    assert kinds(report) == set()
    assert {c.verdict for c in report.coverage if c.path_template == "/users"} == {NOT_OBSERVED}


def test_a_media_type_changed_is_breaking_on_enough_calls_only():
    def side(media: str, n: int) -> dict:
        return window({("GET", "/orders", 200, media): n})

    report = compare_windows(side("application/json", 300), side("text/html", 300))
    assert kinds(report) == {("GET", "/orders", 200, "media-type-changed", Severity.breaking)}
    report = compare_windows(side("application/json", 4), side("text/html", 300))
    assert kinds(report) == set()


def test_a_comparison_with_an_empty_side_is_a_problem_not_a_green():
    base = window(route({200: 300}))
    assert compare_windows(base, {}).problems == [
        "the current window holds no observations: nothing to compare"]
    assert compare_windows({}, base).problems == [
        "the baseline holds no observations: nothing to compare"]
    assert compare_windows(base, base).problems == []


def test_thresholds_can_be_chosen_per_comparison_and_are_fixed_once_made():
    base, current = window(route({200: 5})), window(route({500: 1000}))
    stricter = DriftThresholds(min_side_observations=6)
    assert kinds(compare_windows(base, current, stricter)) == set()
    assert kinds(compare_windows(base, current)) != set()
    with pytest.raises(AttributeError):
        stricter.min_effect = 0.5  # frozen: one comparison cannot loosen another's rules


def test_a_300_status_gone_is_not_a_success_gone():
    # 2xx are successes: 300 going away is told in coverage, not as a breaking status-gone
    report = compare_windows(window(route({200: 300, 300: 300})), window(route({200: 600})))
    assert kinds(report) == set()
    assert {c.note for c in report.coverage if c.status == 300} == {
        "an error status no longer seen"}
    report = compare_windows(window(route({200: 300, 299: 300})), window(route({200: 600})))
    assert kinds(report) == {("GET", "/orders", 299, "status-gone", Severity.breaking)}


def test_a_changed_media_type_accounts_the_old_one_as_not_seen_now():
    report = compare_windows(window({("GET", "/orders", 200, "application/json"): 300}),
                             window({("GET", "/orders", 200, "text/html"): 300}))
    assert [(c.media_type, c.note, c.current_observations) for c in report.coverage] == [
        ("application/json", "media type changed", 0)]


def test_bodyless_answers_and_answers_without_json_are_compared_without_a_body_walk():
    report = compare_windows(window(route({204: 300})), window(route({204: 200})))
    assert [(c.verdict, c.note, c.current_observations) for c in report.coverage] == [
        ("compared", "no body", 200)]
    # JSON bodies on one side only (none recorded in the baseline): nothing to walk
    json_route = {("GET", "/orders", 200, "application/json"): 300}
    base, current = window(json_route), window(json_route)
    for k in range(50):
        current[(SERVICE, "GET", "/orders", "", 200, "application/json")].response.add_object(
            {"id": k})
    report = compare_windows(base, current)
    assert [(c.verdict, c.note) for c in report.coverage] == [
        ("compared", "no JSON bodies to compare")]


def test_the_report_names_the_first_and_last_day_of_each_side():
    base = {(SERVICE, "GET", "/orders", "", 200, ""): StubbedEndpoint(
        9, "2026-10-29T08:00:00Z", "2026-11-02T23:00:00Z")}
    report = compare_windows(base, window(route({200: 9})))
    assert (report.baseline.first_day, report.baseline.last_day) == ("2026-10-29", "2026-11-02")
    assert report.baseline.observations == 9
    assert (report.current.first_day, report.current.last_day) == ("2026-11-01", "2026-11-07")


def test_an_endpoint_gone_is_tested_only_against_endpoints_gone_or_added():
    # 11 of 311 calls, none of 300 after: p = 5.4e-4 <= 0.001 alone, > 0.001 / 2: the
    # endpoints on both sides are no test of the family, or the verdict would be lost
    assert LEVEL / 2 < fisher_lower(11, 311, 0, 300).p <= LEVEL
    base = window({**route({200: 300}), **route({200: 11}, "/users")})
    assert kinds(compare_windows(base, window(route({200: 300})))) == {
        ("GET", "/users", None, "endpoint-gone", Severity.breaking)}


def test_a_comparison_for_one_service_reads_only_that_service():
    base = by_service({"a": 300, "b": 300, "c": 300})
    current = {**by_service({"a": 300, "b": 250}), **by_service({"c": 300}, "/carts")}
    report = compare_windows(base, current, service="b")
    assert kinds(report) == set()
    assert {(c.service, c.current_observations) for c in report.coverage} == {("b", 250)}
    assert (report.baseline.observations, report.current.observations) == (300, 250)


def test_statuses_after_a_gone_one_are_still_compared():
    base = with_bodies({200: [{"n": k} for k in range(100)],
                        201: [{"n": k} for k in range(100)]})
    current = with_bodies({201: [{"n": f"s{k}"} for k in range(200)]})
    assert kinds(compare_windows(base, current)) == {
        ("GET", "/orders", 200, "status-gone", Severity.breaking),
        ("GET", "/orders", 201, "type-changed", Severity.breaking)}


def test_coverage_counts_what_the_current_window_holds_of_each_baseline_item():
    thin = compare_windows(window(route({200: 3, 404: 1})), window(route({200: 10})))
    assert {(c.status, c.verdict, c.current_observations) for c in thin.coverage} == {
        (200, NO_VERDICT, 10), (404, NO_VERDICT, 0)}
    gone = compare_windows(window(route({200: 300})), window(route({404: 300})))
    assert [(c.status, c.note, c.current_observations) for c in gone.coverage] == [
        (200, "status gone", 0)]
    media = compare_windows(
        window({("GET", "/orders", 200, "application/json"): 300,
                ("GET", "/orders", 200, "application/xml"): 300}),
        window({("GET", "/orders", 200, "application/json"): 300}))
    (xml,) = [c for c in media.coverage if c.media_type == "application/xml"]
    assert (xml.verdict, xml.current_observations) == (NOT_OBSERVED, 0)
    assert xml.note == ("media type not observed in the current window (status 200 answered "
                        "application/json)")


def test_a_body_where_there_was_none_is_not_a_media_type_change():
    report = compare_windows(window(route({200: 300})),
                             window({("GET", "/orders", 200, "application/json"): 300}))
    assert kinds(report) == set()
    assert [(c.verdict, c.note) for c in report.coverage] == [("compared", "no body on one side")]


@pytest.mark.parametrize("current_bodies,expected", [
    (0, ("compared", "no JSON bodies to compare")),
    (1, (NO_VERDICT, "thin evidence: 300 baseline observations, 300 current")),
])
def test_json_bodies_on_the_baseline_side_only_or_too_few_now(current_bodies, expected):
    json_route = {("GET", "/orders", 200, "application/json"): 300}
    base, current = window(json_route), window(json_route)
    key = (SERVICE, "GET", "/orders", "", 200, "application/json")
    for k in range(50):
        base[key].response.add_object({"id": k})
    for k in range(current_bodies):
        current[key].response.add_object({"id": k})
    assert [(c.verdict, c.note) for c in compare_windows(base, current).coverage] == [expected]


def test_an_endpoint_or_status_added_reports_the_p_value_of_its_own_test():
    base = window(route({200: 300}))
    report = compare_windows(base, window({**route({200: 300}), **route({200: 40}, "/carts")}))
    (added,) = [c for d in report.drifts for c in d.changes]
    assert added.evidence["p_value"] == float(f"{exact_lower(40, 340, 0, 300):.3g}") > 0
    report = compare_windows(base, window(route({200: 260, 201: 40})))
    (added,) = [c for d in report.drifts for c in d.changes]
    assert added.kind == "status-added"
    assert added.evidence["p_value"] == float(f"{exact_lower(40, 300, 0, 300):.3g}") > 0


def test_only_2xx_is_a_success_and_only_4xx_a_client_error():
    report = compare_windows(window(route({200: 300, 199: 300})), window(route({200: 600})))
    assert kinds(report) == set()  # 199 gone: not a success gone
    base = window(route({200: 3000}))
    for status, kind in ((399, "status-added"), (400, "new-client-error"),
                         (499, "new-client-error"), (500, "status-added")):
        report = compare_windows(base, window(route({200: 196, status: 4})))
        assert {k[3] for k in kinds(report)} == {kind}, status


def test_an_endpoint_added_is_tested_only_against_endpoints_gone_or_added():
    current = window({**route({200: 300}), **route({200: 11}, "/carts")})
    assert kinds(compare_windows(window(route({200: 300})), current)) == {
        ("GET", "/carts", None, "endpoint-added", Severity.additive)}


def test_an_endpoint_gone_or_added_states_its_counts_and_p_value():
    base = window({**route({200: 300}), **route({200: 40}, "/users")})
    report = compare_windows(base, window({**route({200: 300}), **route({200: 50}, "/carts")}))
    found = {c.kind: c.evidence for d in report.drifts for c in d.changes}
    assert found == {
        "endpoint-gone": {"baseline": 40, "current": 0, "service_current": 350,
                          "p_value": float(f"{exact_lower(40, 340, 0, 350):.3g}")},
        "endpoint-added": {"baseline": 0, "current": 50, "service_baseline": 340,
                           "p_value": float(f"{exact_lower(50, 350, 0, 340):.3g}")}}
    assert [c.current_observations for c in report.coverage if c.path_template == "/users"] == [0]


def test_a_status_gone_or_added_states_its_counts():
    report = compare_windows(window(route({200: 300})), window(route({201: 300})))
    found = {c.kind: c.evidence for d in report.drifts for c in d.changes}
    counts = {"baseline_statuses": {"200": 300}, "current_statuses": {"201": 300}}
    p = float(f"{exact_lower(300, 300, 0, 300):.3g}")
    assert found == {"status-gone": {"baseline": 300, "current": 0, **counts, "p_value": p},
                     "status-added": {"baseline": 0, "current": 300, **counts, "p_value": p}}


def test_a_success_gone_names_the_errors_that_came_instead_and_only_those():
    def gone(current: dict) -> str:
        report = compare_windows(window(route({200: 300, 500: 300})), window(route(current)))
        (change,) = [c for d in report.drifts for c in d.changes if c.kind == "status-gone"]
        return change.new

    assert gone({400: 600}) == "not seen; now 400 on 600 calls"
    assert gone({399: 600}) == "not seen"  # not an error; the 500 gone is not named either
    assert gone({201: 600}) == "not seen"


def test_statuses_after_a_new_one_are_still_compared():
    base = with_bodies({201: [{"n": k} for k in range(300)]})
    current = with_bodies({200: [{"n": k} for k in range(100)],
                           201: [{"n": f"s{k}"} for k in range(200)]})
    assert kinds(compare_windows(base, current)) == {
        ("GET", "/orders", 200, "status-added", Severity.additive),
        ("GET", "/orders", 201, "type-changed", Severity.breaking)}


def test_a_body_gone_is_not_a_media_type_change_and_a_bodyless_item_is_compared():
    report = compare_windows(window({("GET", "/orders", 200, "application/json"): 300}),
                             window(route({200: 300})))
    assert kinds(report) == set()
    assert [(c.verdict, c.note) for c in report.coverage] == [("compared", "no body on one side")]
    report = compare_windows(
        window({("GET", "/orders", 200, ""): 300,
                ("GET", "/orders", 200, "application/json"): 300}),
        window({("GET", "/orders", 200, "application/json"): 300}))
    (bodyless,) = [c for c in report.coverage if c.media_type == ""]
    assert (bodyless.verdict, bodyless.note, bodyless.current_observations) == (
        "compared", "no body on one side", 300)


def test_every_baseline_item_of_every_service_is_accounted_once():
    report = compare_windows(by_service({"a": 300, "b": 300, "c": 300}),
                             by_service({"a": 300, "b": 300, "c": 300}))
    assert [(c.service, c.verdict) for c in report.coverage] == [
        ("a", "compared"), ("b", "compared"), ("c", "compared")]


def test_an_empty_side_is_observed_as_nothing():
    report = compare_windows(window(route({200: 300})), {})
    assert (report.current.first_day, report.current.last_day, report.current.observations) == (
        None, None, 0)


# --- shapes.py: paths, maps, the type tests ----------------------------------------

def test_pointers_escape_only_what_rfc_6901_and_the_wildcard_need():
    from freshmock.generators.drift.shapes import pointer

    assert pointer("", "*") == "/~2"
    assert pointer("", "#tag") == "/#tag"  # sorts before "*": still an ordinary key
    assert pointer("", "") == "/"
    assert pointer("/a", "b/c~d") == "/a/b~1c~0d"
    assert pointer("", "**") == "/**"


def test_a_changed_value_shape_inside_a_map_keyed_by_ids_is_reported():
    def stock(qty):
        return {"stock": {str(1000 + k): {"qty": qty(k)} for k in range(5)}}

    base = [stock(lambda k: k) for _ in range(100)]
    current = [stock(lambda k: f"{k} units") for _ in range(100)]
    assert changes(base, current) == [(Severity.breaking, "type-changed", "/stock/*/qty")]


def test_a_type_gone_is_tested_as_none_left_in_the_current_window():
    # 4 of 200 nulls, then none in 950: p = 8.9e-4; one left would be p = 3.9e-3
    assert fisher_lower(4, 200, 0, 950).p <= LEVEL < fisher_lower(4, 200, 1, 950).p
    base = [{"v": k} for k in range(196)] + [{"v": None} for _ in range(4)]
    assert changes(base, [{"v": k} for k in range(950)]) == [
        (Severity.risky, "type-narrowed", "/v")]


def test_changes_are_values_fixed_once_made():
    (change,) = compare_nodes(stats(with_note(100, 100)), stats([{"id": 1}] * 100))
    assert {change} == {change}  # hashable: reports put changes in sets
    with pytest.raises(AttributeError):
        change.kind = "other"


def one_change(base_bodies, current_bodies):
    (change,) = compare_nodes(stats(base_bodies), stats(current_bodies))
    return change


def test_items_changing_type_in_an_array_is_breaking_widening_them_is_risky():
    assert changes([{"tags": [k, k + 1]} for k in range(100)],
                   [{"tags": [f"t{k}"]} for k in range(100)]) == [
        (Severity.breaking, "type-changed", "/tags/*")]
    assert changes([{"tags": [k, k + 1]} for k in range(100)],
                   [{"tags": [k + 0.5]} for k in range(100)]) == [
        (Severity.risky, "items-type-widened", "/tags/*")]


def test_a_whole_body_changing_type_is_a_type_change_not_an_items_one():
    from freshmock.generators.drift.shapes import BodyWalk

    walk = BodyWalk()
    walk.add(stats([{"id": k} for k in range(100)]), stats([[k] for k in range(100)]))
    assert [(c.severity, c.kind, c.path) for c in walk.changes()] == [
        (Severity.breaking, "type-changed", "")]
    assert [(c.severity, c.kind) for c in compare_nodes(
        stats([{"id": k} for k in range(100)]), stats([[k] for k in range(100)]))] == [
        (Severity.breaking, "type-changed")]


def test_a_change_says_what_each_side_held_in_words():
    change = one_change([{"v": k} for k in range(100)], [{"v": f"s{k}"} for k in range(100)])
    assert (change.old, change.new) == ("integer", "string")
    removed = one_change(with_note(100, 100), [{"id": k} for k in range(100)])
    assert (removed.old, removed.new) == ("string", "absent")
    assert removed.evidence == {"baseline_present": 100, "baseline_objects": 100,
                                "current_present": 0, "current_objects": 100,
                                "p_value": float(f"{exact_lower(100, 100, 0, 100):.3g}")}
    from freshmock.generators.drift.shapes import describe_types

    assert describe_types({}) == "nothing"
    assert describe_types({"string": {}, "null": {}}) == "null|string"


def test_a_current_side_of_empty_strings_is_no_evidence_a_format_went():
    assert changes(stamps(30), [{"at": ""} for _ in range(40)]) == []


def test_a_format_change_reports_the_distinct_values_behind_it():
    change = one_change(stamps(30), [{"at": f"user{k}@example.test"} for k in range(40)])
    assert change.evidence == {"baseline": 30, "current": 40}


def test_changes_sort_by_severity_first_then_part_and_path():
    from freshmock.generators.drift.shapes import Change

    made = [Change(Severity.additive, "property-added", "/a", "absent", "string"),
            Change(Severity.risky, "type-narrowed", "/b", "integer|null", "integer"),
            Change(Severity.breaking, "property-removed", "/z", "string", "absent"),
            Change(Severity.breaking, "property-removed", "/c", "string", "absent",
                   part="request")]
    assert [(c.severity, c.path) for c in sorted(made, key=Change.sort_key)] == [
        (Severity.breaking, "/c"), (Severity.breaking, "/z"), (Severity.risky, "/b"),
        (Severity.additive, "/a")]


def test_empty_strings_are_no_evidence_of_a_baseline_format():
    current = [{"id": k, "at": "yesterday"} for k in range(40)]
    empties = [{"id": 100 + k, "at": ""} for k in range(10)]
    with_ids = [{"id": k, **body} for k, body in enumerate(stamps(30))]
    assert changes(with_ids + empties, current) == [(Severity.risky, "format-dropped", "/at")]
    assert changes(with_ids[:25] + empties, current) == []


def test_a_field_that_became_null_or_a_string_is_a_widening_not_only_nullable():
    base = [{"v": k} for k in range(100)]
    current = [{"v": None if k % 2 else f"s{k}"} for k in range(100)]
    # the integers are gone too: a type change; integers kept beside both is a widening
    assert changes(base, current) == [(Severity.breaking, "type-changed", "/v")]
    current = [{"v": [None, f"s{k}", k][k % 3]} for k in range(150)]
    assert changes(base, current) == [(Severity.breaking, "type-widened", "/v")]
    current = [{"v": None if k % 2 else k} for k in range(100)]
    assert changes(base, current) == [(Severity.breaking, "became-nullable", "/v")]


def test_a_formatted_string_with_few_values_is_not_an_enum():
    base = [{"to": ["a@x.io", "b@x.io", "c@x.io"][k % 3]} for k in range(60)]
    assert changes(base, [{"to": "z@x.io"} for _ in range(100)]) == []


def test_each_change_reports_the_p_value_of_its_own_test():
    def p(value: float) -> float:
        return float(f"{value:.3g}")

    typed = one_change([{"v": k} for k in range(100)], [{"v": f"s{k}"} for k in range(100)])
    assert typed.evidence["p_value"] == p(exact_lower(100, 100, 0, 100)) > 0
    # null appeared beside integers that stayed: only the appearance's test (fisher_higher)
    nullable = one_change([{"v": k} for k in range(100)],
                          [{"v": None if k < 40 else k} for k in range(100)])
    assert nullable.kind == "became-nullable"
    assert nullable.evidence["p_value"] == p(exact_lower(40, 100, 0, 100)) > 0
    added = one_change([{"id": k} for k in range(100)], with_note(100, 100))
    assert added.kind == "property-added"
    assert added.evidence["p_value"] == p(exact_lower(100, 100, 0, 100)) > 0
    enum = one_change(states(60, WORDS[:3]), [{"state": "zulu"}] * 30 + states(70, WORDS[:3]))
    assert (enum.kind, enum.evidence["current_new"]) == ("enum-value-added", 30)
    assert enum.evidence["p_value"] == p(exact_lower(30, 100, 0, 60)) > 0


def test_became_optional_says_how_many_current_objects_miss_it():
    change = one_change(with_note(100, 100), with_note(100, 90))
    assert (change.kind, change.new) == ("became-optional", "missing from 10 of 100")


def test_named_properties_against_a_map_keyed_by_ids_compare_the_values():
    named = [{"stock": {"apples": k, "pears": k}} for k in range(100)]
    by_id = [{"stock": {str(1000 + k): f"{k} units"}} for k in range(100)]
    assert changes(named, by_id) == [(Severity.breaking, "type-changed", "/stock/*")]
    assert changes(by_id, named) == [(Severity.breaking, "type-changed", "/stock/*")]


def test_a_format_change_names_the_formats_or_no_format():
    dropped = one_change(stamps(30), [{"at": "yesterday"} for _ in range(40)])
    assert (dropped.old, dropped.new) == ("date-time", "no format")
    changed = one_change(stamps(30), [{"at": f"user{k}@example.test"} for k in range(40)])
    assert (changed.old, changed.new) == ("date-time", "email")


def test_every_property_is_compared_after_one_that_was_added():
    base = [{"id": k, "zone": "eu"} for k in range(100)]
    current = [{"id": k, "added": True} for k in range(100)]
    assert changes(base, current) == [(Severity.breaking, "property-removed", "/zone"),
                                      (Severity.additive, "property-added", "/added")]


def test_integers_widened_to_numbers_are_breaking_at_a_field_and_risky_in_an_array():
    from freshmock.generators.drift.shapes import BodyWalk

    ints, numbers = [k for k in range(100)], [k + 0.5 for k in range(100)]
    # the whole body, a field, a map's values: a consumer parsing integers breaks
    assert [(c.severity, c.kind) for c in compare_nodes(stats(ints), stats(numbers))] == [
        (Severity.breaking, "type-widened")]
    walk = BodyWalk()
    walk.add(stats(ints), stats(numbers))
    assert [(c.severity, c.kind) for c in walk.changes()] == [
        (Severity.breaking, "type-widened")]
    by_id = [{"stock": {str(1000 + k): k}} for k in range(100)]
    widened = [{"stock": {str(1000 + k): k + 0.5}} for k in range(100)]
    assert changes(by_id, widened) == [(Severity.breaking, "type-widened", "/stock/*")]
    # array items (the existing test): risky; integers and strings to numbers is no widening
    assert changes([{"tags": [k, f"t{k}"]} for k in range(100)],
                   [{"tags": [k + 0.5]} for k in range(100)]) == [
        (Severity.breaking, "type-changed", "/tags/*")]


def test_a_property_already_optional_that_is_rarer_now_did_not_become_optional():
    assert changes(with_note(200, 100), with_note(200, 5)) == []


def string_node(**string) -> dict:
    return {"object": {"n": 40, "properties": {"at": {"string": {"n": 40, **string}}}}}


def test_current_values_that_only_repeat_earlier_bodies_are_no_evidence_a_format_went():
    # a partial folded from repeats alone (incremental inference): no distinct value now
    base = stats(stamps(30))
    assert compare_nodes(base, string_node(repeats=40, empty=0, formats=[], values={})) == []
    assert compare_nodes(base, string_node(repeats=40, formats=[], values={})) == []
    # distinct values that are all empty strings are none either
    assert compare_nodes(base, string_node(repeats=35, empty=5, formats=[], values={})) == []
    (dropped,) = compare_nodes(base, string_node(repeats=39, empty=0, formats=[], values={}))
    assert (dropped.kind, dropped.evidence) == ("format-dropped", {"baseline": 30, "current": 1})
    # more empty strings than distinct values (empties among the repeats): still none
    assert compare_nodes(base, string_node(repeats=38, empty=5, formats=[], values={})) == []
    # statistics without an "empty" count (older stores): none empty, one distinct value
    (dropped,) = compare_nodes(base, string_node(repeats=39, formats=[], values={}))
    assert dropped.evidence == {"baseline": 30, "current": 1}


def test_an_endpoints_worst_change_is_its_most_severe():
    from freshmock.generators.drift.shapes import Change
    from freshmock.generators.drift.windows import EndpointDrift

    drift = EndpointDrift("shop", "GET", "/orders", 200, None, changes=[
        Change(Severity.additive, "property-added", "/a", "absent", "string"),
        Change(Severity.breaking, "property-removed", "/b", "string", "absent"),
        Change(Severity.risky, "type-narrowed", "/c", "integer|null", "integer")])
    assert drift.worst == Severity.breaking
