"""Template precision and recall on real APIs: documents from registry packages.

Traffic built by ``openapi_corpus`` goes through the same row building as
``freshmock import`` and live recording (``proxy.rows.build_observation``:
redaction, operation, sampling keys) into a real store, then ``infer``. Each
API's precision (inferred templates that are the document's) and recall (the
document's exercised templates that were inferred) are printed on every run.
No rule in freshmock knows any of these APIs.
"""

from __future__ import annotations

import json

import pytest
from openapi_corpus import SOURCES, canonical, load, traffic

from freshmock.generators.model.infer import infer_endpoints, service_templater
from freshmock.generators.model.paths import is_parameter
from freshmock.proxy.capture import Capture
from freshmock.proxy.rows import build_observation
from freshmock.proxy.store import insert_observations, open_store

START = 1.79e9


def _capture(service: str, n: int, method: str, path: str, status: int, body) -> Capture:
    data = json.dumps(body).encode() if body is not None else b""
    headers = [(b"content-type", b"application/json")] if body is not None else []
    return Capture(
        flow_id=str(n), service=service, started_at=START + n, ended_at=START + n + 0.01,
        method=method, scheme="https", host=f"{service}.example", port=443, path=path,
        request_headers=[(b"accept", b"application/json")], request_body=None,
        request_body_size=0, status=status, response_headers=headers, response_body=data,
        response_body_size=len(data), response_streamed=False, error=None,
    )


def measure(tmp_path, source) -> dict:
    path = source.locate()
    assert path.exists(), (
        f"{path} is missing: the test setup installs {source.package} "
        "(`make install` for PyPI, `make peers` for npm)")
    exchanges, dropped = traffic(load(path))
    db = open_store(tmp_path / f"{source.name}.db", must_exist=False)
    rows = [build_observation(_capture(source.name, n, method, path, status, body)).row
            for n, (method, path, _, status, body) in enumerate(exchanges)]
    for start in range(0, len(rows), 5000):
        insert_observations(db, rows[start:start + 5000])
    endpoints = infer_endpoints(db)
    templater = service_templater(db, source.name)
    truth = {template for _, _, template, _, _ in exchanges}
    predicted = {canonical(templater.template(p)) for _, p, _, _, _ in exchanges}
    published = {canonical(e["path_template"]) for e in endpoints}
    hits = predicted & truth
    return {
        "precision": len(hits) / len(predicted), "recall": len(hits) / len(truth),
        "truth": truth, "predicted": predicted, "published": published,
        "observations": len(exchanges), "dropped": dropped,
        "names": sorted({e["path_template"] for e in endpoints}),
    }


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_templates_match_the_api_description(tmp_path, source, figures):
    result = measure(tmp_path, source)
    assert len(result["truth"]) >= 12, "too few templates exercised to measure anything"
    figures(f"\n{source.name} ({source.package}): {len(result['truth'])} templates, "
              f"{result['observations']} requests: precision {result['precision']:.3f}, "
              f"recall {result['recall']:.3f}"
              + (f"; {len(result['dropped'])} left out ({result['dropped'][0]})"
                 if result["dropped"] else ""))
    missing = sorted(result["truth"] - result["predicted"])
    wrong = sorted(result["predicted"] - result["truth"])
    assert result["published"] == result["predicted"]
    assert result["precision"] >= 0.95 and result["recall"] >= 0.95, (missing, wrong)


def test_parameters_are_named_from_the_collection_they_index(tmp_path):
    directus = next(s for s in SOURCES if s.name == "directus")
    names = measure(tmp_path, directus)["names"]
    params = {segment for name in names for segment in name.split("/") if is_parameter(segment)}
    # never named after a literal value the client happened to send
    assert not any(word in param for param in params for word in ("article", "author", "title"))
    assert "/items/{item}/{item_id}" in names or "/items/{item}/{id}" in names, names
