"""/api/v1/openapi.json documents every public API, on the configured base URL, truthfully."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import Flask

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.extensions import db
from portal.online_forms import services as form_services
from portal.online_forms.demo import load_demo_forms
from portal.waste.demo import load_demo_waste
from tests.helpers.auth import make_user
from tests.planning.conftest import make_application

BASE = "https://www.castlebrook.example"
PUBLIC_PREFIXES = ("/api/", "/open311/")


def _shape(path: str) -> str:
    """A path with its parameters blanked, so Flask rules and OpenAPI templates compare."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "*", path)


def _public_routes(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PUBLIC_PREFIXES) or rule.endpoint == "api.openapi_json":
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            routes.add((method, _shape(rule.rule)))
    return routes


def _calls(path: str, operation: dict) -> list[str]:
    """The URLs to call for one operation: every enum value of a path parameter, examples else."""
    urls = [path]
    query = {}
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if parameter["in"] == "path":
            values = parameter["schema"].get("enum") or [parameter["example"]]
            urls = [u.replace("{" + name + "}", str(v)) for u in urls for v in values]
        elif "example" in parameter:
            query[name] = parameter["example"]
    urls += [f"{u}?{urlencode(query)}" for u in list(urls) if query]
    return urls


def test_openapi_documents_every_public_api_and_each_answers_as_documented(make_app):
    app = make_app(base_url=BASE)
    staff = make_user(app, roles=("admin",))
    with app.app_context():
        load_demo_forms()
        load_demo_gazetteer()
        load_demo_waste()
        make_application(reference="26/00001/HOU", app_type="HOU", ward="Castle")
        db.session.commit()
        key = form_services.issue_key("OpenAPI test", staff)
        db.session.commit()
    client = app.test_client()
    response = client.get("/api/v1/openapi.json", headers={"Host": "evil.example"})
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1")
    assert spec["servers"] == [{"url": BASE}]
    assert "evil.example" not in response.get_data(as_text=True)

    documented = {
        (method.upper(), _shape(path)) for path, item in spec["paths"].items() for method in item
    }
    assert _public_routes(app) <= documented, sorted(_public_routes(app) - documented)
    assert {"/api/v1/planning/applications", "/open311/v2/services.{format}"} <= set(spec["paths"])

    # The POST first: its answer gives a real request id for the documented GETs.
    post = spec["paths"]["/open311/v2/requests.json"]["post"]
    body = dict(post["requestBody"]["content"]["application/x-www-form-urlencoded"]["example"])
    body["api_key"] = key
    created = client.post("/open311/v2/requests.json", data=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.mimetype in post["responses"]["201"]["content"]
    request_id = created.get_json()[0]["service_request_id"]

    called = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "get":
                continue
            for url in _calls(path, operation):
                url = url.replace("FS-7KQ4-3M9X", request_id)  # references are random
                answer = client.get(url, base_url=BASE)
                documented_answer = operation["responses"].get(str(answer.status_code))
                assert answer.status_code == 200, (url, answer.status_code)
                assert documented_answer is not None, (url, answer.status_code)
                assert answer.mimetype in documented_answer["content"], (url, answer.mimetype)
                assert answer.data, url
                called.append(url)
    assert len(called) >= 14
    feed = client.get("/api/v1/planning/applications.rss", headers={"Host": "evil.example"})
    assert "evil.example" not in feed.get_data(as_text=True)
    assert f"<link>{BASE}/planning" in feed.get_data(as_text=True)
