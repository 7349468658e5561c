"""A corpus of API paths with known templates, for measuring path templating.

Twenty templates in the style of public APIs (GitHub-like repositories,
a shop, reports, files), with realistic identifiers: usernames and slugs
(which no regex can tell from literals), Zipf-distributed owners, integers,
UUIDs, git SHAs, ObjectIds, dates, ULIDs and Stripe-style tokens.
"""

from __future__ import annotations

import random
import re
import string
import uuid

FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
         "xena", "yusuf", "zoe", "amara", "bilal", "chen", "dmitri", "elif", "farah", "goran",
         "hana", "ines", "jonas", "kenji", "leila", "mateo", "nadia", "oskar", "priya", "quinn",
         "rosa"]
WORDS = ["widget", "gadget", "lamp", "chair", "kettle", "router", "parser", "engine", "atlas",
         "nimbus", "falcon", "harbor", "quartz", "ember", "vertex", "pixel", "cobalt", "tundra",
         "meadow", "signal", "beacon", "orbit", "lumen", "prism", "delta"]
ADJECTIVES = ["blue", "red", "tiny", "smart", "fast", "quiet", "solid", "bright", "classic"]
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _username(rng: random.Random) -> str:
    name = rng.choice(FIRST)
    return rng.choice([name, f"{name}-{rng.choice(WORDS)}", f"{name}{rng.randint(1, 99)}"])


def _slug(rng: random.Random) -> str:
    return f"{rng.choice(ADJECTIVES)}-{rng.choice(WORDS)}" + rng.choice(["", "-xl", "-2", "-pro"])


def _repo(rng: random.Random) -> str:
    return rng.choice(WORDS) + rng.choice(["", "-js", "-core", ".py", "-cli"])


def _zipf_owner(rng: random.Random) -> str:
    owners = [f"{name}" for name in FIRST] + [f"{w}-labs" for w in WORDS]
    weights = [1 / (rank + 1) for rank in range(len(owners))]
    return rng.choices(owners, weights)[0]


def _ulid(rng: random.Random) -> str:
    return rng.choice("01") + "".join(rng.choice(CROCKFORD) for _ in range(25))


def _token(rng: random.Random) -> str:
    body = "".join(rng.choice(string.ascii_letters) for _ in range(12))
    return f"cus_{body[:5]}{rng.randint(10, 99)}{body[5:]}"


def _hex(rng: random.Random, n: int) -> str:
    while True:
        value = "".join(rng.choice("0123456789abcdef") for _ in range(n))
        if re.search(r"\d", value) and re.search(r"[a-f]", value):
            return value


# (template, weight, generator of the concrete path)
TEMPLATES = [
    ("/users/me", 8, lambda r: "/users/me"),
    ("/users/{}", 6, lambda r: f"/users/{_username(r)}"),
    ("/users/{}/repos", 4, lambda r: f"/users/{_username(r)}/repos"),
    ("/repos/{}/{}", 6, lambda r: f"/repos/{_zipf_owner(r)}/{_repo(r)}"),
    ("/repos/{}/{}/issues", 4, lambda r: f"/repos/{_zipf_owner(r)}/{_repo(r)}/issues"),
    ("/repos/{}/{}/issues/{}", 5,
     lambda r: f"/repos/{_zipf_owner(r)}/{_repo(r)}/issues/{r.randint(1, 5000)}"),
    ("/repos/{}/{}/commits/{}", 4,
     lambda r: f"/repos/{_zipf_owner(r)}/{_repo(r)}/commits/{_hex(r, 40)}"),
    ("/repos/{}/{}/pulls", 3, lambda r: f"/repos/{_zipf_owner(r)}/{_repo(r)}/pulls"),
    ("/orgs/{}/members", 3, lambda r: f"/orgs/{r.choice(WORDS)}-{r.choice(['inc', 'io'])}/members"),
    ("/v2/orders/{}", 6, lambda r: f"/v2/orders/{uuid.UUID(int=r.getrandbits(128), version=4)}"),
    ("/v2/orders/{}/items", 3,
     lambda r: f"/v2/orders/{uuid.UUID(int=r.getrandbits(128), version=4)}/items"),
    ("/v2/customers/{}", 4, lambda r: f"/v2/customers/{_token(r)}"),
    ("/reports/{}", 2, lambda r: f"/reports/2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"),
    ("/events/{}", 3, lambda r: f"/events/{_ulid(r)}"),
    ("/search/repositories", 3, lambda r: "/search/repositories"),
    ("/products/{}", 5, lambda r: f"/products/{_slug(r)}"),
    ("/products/{}/reviews", 3, lambda r: f"/products/{_slug(r)}/reviews"),
    ("/health", 2, lambda r: "/health"),
    ("/v1/files/{}", 3, lambda r: f"/v1/files/{_hex(r, 24)}"),
    ("/gists/{}", 2, lambda r: f"/gists/{_hex(r, 32)}"),
]


def corpus(size: int, seed: int = 7) -> list[tuple[str, str]]:
    """``size`` (path, true template) pairs, deterministic for a seed."""
    rng = random.Random(seed)
    weights = [weight for _, weight, _ in TEMPLATES]
    picks = rng.choices(TEMPLATES, weights, k=size)
    return [(make(rng), template) for template, _, make in picks]


def canonical(template: str) -> str:
    """Parameter names do not matter for correctness: ``{user_id}`` → ``{}``."""
    return re.sub(r"\{[^/}]*\}", "{}", template)
