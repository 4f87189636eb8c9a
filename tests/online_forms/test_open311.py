"""Open311 GeoReport v2, exercised with the `georeport` client from PyPI in JSON and XML."""

from __future__ import annotations

import pytest
import requests
from georeport import GeoReport
from sqlalchemy import select

from portal.common.models import ServiceTransaction
from portal.extensions import db
from portal.online_forms.models import FormSubmission
from tests.helpers.auth import client_for, make_user
from tests.helpers.browser import serve
from tests.helpers.pages import check_html, csrf_token
from tests.online_forms.test_inbox import submitted


@pytest.fixture
def server(demo):
    with serve(demo) as live:
        yield live


def issue_key(demo) -> str:
    editor = client_for(demo, make_user(demo, roles=("editor",)))
    token = csrf_token(editor, "/staff/forms/open311-keys")
    soup = check_html(
        editor.post("/staff/forms/open311-keys", data={"csrf_token": token, "name": "Street app"})
    )
    return soup.select_one("#new-key").get_text()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_and_definitions(server, fmt):
    client = GeoReport(server("/open311/v2"), output_format=fmt)
    services = client.get_service_list()
    if isinstance(services, dict):  # xmltodict gives a dict for a single element
        services = [services]
    codes = [s["service_code"] for s in services]
    assert codes == ["report-fly-tipping"]
    definition = client.get_service_definition("report-fly-tipping")
    attributes = definition["attributes"]
    attributes = attributes["attribute"] if fmt == "xml" else attributes
    by_code = {a["code"]: a for a in attributes}
    assert by_code["waste"]["datatype"] == "multivaluelist"
    assert by_code["size"]["datatype"] == "singlevaluelist"
    values = by_code["size"]["values"]
    values = values["value"] if fmt == "xml" else values
    assert {"key": "a-car-boot-load", "name": "A car boot load"} in [dict(v) for v in values]
    assert str(by_code["details"]["required"]).lower() == "false"


def test_post_with_key_then_read_in_both_formats(demo, server):
    key = issue_key(demo)
    url = server("/open311/v2/requests.json")
    form = {
        "service_code": "report-fly-tipping",
        "lat": "52.95",
        "long": "-1.5",
        "attribute[waste]": ["furniture", "other"],
        "attribute[size]": "a-small-van-load",
        "email": "reporter@example.com",
        "first_name": "Rita",
        "description": "Sofa and boxes by the bus stop",
    }
    assert requests.post(url, data=form, timeout=10).status_code == 401
    assert requests.post(url, data={**form, "api_key": "wrong"}, timeout=10).status_code == 401
    missing = requests.post(url, data={**form, "api_key": key, "attribute[size]": ""}, timeout=10)
    assert missing.status_code == 400 and "size" in missing.json()[0]["description"]
    outside = requests.post(
        url, data={**form, "api_key": key, "lat": "51.5", "long": "-0.12"}, timeout=10
    )
    assert outside.status_code == 400
    created = requests.post(url, data={**form, "api_key": key}, timeout=10)
    assert created.status_code == 201, created.text
    reference = created.json()[0]["service_request_id"]
    with demo.app_context():
        item = db.session.scalar(select(FormSubmission))
        assert item.reference == reference and item.source == "open311"
        assert item.answers["waste"] == ["furniture", "other"]
        assert db.session.scalar(select(ServiceTransaction)).object_ref == reference
    for fmt in ("json", "xml"):
        client = GeoReport(server("/open311/v2"), output_format=fmt)
        one = client.get_service_request(reference)
        assert one["service_request_id"] == reference and one["status"] == "open"
        assert float(one["lat"]) == 52.95
        listed = client.get_service_requests(service_code="report-fly-tipping", status="open")
        listed = [listed] if isinstance(listed, dict) else listed
        assert [r["service_request_id"] for r in listed] == [reference]
        text = str(listed)
        for private in ("reporter@example.com", "Rita", "Sofa and boxes"):
            assert private not in text
    # revoking the key stops it working
    editor = client_for(demo, make_user(demo, roles=("editor",)))
    token = csrf_token(editor, "/staff/forms/open311-keys")
    editor.post("/staff/forms/open311-keys", data={"csrf_token": token, "revoke": "1"})
    assert requests.post(url, data={**form, "api_key": key}, timeout=10).status_code == 401


def test_unknown_and_non_location_requests(demo, runner_for, server):
    reference, _ = submitted(demo, runner_for)  # a missed bin: not an Open311 service
    assert (
        requests.get(server(f"/open311/v2/requests/{reference}.json"), timeout=10).status_code
        == 404
    )
    assert (
        requests.get(server("/open311/v2/services/report-missed-bin.json"), timeout=10).status_code
        == 404
    )
    xml = requests.get(server("/open311/v2/services/nope.xml"), timeout=10)
    assert xml.status_code == 404 and "<errors>" in xml.text
