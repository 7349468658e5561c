"""Schema history and `freshmock show`: what did an endpoint look like on a given day?"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime

from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.tables import schema_versions
from freshmock.proxy.store import insert_observations, open_store

from conftest import freshmock_command
from store_kit import observation


def at(day: str, seconds: int = 0) -> float:
    return datetime.fromisoformat(f"{day}T12:00:00+00:00").timestamp() + seconds


def user(n: int, with_phone: bool = False) -> dict:
    body = {"id": n, "name": f"user {n}"}
    if with_phone:
        body["phone"] = "+351 000"
    return body


def key():
    return ("shop", "GET", "/users/{user_id}", "", 200, "application/json")


def test_a_new_version_only_when_the_shape_changes(tmp_path):
    db = open_store(tmp_path / "s.db", must_exist=False)
    insert_observations(db, [observation(f"/users/{n}", at("2026-11-10", n), user(n))
                             for n in range(5)])
    infer_endpoints(db)
    insert_observations(db, [observation(f"/users/{n}", at("2026-11-11", n), user(n))
                             for n in range(5, 9)])
    infer_endpoints(db)
    (v1,) = schema_versions(db, key())
    assert (v1["version"], v1["observations"]) == (1, 9)  # more samples, same shape

    insert_observations(db, [observation(f"/users/{n}", at("2026-11-17", n), user(n, True))
                             for n in range(9, 12)])
    infer_endpoints(db)
    v1, v2 = schema_versions(db, key())
    assert v1["last_seen"].startswith("2026-11-11")
    assert v2["first_seen"] == v1["last_seen"] and v2["last_seen"].startswith("2026-11-17")
    assert (v1["observations"], v2["observations"]) == (9, 3)
    assert "phone" not in json.loads(v1["response_schema"])["properties"]
    assert "phone" in json.loads(v2["response_schema"])["properties"]


def test_show_prints_schema_counts_and_history_and_answers_for_a_past_day(tmp_path):
    db_path = tmp_path / "s.db"
    db = open_store(db_path, must_exist=False)
    insert_observations(db, [observation(f"/users/{n}", at("2026-11-03", n), user(n))
                             for n in range(4)])
    infer_endpoints(db)
    insert_observations(db, [observation(f"/users/{n}", at("2026-11-20", n), user(n, True))
                             for n in range(4, 6)])
    infer_endpoints(db)

    def show(*args):
        return subprocess.run(freshmock_command("show", *args, "--db", str(db_path)),
                              capture_output=True, text=True, timeout=60)

    text = show("GET /users/42")
    assert text.returncode == 0, text.stderr
    assert "GET /users/{user_id}  200" in text.stdout and "6 observations" in text.stdout
    assert "v1  2026-11-03" in text.stdout and "v2  " in text.stdout

    then = json.loads(show("/users/{user_id}", "--at", "2026-11-05", "--json").stdout)
    now = json.loads(show("/users/{user_id}", "--json").stdout)
    assert "phone" not in then[0]["response_schema"]["properties"]
    assert then[0]["observations"] == 4
    assert "phone" in now[0]["response_schema"]["properties"]
    assert [v["version"] for v in now[0]["versions"]] == [1, 2]

    missing = show("/orders")
    assert missing.returncode == 2 and "no endpoint matches" in missing.stderr
    bad_day = show("/users/1", "--at", "last tuesday")
    assert bad_day.returncode == 2 and "YYYY-MM-DD" in bad_day.stderr
