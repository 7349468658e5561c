"""The path templater's rules, each asserted on both sides of its boundary
(docs/paths.md; issue 14: these kill the mutants the corpus tests let live).

Every test is pure in-memory trie work: the file runs in well under a second.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from freshmock.generators.model.paths import (
    ID,
    NAME,
    PathRules,
    PathRulesError,
    PathTemplater,
    is_identifier,
    is_parameter,
    load_path_rules,
    looks_like_value,
    name_parameters,
    path_template,
    template_matches,
)

NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "kate", "liam", "mona", "nick", "olga", "pete", "quin", "rosa", "sam", "tina", "uma"]
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda"]
SIG = "GET 200 [id,name]"


def learn(paths, **kwargs) -> PathTemplater:
    templater = PathTemplater(**kwargs)
    for path in paths:
        templater.add(path)
    return templater


def learn_signed(signed: dict[str, list[str]], **kwargs) -> PathTemplater:
    """Paths with the response signatures each answered with."""
    templater = PathTemplater(**kwargs)
    for path, signatures in signed.items():
        templater.add(path, signatures=signatures)
    return templater


def learn_counted(counted: dict[str, int]) -> PathTemplater:
    templater = PathTemplater()
    for path, count in counted.items():
        templater.add(path, count=count)
    return templater


# --- merge_threshold (k) and the count rule ---------------------------------


def test_a_word_position_merges_at_k_distinct_children_not_k_minus_1():
    assert learn(f"/teams/{n}" for n in NAMES[:9]).template("/teams/alice") == "/teams/alice"
    assert learn(f"/teams/{n}" for n in NAMES[:10]).template("/teams/alice") == "/teams/{team}"


def test_with_k_2_two_literals_are_enough():
    templater = learn(["/teams/alice", "/teams/bob"], rules=PathRules(merge_threshold=2))
    assert templater.template("/teams/alice") == "/teams/{team}"


def test_well_known_version_and_rule_literals_do_not_count_towards_k():
    nine = [f"/users/{n}" for n in NAMES[:9]]
    for extra, rules in [("me", PathRules()), ("v1", PathRules()),
                         ("staff", PathRules(literals=frozenset({"staff"})))]:
        templater = learn([*nine, f"/users/{extra}"], rules=rules)
        assert templater.template("/users/alice") == "/users/alice", extra
        assert templater.template(f"/users/{extra}") == f"/users/{extra}", extra


def test_the_first_segment_names_a_collection_even_with_k_words():
    templater = learn(f"/{w}" for w in WORDS[:10])
    assert templater.template("/alpha") == "/alpha"


def test_the_first_segment_merges_on_k_value_like_names_not_k_minus_1():
    nine = learn(f"/bucket-{i}/file-{i}" for i in range(9))
    assert nine.template("/bucket-1/file-1") == "/bucket-1/file-1"
    ten = learn(f"/bucket-{i}/file-{i}" for i in range(10))
    assert ten.template("/bucket-1/file-1") == "/{namespace}/{name}"


def test_the_first_segment_merges_on_more_than_k_value_like_names_too():
    templater = learn(f"/bucket-{i}/file-{i}" for i in range(11))
    assert templater.template("/bucket-1/file-1") == "/{namespace}/{name}"


def test_merged_siblings_pool_their_subtrees_no_org_has_ten_teams_together_they_do():
    templater = learn(f"/orgs/org-{i}/teams/{NAMES[i]}" for i in range(12))
    assert templater.template("/orgs/org-3/teams/dave") == "/orgs/{org}/teams/{team}"


def test_subtrees_shared_by_just_two_merged_siblings_pool_too():
    paths = [f"/orgs/org-{i}/x" for i in range(10)]
    paths += [f"/orgs/org-0/teams/{n}" for n in NAMES[:5]]
    paths += [f"/orgs/org-1/teams/{n}" for n in NAMES[5:10]]
    assert learn(paths).template("/orgs/org-1/teams/judy") == "/orgs/{org}/teams/{team}"


def test_below_a_merged_first_segment_k_words_merge_as_at_any_later_position():
    templater = learn(f"/bucket-{i}/{WORDS[i]}" for i in range(10))
    assert templater.template("/bucket-2/gamma") == "/{namespace}/{name}"


# --- response shapes: sub-resource words vs values --------------------------


def ten_words(own: int, seen: int = 10) -> dict[str, list[str]]:
    """Ten words at one position: ``own`` of them with a shape of their own, the
    rest of the ``seen`` sharing one shape, the others never seen answering."""
    signed = {}
    for index, word in enumerate(WORDS[:10]):
        if index < own:
            signed[f"/teams/{word}"] = [f"GET 200 [{word}]"]
        elif index < seen:
            signed[f"/teams/{word}"] = [SIG]
        else:
            signed[f"/teams/{word}"] = []
    return signed


def test_siblings_never_seen_answering_do_not_hide_the_ones_that_were():
    signed = {"/teams/zeta": []}  # first, and without evidence
    signed.update({f"/teams/{w}": [f"GET 200 [{w}]"] for w in WORDS[:10] if w != "zeta"})
    signed["/teams/lambda"] = ["GET 200 [lambda]"]
    assert learn_signed(signed).template("/teams/alpha") == "/teams/alpha"


def test_k_sub_resource_words_each_with_their_own_shape_stay_apart():
    assert learn_signed(ten_words(own=10)).template("/teams/alpha") == "/teams/alpha"


def test_k_words_that_all_answer_alike_merge():
    assert learn_signed(ten_words(own=0)).template("/teams/alpha") == "/teams/{team}"


def test_half_of_the_siblings_with_their_own_shape_is_most_four_is_not():
    assert learn_signed(ten_words(own=5)).template("/teams/alpha") == "/teams/alpha"
    assert learn_signed(ten_words(own=4)).template("/teams/alpha") == "/teams/{team}"


def test_own_shapes_count_among_the_siblings_whose_responses_were_seen():
    # one sibling seen answering, with a shape nobody shares: the only evidence says apart
    assert learn_signed(ten_words(own=1, seen=1)).template("/teams/alpha") == "/teams/alpha"


def test_three_value_like_literals_answering_alike_merge_two_do_not():
    three = {f"/models/{m}": [SIG] for m in ["gpt-4o", "o3", "gamma-4o"]}
    assert learn_signed(three).template("/models/o3") == "/models/{model}"
    two = {f"/models/{m}": [SIG] for m in ["gpt-4o", "o3"]}
    assert learn_signed(two).template("/models/o3") == "/models/o3"


def test_value_like_literals_never_seen_answering_stay_literal_below_k():
    assert learn(f"/models/{m}" for m in ["gpt-4o", "o3", "gamma-4o"]).template(
        "/models/o3") == "/models/o3"


def test_half_value_like_is_enough_less_than_half_is_not():
    half = {f"/models/{m}": [SIG] for m in ["gpt-4o", "o3", "alpha", "beta"]}
    assert learn_signed(half).template("/models/alpha") == "/models/{model}"
    third = {f"/models/{m}": [SIG] for m in ["gpt-4o", "alpha", "beta"]}
    assert learn_signed(third).template("/models/alpha") == "/models/alpha"


def test_one_value_with_a_shape_of_its_own_keeps_few_values_apart():
    signed = {"/models/gpt-4o": [SIG], "/models/o3": [SIG], "/models/gamma-4o": ["POST 201 [x]"]}
    assert learn_signed(signed).template("/models/o3") == "/models/o3"


def test_a_shape_shared_by_exactly_two_siblings_is_not_their_own():
    signed = {"/models/a-1": ["S1"], "/models/b-2": ["S1"], "/models/c-3": ["S2"],
              "/models/d-4": ["S2"]}
    assert learn_signed(signed).template("/models/a-1") == "/models/{model}"


def test_signatures_added_later_fill_a_path_up_to_eight_not_beyond():
    templater = PathTemplater()
    templater.add("/models/x-1", signatures=[f"a{i}" for i in range(5)])
    templater.add("/models/x-1", signatures=[f"b{i}" for i in range(5)])  # keeps b0 b1 b2
    for path in ["/models/x-2", "/models/x-3"]:
        templater.add(path, signatures=["b3"])
    # b3 was not kept for x-1: every shape of x-1 is its own
    assert templater.template("/models/x-1") == "/models/x-1"


def test_eight_signatures_are_kept_per_path_the_ninth_is_not():
    eight = [f"s{i}" for i in range(1, 9)]  # sorted: s1 … s8
    signed = {"/models/x-1": eight, "/models/x-2": ["s8"], "/models/x-3": ["s8"]}
    # x-1 shares s8, its eighth signature, with the others: no shape of its own
    assert learn_signed(signed).template("/models/x-1") == "/models/{model}"
    nine = [f"s{i}" for i in range(1, 10)]  # s9 sorts last and is dropped
    signed = {"/models/x-1": nine, "/models/x-2": ["s9"], "/models/x-3": ["s9"]}
    assert learn_signed(signed).template("/models/x-1") == "/models/x-1"


# --- vocabulary words answering alike two levels deep -----------------------


def items_below(*unique: int) -> dict[str, list[str]]:
    """/items/<word>/7: each answering with SIG plus ``unique[i]`` shapes of its own."""
    return {f"/items/{word}/7": [SIG] + [f"{word} {j}" for j in range(extra)]
            for word, extra in zip(["articles", "authors", "books"], unique, strict=True)}


def test_words_whose_subtrees_answer_alike_merge():
    assert learn_signed(items_below(0, 0, 0)).template("/items/articles/7") == (
        "/items/{item}/{id}")


def test_subtrees_alike_when_the_shared_part_is_half_of_each_not_a_third():
    assert learn_signed(items_below(1, 1, 1)).template("/items/articles/7") == (
        "/items/{item}/{id}")
    assert learn_signed(items_below(2, 2, 2)).template("/items/articles/7") == (
        "/items/articles/{article_id}")


def test_words_answering_alike_only_themselves_stay_vocabulary():
    signed = {f"/items/{word}": [SIG] for word in ["articles", "authors", "books"]}
    assert learn_signed(signed).template("/items/articles") == "/items/articles"


# --- values recurring elsewhere ---------------------------------------------


def test_words_merged_at_one_position_merge_where_they_recur():
    paths = [f"/items/{w}" for w in WORDS[:10]]
    paths += [f"/utils/export/{w}" for w in WORDS[:3]]
    assert learn(paths).template("/utils/export/alpha") == "/utils/export/{export}"


def test_words_half_recurring_merge():
    paths = [f"/items/{w}" for w in WORDS[:10]]
    paths += [f"/utils/export/{w}" for w in ["alpha", "beta", "mercury", "venus"]]
    assert learn(paths).template("/utils/export/mercury") == "/utils/export/{export}"


def test_words_only_partly_recurring_stay_literal():
    paths = [f"/items/{w}" for w in WORDS[:10]]
    paths += [f"/utils/export/{w}" for w in ["alpha", "mercury", "venus"]]
    assert learn(paths).template("/utils/export/alpha") == "/utils/export/alpha"


def test_first_segments_are_no_merged_values_for_other_positions():
    paths = [f"/{w}" for w in WORDS[:10]] + [f"/utils/export/{w}" for w in WORDS[:3]]
    assert learn(paths).template("/utils/export/alpha") == "/utils/export/alpha"


def test_the_same_word_set_at_two_positions_is_one_domain_of_values():
    words = ["articles", "authors", "books", "tags"]
    templater = learn([f"/items/{w}" for w in words] + [f"/fields/{w}" for w in words])
    assert templater.template("/items/books") == "/items/{item}"
    assert templater.template("/fields/books") == "/fields/{field}"


def test_word_sets_overlapping_by_half_are_one_domain_by_a_fifth_are_not():
    half = learn([f"/items/{w}" for w in ["articles", "authors", "books"]]
                 + [f"/fields/{w}" for w in ["articles", "authors", "tags"]])
    assert half.template("/items/books") == "/items/{item}"
    fifth = learn([f"/items/{w}" for w in ["articles", "authors", "books"]]
                  + [f"/fields/{w}" for w in ["articles", "tags", "notes"]])
    assert fifth.template("/items/books") == "/items/books"


def test_word_sets_of_four_and_five_sharing_three_are_one_domain():
    # 3 shared of 6 in all: Jaccard exactly 0.5
    items, fields = ["articles", "authors", "books", "tags"], ["articles", "authors", "books",
                                                               "notes", "users"]
    templater = learn([f"/items/{w}" for w in items] + [f"/fields/{w}" for w in fields])
    assert templater.template("/items/tags") == "/items/{item}"
    assert templater.template("/fields/users") == "/fields/{field}"


def test_word_sets_overlapping_by_two_of_five_are_not_one_domain():
    templater = learn([f"/items/{w}" for w in ["articles", "authors", "books"]]
                      + [f"/fields/{w}" for w in ["articles", "authors", "tags", "notes"]])
    assert templater.template("/items/books") == "/items/books"


def test_a_domain_of_values_whatever_its_words_start_with():
    words = ["~ann", "~bea", "~cid", "~dov"]  # "~" sorts after "{}", the parameter key
    templater = learn([f"/items/{w}" for w in words] + [f"/fields/{w}" for w in words])
    assert templater.template("/items/~ann") == "/items/{item}"


def test_first_segments_are_no_domain_of_values_for_other_positions():
    words = ["articles", "authors", "books", "tags"]
    templater = learn([f"/{w}" for w in words] + [f"/fields/{w}" for w in words])
    assert templater.template("/fields/books") == "/fields/books"


def test_two_words_recurring_are_too_few_for_a_domain():
    templater = learn([f"/{p}/{w}" for p in ["items", "fields"] for w in ["articles", "books"]])
    assert templater.template("/items/books") == "/items/books"


@pytest.mark.parametrize("size", [10, 11])
def test_a_sub_resource_vocabulary_of_k_or_more_is_no_domain_for_a_smaller_set(size):
    signed = {f"/orgs/42/{w}": [f"GET 200 [{w}]"] for w in WORDS[:size]}  # each its own shape
    signed.update({f"/other/{w}": [] for w in WORDS[:6]})
    templater = learn_signed(signed)
    assert templater.template("/orgs/42/alpha") == "/orgs/{org_id}/alpha"
    assert templater.template("/other/alpha") == "/other/alpha"


# --- the dominance rule -----------------------------------------------------


def dominance(top: int, siblings: int, each: int) -> PathTemplater:
    counted = {"/users/admin": top}
    counted.update({f"/users/{n}": each for n in NAMES[:siblings]})
    return learn_counted(counted)


def test_a_literal_dominating_its_siblings_stays_literal():
    templater = dominance(top=50, siblings=10, each=1)
    assert templater.template("/users/admin") == "/users/admin"
    assert templater.template("/users/alice") == "/users/{user}"


def test_a_literal_at_exactly_a_fifth_of_the_traffic_dominates():
    # 4 of 20 (0.2 × 20 is exactly 4.0), four times any sibling
    assert dominance(top=4, siblings=16, each=1).template("/users/admin") == "/users/admin"


def test_a_literal_under_a_fifth_of_the_traffic_merges_however_far_ahead():
    # 3 of 23, three times any sibling
    assert dominance(top=3, siblings=20, each=1).template("/users/admin") == "/users/{user}"


def test_a_literal_exactly_three_times_its_commonest_sibling_dominates_not_below():
    assert dominance(top=30, siblings=10, each=10).template("/users/admin") == "/users/admin"
    assert dominance(top=29, siblings=10, each=10).template("/users/admin") == "/users/{user}"


def test_add_without_a_count_is_one_observation():
    templater = PathTemplater()
    templater.add("/users/admin", count=3)
    for name in NAMES[:10]:
        templater.add(f"/users/{name}")
    # 3 of 13, three times any sibling: dominant only if a bare add counts 1
    assert templater.template("/users/admin") == "/users/admin"


# --- typed segments, and what index 0 does ----------------------------------


def test_a_typed_first_segment_is_a_literal_in_the_trie_too():
    assert learn(["/42/x"]).template("/42/x") == "/42/x"


def test_typed_ids_are_identifiers_not_names_however_many():
    templater = learn(f"/users/{i}" for i in range(1, 13))
    assert templater.template("/users/5") == "/users/{user_id}"


def test_shape_types_every_segment_but_the_first():
    templater = PathTemplater()
    assert templater.shape("/users/42/me") == "/users/{}/me"
    assert templater.shape("/42/x") == "/42/x"
    assert templater.shape("*") == "*"


def test_the_trie_still_guides_the_segments_after_a_typed_one():
    templater = learn(f"/users/7/teams/{n}" for n in NAMES[:10])
    assert templater.template("/users/99/teams/alice") == "/users/{user_id}/teams/{team}"


def test_a_long_value_beside_typed_ids_joins_them_from_16_characters():
    sixteen, fifteen = "abcdefghijklmn-1", "abcdefghijklm-1"
    seventeen = "abcdefghijklmno-1"
    assert learn(["/keys/42", f"/keys/{seventeen}"]).template(f"/keys/{seventeen}") == (
        "/keys/{key_id}")
    assert learn(["/keys/42", f"/keys/{sixteen}"]).template(f"/keys/{sixteen}") == (
        "/keys/{key_id}")
    assert learn(["/keys/42", f"/keys/{fifteen}"]).template(f"/keys/{fifteen}") == (
        f"/keys/{fifteen}")


def test_a_long_vocabulary_word_beside_typed_ids_stays_literal():
    word = "averyveryverylongword"
    assert learn(["/keys/42", f"/keys/{word}"]).template(f"/keys/{word}") == f"/keys/{word}"


def test_a_short_value_answering_as_the_typed_ids_do_joins_them():
    templater = learn_signed({"/keys/42": [SIG], "/keys/ab-1": [SIG]})
    assert templater.template("/keys/ab-1") == "/keys/{key_id}"


def test_a_lone_long_value_beside_typed_ids_joins_them_even_if_merged_elsewhere():
    value = "abcdefghijklmn-1"
    paths = [f"/items/{value}"] + [f"/items/v-{i}" for i in range(9)]
    paths += ["/other/42", f"/other/{value}"]
    assert learn(paths).template(f"/other/{value}") == "/other/{other_id}"


def test_a_first_segment_never_joins_typed_ids_even_beside_a_fed_back_parameter():
    value = "abcdefghijklmn-1"  # would join typed ids at any later position
    templater = learn(["/{}/x", f"/{value}/x"])
    assert templater.template(f"/{value}/x") == f"/{value}/x"


@pytest.mark.parametrize(
    ("segment", "identifier"),
    [
        ("NU3nmolcKrLYHNEFCLMEZwvO", True),  # 8 case runs of 3.0 characters: the limit
        ("asst_xZjbGYyJCaMePthQs6MVcXNR", True),  # many runs, under 3 characters each
        ("aBcDeFgHiJkLmNoP", True),  # 16 characters: long enough
        ("aBcDeFgHiJkLmNo", False),  # 15: too short
        ("fineTuningJobs", False),  # camelCase words
        ("abcdefghIJKLMNOPqrstuvwx", False),  # 3 runs
        ("abcDEFghiJKLmnOp", False),  # 7 runs: abc DEF ghi JKL mn O p
        ("abcdEFGHijkLMNOpqrSTUVwxyZ", False),  # 8 runs of 26 characters: 3.25 a run
    ],
)
def test_random_mixed_case_tails_are_identifiers(segment, identifier):
    assert is_identifier(segment) is identifier


# --- version literals, pinned templates, locks -------------------------------


def test_a_version_segment_stays_literal_among_k_values():
    templater = learn([f"/api/x{i}/status" for i in range(10)] + ["/api/v2/status"])
    assert templater.template("/api/v2/status") == "/api/v2/status"
    assert templater.template("/api/x3/status") == "/api/{api}/status"


def test_the_most_specific_pinned_template_wins():
    rules = PathRules(pinned=("/repos/{owner}/{repo}", "/repos/{owner}/settings"))
    templater = PathTemplater(rules=rules)
    assert templater.template("/repos/a/settings") == "/repos/{owner}/settings"
    assert templater.template("/repos/a/b") == "/repos/{owner}/{repo}"


def test_an_all_literal_lock_is_absorbed_whatever_its_spelling():
    # "~" sorts after "{": absorption must not depend on string order
    templater = learn([f"/home/~{n}" for n in NAMES[:10]], locked=["/home/~alice"])
    assert templater.template("/home/~alice") == "/home/{home}"


def test_a_lock_whose_first_segment_is_a_parameter_still_holds():
    templater = learn([f"/bucket-{i}/meta" for i in range(10)], locked=["/{bucket}/meta"])
    assert templater.template("/bucket-3/meta") == "/{bucket}/meta"


def test_locks_of_one_segment_or_none_are_harmless():
    templater = learn(["/teams", "*"], locked=["*", "/teams"])
    assert templater.template("*") == "*"
    assert templater.template("/teams") == "/teams"


# --- parameter names ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/flies/7", "/flies/{fly_id}"),
        ("/cities/7", "/cities/{city_id}"),
        ("/ties/7", "/ties/{tie_id}"),  # "ies" needs more than 4 letters
        ("/bus/7", "/bus/{bus_id}"),  # "s" needs more than 3 letters
        ("/tags/7", "/tags/{tag_id}"),
        ("/class/7", "/class/{class_id}"),  # "ss" is no plural
        ("/data/7", "/data/{data_id}"),
        ("/ies/7", "/ies/{ies_id}"),
        ("/os/7", "/os/{os_id}"),
    ],
)
def test_parameter_names_are_the_singular_of_the_collection(path, template):
    assert path_template(path) == template


@pytest.mark.parametrize(
    ("segments", "kinds", "template"),
    [
        (["users", None], None, "/users/{user_id}"),
        ([None, None], [NAME, NAME], "/{namespace}/{name}"),
        ([None, None], [ID, ID], "/{id}/{id2}"),
        ([None, None], [ID, NAME], "/{id}/{name}"),
        ([None, None], [NAME, ID], "/{namespace}/{id}"),
        (["repos", None, None], [ID, NAME, NAME], "/repos/{owner}/{repo}"),
        (["repos", None, None], [ID, ID, NAME], "/repos/{repo_id}/{name}"),
        (["repos", None, None, None], [ID, NAME, NAME, NAME], "/repos/{repo}/{name}/{name2}"),
        (["repos", None, None], [ID, NAME, ID], "/repos/{repo}/{id}"),
        ([None, None, None], [ID, ID, ID], "/{id}/{id2}/{id3}"),
    ],
)
def test_parameter_names_follow_the_kinds_of_a_run(segments, kinds, template):
    assert name_parameters(segments, kinds) == template


# --- small predicates --------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "parameter"),
    [("{a}", True), ("{user_id}", True), ("{}", False), ("", False), ("{", False),
     ("ab}", False), ("{ab", False), ("~ab}", False), ("|ab}", False), ("{a~", False)],
)
def test_a_parameter_is_a_braced_name(segment, parameter):
    assert is_parameter(segment) is parameter


@pytest.mark.parametrize(
    ("template", "path", "matches"),
    [
        ("/users/{id}", "/users/alice", True),
        ("/users/me", "/users/me", True),
        ("/users/me", "/users/alice", False),  # "me" > "alice": equality, not order
        ("/users/alice", "/users/me", False),
        ("/a/{b}/c", "/a/x", False),
        ("/a/{b}", "/a/x/c", False),
    ],
)
def test_template_matches_segment_by_segment(template, path, matches):
    assert template_matches(template, path) is matches


@pytest.mark.parametrize(
    ("segment", "value"),
    [("issues", False), ("audit_logs", False), ("gpt-4o", True), ("eu-west-1", True),
     ("ZxY", True), ("ADA", True), ("a.b.com", True),
     ("İstanbul", True)],  # a capital whose lower case sorts before it
)
def test_values_have_digits_capitals_or_dots(segment, value):
    assert looks_like_value(segment) is value


# --- merged_values: what `freshmock endpoints` shows ------------------------


def test_merged_values_lists_each_parameter_s_distinct_values():
    paths = [f"/teams/{n}" for n in NAMES[:10]]
    shown = learn(paths).merged_values(paths, limit=3)
    assert shown == {"/teams/{team}": [
        {"parameter": "{team}", "typed": False, "distinct": 10,
         "values": ["alice", "bob", "carol"]}]}


def test_merged_values_shows_five_values_unless_told():
    paths = [f"/teams/{n}" for n in NAMES[:10]]
    shown = learn(paths).merged_values(paths)
    assert shown["/teams/{team}"][0]["values"] == ["alice", "bob", "carol", "dave", "erin"]


def test_merged_values_says_typed_and_leaves_shapes_out_of_the_values():
    paths = ["/users/{}", "/users/7"]
    shown = learn(paths).merged_values(paths)
    assert shown == {"/users/{user_id}": [
        {"parameter": "{user_id}", "typed": True, "distinct": 1, "values": ["7"]}]}


# --- rules: immutable, and read from freshmock.toml -------------------------


def test_merged_values_lists_values_that_sort_after_the_parameter_key():
    paths = [f"/home/~{n}" for n in NAMES[:10]]
    shown = learn(paths).merged_values(paths, limit=2)
    assert shown["/home/{home}"][0]["values"] == ["~alice", "~bob"]


def test_path_rules_are_immutable_and_hashable():
    rules = PathRules()
    assert hash(rules) == hash(PathRules())
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.merge_threshold = 3  # type: ignore[misc]


def test_rules_text_is_canonical_sorted_json():
    rules = PathRules(4, ("/b/{x}", "/a/{y}"), frozenset({"z", "m"}))
    text = rules.to_json()
    assert text == json.dumps(json.loads(text), sort_keys=True)
    assert PathRules.from_json(text) == rules


def write_rules(tmp_path, body: str):
    config = tmp_path / "freshmock.toml"
    config.write_text("[paths]\n" + body)
    return config


def test_merge_threshold_2_is_accepted_1_is_not(tmp_path):
    assert load_path_rules(write_rules(tmp_path, "merge_threshold = 2\n")).merge_threshold == 2
    with pytest.raises(PathRulesError, match="merge_threshold must be an integer >= 2"):
        load_path_rules(write_rules(tmp_path, "merge_threshold = 1\n"))


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("merge_treshold = 4\n", "unknown key 'merge_treshold'"),
        ('templates = "/a/{b}"\n', "templates must be a list of strings"),
        ("literals = [1]\n", "literals must be a list of strings"),
        ("discriminators = [5]\n", "discriminators entries are"),
        ('discriminators = [{use = "header:X", where = "/a"}]\n', "discriminators entries are"),
        ('discriminators = ["cookie:session"]\n', "discriminators: 'cookie:session'"),
        ('templates = ["/ok/{a}", "a/{b}", "c/{d}"]\n', "must start with '/': 'a/{b}'"),
    ],
)
def test_a_bad_paths_table_names_the_key(tmp_path, body, complaint):
    with pytest.raises(PathRulesError, match=complaint):
        load_path_rules(write_rules(tmp_path, body))


def test_discriminators_are_strings_or_use_path_tables(tmp_path):
    rules = load_path_rules(write_rules(
        tmp_path, 'discriminators = ["header:X-Op", {use = "body:action", path = "/rpc"}]\n'))
    assert [(r.discriminator, r.path) for r in rules.discriminators] == [
        ("header:X-Op", ""), ("body:action", "/rpc")]

