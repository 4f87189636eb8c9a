"""The LGA/esd CSV importer (WGS84 and OSGB36) and the GeoJSON, CSV and RSS feeds."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from pyproj import Transformer
from sqlalchemy import select

from portal.common.clock import uk_today
from portal.extensions import db
from portal.planning.importer import LGA_COLUMNS, import_lga_csv
from portal.planning.models import PlanningApplication, PlanningStatusEvent
from tests.planning.conftest import make_application


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=LGA_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in LGA_COLUMNS})
    return out.getvalue()


def _row(reference: str, **extra) -> dict:
    row = {
        "ExtractDate": "01/11/2026",
        "PublisherLabel": "Castlebrook Council",
        "CaseReference": reference,
        "CaseURL": "https://example.org",
        "CaseDate": "14/10/2026",
        "ServiceTypeLabel": "Full planning permission",
        "CaseText": "Erection of two dwellings",
        "LocationText": "Land at Mill Lane, Castlebrook CK3 1AB",
        "Status": "Live",
        "CoordinateReferenceSystem": "WGS84",
        "GeoX": "-1.55",
        "GeoY": "52.95",
        "PublicConsultationEndDate": "05/11/2026",
    }
    row.update(extra)
    return row


def test_import_wgs84_osgb36_and_bad_rows(app_ctx):
    lat, lon = 52.9712, -1.4633
    easting, northing = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(
        lon, lat
    )
    text = _csv(
        [
            _row("26/00001/FUL"),
            _row(
                "26/00002/HOU",
                CoordinateReferenceSystem="OSGB36",
                GeoX=f"{easting:.1f}",
                GeoY=f"{northing:.1f}",
                DecisionDate="20/11/2026 10:30",
                Status="Decided",
                Decision="Approved",
            ),
            _row("26/00003/FUL", CaseDate="31/02/2026"),
            _row("26/00004/FUL", GeoX="east", GeoY="52.9"),
            _row("26/00005/FUL", GeoX="-3.0", GeoY="51.0"),
            _row("26/00006/FUL", CoordinateReferenceSystem="OSGB36", GeoX="9999999", GeoY="1"),
            _row("26/00007/FUL", CaseText=""),
        ]
    )
    report = import_lga_csv(text)
    assert (report.created, report.updated) == (2, 0)
    assert report.errors == [
        "line 4: CaseDate '31/02/2026' is not a date in the form DD/MM/YYYY",
        "line 5: GeoX and GeoY must be numbers",
        "line 6: the point 51.00000, -3.00000 is outside the council area",
        "line 7: GeoX/GeoY are not British National Grid eastings and northings",
        "line 8: CaseText is empty",
    ]
    first = db.session.scalar(
        select(PlanningApplication).where(PlanningApplication.reference == "26/00001/FUL")
    )
    assert (first.latitude, first.longitude, first.status, first.postcode) == (
        52.95,
        -1.55,
        "live",
        "CK3 1AB",
    )
    assert first.consultation_end == date(2026, 11, 5) and first.slug == "26-00001-FUL"
    bng = db.session.scalar(
        select(PlanningApplication).where(PlanningApplication.reference == "26/00002/HOU")
    )
    assert abs(bng.latitude - lat) < 1e-5 and abs(bng.longitude - lon) < 1e-5
    assert (
        bng.decision_date == date(2026, 11, 20)
        and bng.status == "decided"
        and bng.application_type == "HOU"
    )
    # updating by reference: a changed status goes on the timeline
    report = import_lga_csv(_csv([_row("26/00001/FUL", Status="Withdrawn", CaseText="Amended")]))
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    db.session.refresh(first)
    assert first.status == "withdrawn" and first.description == "Amended"
    statuses = db.session.scalars(
        select(PlanningStatusEvent.status).where(PlanningStatusEvent.application_id == first.id)
    ).all()
    assert statuses[-1] == "withdrawn"


def test_import_command(app, tmp_path):
    path = tmp_path / "apps.csv"
    path.write_text(
        "\ufeff" + _csv([_row("26/00010/FUL"), _row("26/00011/FUL", CaseDate="yesterday")]),
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(args=["planning", "import", str(path)])
    assert "1 created, 0 updated, 1 rejected" in result.output
    assert "line 3: CaseDate 'yesterday'" in result.output


def test_import_missing_columns(app_ctx):
    report = import_lga_csv("Foo,Bar\n1,2\n")
    assert report.errors == ["line 1: missing columns CaseReference, CaseText, LocationText"]


def _two(app):
    with app.app_context():
        a = make_application((52.95, -1.55), description="Alpha", app_type="HOU")
        b = make_application((52.99, -1.45), description="Beta", status="decided")
        db.session.commit()
        return a.reference, b.reference, a.ward, b.ward


def test_geojson_filters(app, client):
    a, b, ward_a, _ward_b = _two(app)
    data = client.get("/api/v1/planning/applications").get_json()
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 2
    feature = next(f for f in data["features"] if f["id"] == a)
    assert feature["geometry"] == {"type": "Point", "coordinates": [-1.55, 52.95]}
    assert feature["properties"]["url"].endswith("/planning/applications/" + a.replace("/", "-"))

    def ids(q):
        return [
            f["id"] for f in client.get("/api/v1/planning/applications" + q).get_json()["features"]
        ]  # noqa: E731

    assert ids("?bbox=-1.6,52.9,-1.5,52.96") == [a]
    assert ids("?status=decided") == [b]
    assert ids(f"?ward={ward_a}") == [a]
    assert ids("?since=2999-01-01") == []
    assert sorted(ids(f"?since={(uk_today() - timedelta(days=1)).isoformat()}")) == sorted([a, b])
    assert client.get("/api/v1/planning/applications?bbox=1,2").status_code == 400
    assert client.get("/api/v1/planning/applications?since=soon").status_code == 400


def test_csv_export_uses_the_lga_schema_and_round_trips(app, client):
    a, b, *_ = _two(app)
    response = client.get("/api/v1/planning/applications.csv?type=HOU")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0].keys()) == LGA_COLUMNS
    assert [r["CaseReference"] for r in rows] == [a]
    assert rows[0]["CoordinateReferenceSystem"] == "WGS84" and rows[0]["Status"] == "Live"
    assert rows[0]["ServiceTypeURI"] == "http://id.esd.org.uk/service/487"
    with app.app_context():
        report = import_lga_csv(response.get_data(as_text=True))
        assert (report.created, report.updated, report.errors) == (0, 1, [])


def test_rss_per_ward_and_per_search(app, client):
    a, b, ward_a, _ = _two(app)
    response = client.get(f"/api/v1/planning/applications.rss?ward={ward_a}")
    assert response.mimetype == "application/rss+xml"
    channel = ET.fromstring(response.data).find("channel")  # noqa: S314  (our own feed)
    assert ward_a in channel.findtext("title")
    items = channel.findall("item")
    assert [i.findtext("title").split(":")[0] for i in items] == [a]
    assert items[0].findtext("link").endswith(a.replace("/", "-"))
    search = ET.fromstring(client.get("/api/v1/planning/applications.rss?q=Beta").data).find(  # noqa: S314  (our own feed)
        "channel"
    )
    assert [i.findtext("title").split(":")[0] for i in search.findall("item")] == [b]
