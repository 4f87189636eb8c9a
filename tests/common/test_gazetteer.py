"""The gazetteer: CSV importer, postcode rules and the "Find your ward" page without JavaScript."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.gazetteer.services import (
    PostcodeError,
    addresses_for_postcode,
    distance_metres,
    get_address,
    import_addresses_csv,
    normalise_postcode,
)
from portal.common.models import Address
from portal.extensions import db
from tests.helpers.pages import check_html, error_summary

HEADER = "uprn,line1,line2,town,postcode,latitude,longitude,ward\n"


def test_import_creates_good_rows_and_reports_bad_rows_by_line(app_ctx):
    text = (
        HEADER
        + "200000000001,1 Test Street,,Castlebrook,ck9 1ab,52.95,-1.5,Abbey\n"  # line 2
        + "notanumber,2 Test Street,,Castlebrook,CK9 1AB,52.95,-1.5,Abbey\n"  # line 3
        + "200000000003,3 Test Street,,Castlebrook,NOT A POSTCODE,52.95,-1.5,Abbey\n"  # 4
        + "200000000004,4 Test Street,,Castlebrook,CK9 1AB,north,-1.5,Abbey\n"  # line 5
        + "200000000005,,,Castlebrook,CK9 1AB,52.95,-1.5,Abbey\n"  # line 6
        + "200000000006,6 Test Street,Flat 2,Castlebrook,CK91AB,52.95,-1.5,Abbey\n"  # line 7
    )
    report = import_addresses_csv(text)
    assert (report.created, report.updated) == (2, 0)
    assert [e.split(":")[0] for e in report.errors] == ["line 3", "line 4", "line 5", "line 6"]
    assert "UPRN" in report.errors[0] and "postcode" in report.errors[1]
    address = get_address("200000000001")
    assert address.postcode == "CK9 1AB" and address.ward == "Abbey"
    assert get_address("200000000006").single_line == "6 Test Street, Flat 2, Castlebrook, CK9 1AB"


def test_import_updates_an_address_by_uprn(app_ctx):
    import_addresses_csv(
        HEADER + "200000000001,1 Test Street,,Castlebrook,CK9 1AB,52.95,-1.5,Abbey\n"
    )
    report = import_addresses_csv(
        "\ufeff" + HEADER + "200000000001,1A Test Street,,Castlebrook,CK9 1AD,52.96,-1.5,Castle\n"
    )
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    db.session.expire_all()
    address = get_address("200000000001")
    assert (address.line1, address.postcode, address.ward) == (
        "1A Test Street",
        "CK9 1AD",
        "Castle",
    )
    assert db.session.scalar(select(func.count()).select_from(Address)) == 1


def test_import_refuses_a_file_without_the_columns(app_ctx):
    report = import_addresses_csv("id,address\n1,somewhere\n")
    assert report.created == 0 and report.errors and report.errors[0].startswith("line 1")


def test_import_command(app, tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text(
        HEADER
        + "200000000001,1 Test Street,,Castlebrook,CK9 1AB,52.95,-1.5,Abbey\n"
        + "x,2 Test Street,,Castlebrook,CK9 1AB,52.95,-1.5,Abbey\n"
    )
    result = app.test_cli_runner().invoke(args=["gazetteer", "import", str(path)])
    assert result.exit_code == 0
    assert "1 created, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert "line 3: UPRN" in result.output


def test_an_identical_rerun_says_unchanged_and_a_changed_row_updated(app, tmp_path):
    path = tmp_path / "addresses.csv"
    rows = [
        "200000000001,1 Test Street,,Castlebrook,CK9 1AB,52.95,-1.5,Abbey\n",
        "200000000002,2 Test Street,Flat 1,Castlebrook,CK9 1AB,52.950123,-1.500456,\n",
    ]
    path.write_text(HEADER + "".join(rows))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["gazetteer", "import", str(path)])
    assert "2 created, 0 updated, 0 unchanged, 0 rejected" in first.output
    again = runner.invoke(args=["gazetteer", "import", str(path)])
    assert "0 created, 0 updated, 2 unchanged, 0 rejected" in again.output
    path.write_text(HEADER + rows[0].replace("1 Test Street", "1a Test Street") + rows[1])
    changed = runner.invoke(args=["gazetteer", "import", str(path)])
    assert "0 created, 1 updated, 1 unchanged, 0 rejected" in changed.output


@pytest.mark.parametrize(
    "text,expected",
    [
        ("ck11ab", "CK1 1AB"),
        (" CK1  1AB ", "CK1 1AB"),
        ("sw1a1aa", "SW1A 1AA"),
        ("m11ae", "M1 1AE"),
    ],
)
def test_normalise_postcode(text, expected):
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize(
    "text,message",
    [("", "Enter a postcode"), ("   ", "Enter a postcode"), ("hello", "Enter a real postcode")],
)
def test_bad_postcodes_get_govuk_messages(text, message):
    with pytest.raises(PostcodeError, match=message):
        normalise_postcode(text)


def test_postcode_outside_the_council_area(app_ctx):
    with pytest.raises(PostcodeError) as error:
        addresses_for_postcode("SW1A 1AA")
    assert str(error.value) == "Enter a postcode in the Castlebrook Council area"


def test_addresses_for_a_postcode_in_house_number_order(app_ctx):
    load_demo_gazetteer()
    postcode, addresses = addresses_for_postcode("ck1 1ad")
    numbers = [int(a.line1.split()[0]) for a in addresses]
    assert postcode == "CK1 1AD" and numbers == list(range(13, 26))
    with pytest.raises(PostcodeError, match="could not find any addresses"):
        addresses_for_postcode("CK9 9ZZ")


def test_demo_gazetteer_is_idempotent_and_spans_the_wards(app_ctx):
    first = load_demo_gazetteer()
    assert first >= 300
    assert load_demo_gazetteer() == 0
    wards = db.session.scalars(select(Address.ward).distinct()).all()
    assert len(wards) >= 4


def test_distance_metres():
    # 0.001 degrees of latitude is about 111 metres
    assert 110 < distance_metres((52.95, -1.5), (52.951, -1.5)) < 112


def test_your_area_states_without_javascript(client, app):
    with app.app_context():
        load_demo_gazetteer()
    # empty postcode
    soup = check_html(client.get("/your-area?uprn_postcode=&uprn_find=1"))
    assert error_summary(soup) == ["Enter a postcode"]
    assert soup.title.get_text().startswith("Error:")
    # outside the council area: the answer is kept
    soup = check_html(client.get("/your-area?uprn_postcode=SW1A+1AA&uprn_find=1"))
    assert error_summary(soup) == ["Enter a postcode in the Castlebrook Council area"]
    assert soup.select_one("#uprn-postcode")["value"] == "SW1A 1AA"
    # results
    soup = check_html(client.get("/your-area?uprn_postcode=ck11ab&uprn_find=1"))
    assert not error_summary(soup)
    assert len(soup.select("#uprn option")) == 13
    # Continue without choosing
    soup = check_html(client.get("/your-area?uprn_postcode=CK1+1AB&uprn="))
    assert error_summary(soup) == ["Select an address"]
    # chosen
    uprn = soup.select("#uprn option")[1]["value"]
    soup = check_html(client.get(f"/your-area?uprn_postcode=CK1+1AB&uprn={uprn}"))
    assert soup.h1.get_text(strip=True).startswith("1 Abbey Road")
    assert "Northgate" in soup.select_one(".govuk-summary-list").get_text()
