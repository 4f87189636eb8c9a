"""Council and ward boundaries imported from GeoJSON in the ONS shape, and what uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.common.gazetteer import geography
from portal.common.gazetteer.boundaries import (
    BoundaryImportError,
    demo_geojson,
    import_boundaries,
)
from portal.common.gazetteer.services import import_addresses_csv
from portal.common.models import Address, Boundary
from portal.extensions import db

ROOT = Path(__file__).resolve().parents[2]

# Leeds-like squares (longitude, latitude): ward A has a hole; ward B is a MultiPolygon whose
# second part is an island filling that hole.
HOLE = [[-1.58, 53.805], [-1.57, 53.805], [-1.57, 53.81], [-1.58, 53.81], [-1.58, 53.805]]
WARD_A = [[-1.60, 53.80], [-1.55, 53.80], [-1.55, 53.82], [-1.60, 53.82], [-1.60, 53.80]]
WARD_B = [[-1.55, 53.78], [-1.50, 53.78], [-1.50, 53.80], [-1.55, 53.80], [-1.55, 53.78]]
COUNCIL = [[-1.60, 53.78], [-1.50, 53.78], [-1.50, 53.82], [-1.60, 53.82], [-1.60, 53.78]]
LEEDS = {"LAD24CD": "E08000035", "LAD24NM": "Leeds"}


def feature(properties: dict, geometry: dict) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def wards_file(name_b: str = "Hunslet & Riverside") -> str:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                feature(
                    {"FID": 1, "WD24CD": "E05011410", "WD24NM": "Little London", **LEEDS},
                    {"type": "Polygon", "coordinates": [WARD_A, HOLE[::-1]]},
                ),
                feature(
                    {"FID": 2, "WD24CD": "E05011404", "WD24NM": name_b, **LEEDS},
                    {"type": "MultiPolygon", "coordinates": [[WARD_B], [HOLE]]},
                ),
            ],
        }
    )


def council_file(*others: tuple[str, str]) -> str:
    features = [feature(LEEDS, {"type": "Polygon", "coordinates": [COUNCIL]})]
    for code, name in others:
        features.append(
            feature(
                {"LAD24CD": code, "LAD24NM": name}, {"type": "Polygon", "coordinates": [WARD_B]}
            )
        )
    return json.dumps({"type": "FeatureCollection", "features": features})


def run(app, tmp_path: Path, text: str, *options: str):
    path = tmp_path / "boundaries.geojson"
    path.write_text(text, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["boundaries", "import", str(path), *options])


def boundaries() -> list[tuple[str, str, str]]:
    return [
        (b.level, b.code, b.name)
        for b in db.session.scalars(select(Boundary).order_by(Boundary.level, Boundary.code))
    ]


def test_import_detects_ons_properties_and_a_rerun_says_unchanged(app, tmp_path):
    council = run(app, tmp_path, council_file())
    assert council.exit_code == 0, council.output
    assert council.output == "Council area: 1 created, 0 updated, 0 removed, 0 unchanged\n"
    first = run(app, tmp_path, wards_file())
    assert first.output == "Wards: 2 created, 0 updated, 0 removed, 0 unchanged\n"
    again = run(app, tmp_path, wards_file())
    assert again.exit_code == 0 and again.output == "Wards: unchanged (2 boundaries)\n"
    renamed = run(app, tmp_path, wards_file("Hunslet and Riverside"))
    assert renamed.output == "Wards: 0 created, 1 updated, 0 removed, 1 unchanged\n"
    with app.app_context():
        assert boundaries() == [
            ("council", "E08000035", "Leeds"),
            ("ward", "E05011404", "Hunslet and Riverside"),
            ("ward", "E05011410", "Little London"),
        ]


def test_point_in_polygon_with_holes_and_multipolygons(app_ctx):
    import_boundaries(council_file())
    import_boundaries(wards_file())
    assert geography.ward_at(53.815, -1.59) == "Little London"
    assert geography.ward_at(53.8075, -1.575) == "Hunslet & Riverside"  # the island in the hole
    assert geography.ward_at(53.79, -1.52) == "Hunslet & Riverside"
    assert geography.ward_at(53.79, -1.59) is None  # in the council area, in no ward
    assert geography.council_area().contains(53.79, -1.59)
    assert not geography.council_area().contains(52.95, -1.5)  # the demo council
    assert list(geography.wards()) == ["Hunslet & Riverside", "Little London"]


def test_a_leeds_address_is_inside_the_area_for_forms_planning_and_the_gazetteer(app_ctx):
    from portal.online_forms.questions import _in_council_area
    from portal.planning import services as planning
    from portal.planning.importer import _point

    assert not _in_council_area(53.815, -1.59)  # the demo boundaries until Leeds imports its own
    with pytest.raises(ValueError, match="outside the council area"):
        _point({"CoordinateReferenceSystem": "WGS84", "GeoX": "-1.59", "GeoY": "53.815"})
    import_boundaries(council_file())
    import_boundaries(wards_file())
    assert _in_council_area(53.815, -1.59)
    assert not _in_council_area(52.95, -1.5)
    assert planning.ward_area("Little London").ward == "Little London"
    with pytest.raises(planning.AlertAreaError):
        planning.ward_area("Castle")
    drawn = "53.814,-1.595;53.814,-1.585;53.818,-1.585;53.818,-1.595"
    assert planning.polygon_area(drawn).polygon
    with pytest.raises(planning.AlertAreaError, match="inside the council area"):
        planning.polygon_area("52.95,-1.51;52.95,-1.50;52.96,-1.50;52.96,-1.51")
    leeds_row = {"CoordinateReferenceSystem": "WGS84", "GeoX": "-1.59", "GeoY": "53.815"}
    assert _point(leeds_row) == (53.815, -1.59)
    report = import_addresses_csv(
        "uprn,line1,line2,town,postcode,latitude,longitude,ward\n"
        "72000001,1 Hanover Square,,Leeds,LS3 1AP,53.815,-1.59,\n"
        "72000002,2 Water Lane,,Leeds,LS11 5QN,53.8075,-1.575,\n"
    )
    assert report.created == 2 and not report.errors
    assert db.session.get(Address, "72000001").ward == "Little London"
    assert db.session.get(Address, "72000002").ward == "Hunslet & Riverside"
    counts = {row[0]: row[1:] for row in planning.alert_counts_by_ward()}
    assert set(counts) == {"Hunslet & Riverside", "Little London"}


@pytest.mark.parametrize(
    "text,message",
    [
        ("ward,name\nE05011410,Little London\n", "The file is not GeoJSON: it is not valid JSON"),
        ('{"type": "Feature", "properties": {}}', "not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "The file has no features"),
    ],
)
def test_bad_files_are_refused_and_change_nothing(app, tmp_path, text, message):
    run(app, tmp_path, wards_file())
    result = run(app, tmp_path, text)
    assert result.exit_code == 1
    assert message in result.output and "Nothing was imported." in result.output
    with app.app_context():
        assert len(boundaries()) == 2


def test_a_feature_without_the_name_property_stops_the_whole_file(app, tmp_path):
    run(app, tmp_path, wards_file())
    data = json.loads(wards_file("Beeston"))
    data["features"].append(
        feature({"WD24CD": "E05011399"}, {"type": "Polygon", "coordinates": [COUNCIL]})
    )
    result = run(app, tmp_path, json.dumps(data))
    assert result.exit_code == 1
    assert "feature 3: no WD24NM property. Nothing was imported." in result.output
    with app.app_context():
        assert [name for _, _, name in boundaries()] == ["Hunslet & Riverside", "Little London"]


def test_files_without_ons_names_or_in_british_national_grid_get_clear_errors(app_ctx):
    plain = {"type": "FeatureCollection", "features": [feature({"ward_name": "A"}, {})]}
    with pytest.raises(BoundaryImportError, match="give it with --name-property"):
        import_boundaries(json.dumps(plain))
    square = [[[430000, 433000], [431000, 433000], [431000, 434000], [430000, 433000]]]
    plain["features"] = [
        feature({"ward_name": "Armley"}, {"type": "Polygon", "coordinates": square})
    ]
    with pytest.raises(BoundaryImportError, match=r"WGS84 \(EPSG:4326\)"):
        import_boundaries(json.dumps(plain), name_property="ward_name", level="ward")
    assert db.session.scalar(select(func.count()).select_from(Boundary)) == 0


def test_a_national_file_needs_the_councils_code(app, tmp_path):
    national = council_file(("E08000036", "Wakefield"))
    refused = run(app, tmp_path, national)
    assert "The file has 2 council areas: choose yours with --council CODE" in refused.output
    chosen = run(app, tmp_path, national, "--council", "E08000035")
    assert chosen.exit_code == 0
    with app.app_context():
        assert boundaries() == [("council", "E08000035", "Leeds")]


def test_the_demo_council_imports_its_boundaries_from_the_sample_files(app_ctx):
    for level, name in [("council", "council-boundary"), ("ward", "ward-boundaries")]:
        sample = (ROOT / "docs" / "samples" / f"{name}.geojson").read_text(encoding="utf-8")
        assert sample == demo_geojson(level)
        import_boundaries(sample)
    assert list(geography.wards()) == sorted(geography.DEMO_WARD_NAMES)
    for name, box in geography.DEMO_WARD_BOXES.items():
        assert geography.ward_at(*box.centre) == name
