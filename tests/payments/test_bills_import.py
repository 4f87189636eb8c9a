"""The bills import (revenues system CSV) and each bill type's configurable reference rule."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from portal.extensions import db
from portal.payments.billing import check_reference
from portal.payments.bills import BILL_TYPES, luhn_check
from portal.payments.models import Bill

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "samples" / "bills.csv"
HEADER = "reference,type,address,amount_due,fixed_amount\n"

BAD_ROWS = [
    # (row, reason expected in the report)
    ("259880001,council_tax,1 Abbey Road,100.00,no", "council tax reference 259880001 fails its check digit"),
    ("12345,council_tax,2 Abbey Road,100.00,no", "council tax reference 12345 is not in the format 9 digits"),
    ("12345678,dog_licence,3 Abbey Road,20.00,no", "unknown bill type 'dog_licence'"),
    ("868488844,council_tax,4 Abbey Road,twelve pounds,no", "amount due 'twelve pounds' is not an amount"),
    ('868488844,council_tax,"5 Abbey Road",-5.00,no', "amount due '-5.00' is not an amount"),
    ("CK12345678J,parking_penalty,,900.00,yes", "amount due £900.00 is more than a penalty charge can be"),
    ("CK12345678J,parking_penalty,,35.00,maybe", "fixed amount 'maybe' must be yes or no"),
    (",council_tax,6 Abbey Road,10.00,no", "the reference is empty"),
    ("CK12345678J,parking_penalty,,£1,234.56,yes", "expected 5 columns, found 6"),
]  # fmt: skip


def realistic_file() -> tuple[str, list[tuple[int, str]]]:
    """The sample export with bad rows mixed in, a duplicate and some hand-typed forms."""
    good = SAMPLE.read_text(encoding="utf-8").splitlines()[1:]
    lines = [HEADER.strip()]
    expected: list[tuple[int, str]] = []
    for index, row in enumerate(good):
        lines.append(row)
        if index < len(BAD_ROWS):
            lines.append(BAD_ROWS[index][0])
            expected.append((len(lines), BAD_ROWS[index][1]))
    lines.append(good[0].replace(",no", ",No"))
    expected.append((len(lines), f"reference {good[0].split(',')[0]} is also on line 2"))
    lines.append('HR 1234 5674,Housing rent,"Flat 2, 9 Kiln Lane","£1,234.56",')
    lines.append('"inv 1234567 9",Invoice (sundry debt),,"£2,000.00",no')
    return "\n".join(lines) + "\n", expected


def run(app, tmp_path: Path, text: str, *options: str):
    path = tmp_path / "bills.csv"
    path.write_text(text, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["bills", "import", str(path), *options])


def bill_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Bill)) or 0


def test_a_file_with_bad_rows_reports_each_by_line_and_imports_nothing(app, tmp_path):
    text, expected = realistic_file()
    result = run(app, tmp_path, text)
    assert result.exit_code == 1
    assert result.stdout == "0 created, 0 updated, 0 unchanged, 10 rejected: nothing was imported\n"
    reported = result.stderr.splitlines()
    assert len(reported) == len(expected) == 10
    for (line, reason), text_line in zip(expected, reported, strict=True):
        assert text_line.startswith(f"  line {line}: "), (text_line, line)
        assert reason in text_line
    assert bill_count(app) == 0


def test_skip_rejected_imports_the_valid_rows_in_their_normal_form(app, tmp_path):
    text, _ = realistic_file()
    result = run(app, tmp_path, text, "--skip-rejected")
    assert result.exit_code == 0
    assert result.stdout == "32 created, 0 updated, 0 unchanged, 10 rejected\n"
    with app.app_context():
        rent = db.session.scalar(select(Bill).where(Bill.reference == "HR12345674"))
        assert (rent.bill_type, rent.balance_pence, rent.fixed_amount_pence) == (
            "housing_rent",
            123456,
            None,
        )
        assert rent.payer_hint == "Flat 2, 9 Kiln Lane"
        pcn = db.session.scalars(select(Bill).where(Bill.bill_type == "parking_penalty")).first()
        assert pcn.fixed_amount_pence == pcn.balance_pence
        assert db.session.scalar(select(Bill.balance_pence).where(Bill.reference == "INV12345679"))
        bill, problem = check_reference(BILL_TYPES["housing_rent"], "hr1234 5674")
        assert bill is not None and not problem


def test_an_identical_rerun_says_unchanged_and_a_new_balance_updates(app, tmp_path):
    text = SAMPLE.read_text(encoding="utf-8")
    assert run(app, tmp_path, text).stdout == "30 created, 0 updated, 0 unchanged, 0 rejected\n"
    assert run(app, tmp_path, text).stdout == "0 created, 0 updated, 30 unchanged, 0 rejected\n"
    changed = text.replace("1182.61", "1082.61")
    assert run(app, tmp_path, changed).stdout == "0 created, 1 updated, 29 unchanged, 0 rejected\n"
    assert bill_count(app) == 30


def test_a_file_without_the_columns_is_refused(app, tmp_path):
    result = run(app, tmp_path, "ref,amount\n259880000,10.00\n")
    assert result.exit_code == 1
    assert "line 1: missing columns reference, type, address, amount_due, fixed_amount" in (
        result.stderr
    )


def rules(app, content: object) -> None:
    path = Path(app.config["PORTAL"].instance_path) / "bill_reference_rules.json"
    path.write_text(json.dumps(content) if not isinstance(content, str) else content)


def luhn_reference(number: str) -> str:
    return number + str(luhn_check(number))


def test_a_councils_own_reference_rules_apply_to_the_import_and_to_pay(app, tmp_path):
    rules(
        app,
        {
            "council_tax": {
                "pattern": r"\d{8}",
                "check": "luhn",
                "hint": "8 digits, for example 12345674",
            },
            "parking_penalty": {"pattern": r"LS\d{8}", "check": "none"},
            "sundry_invoice": {"pattern": r"INV\d{7}[\dX]", "check": "mod11"},
        },
    )
    good_ct = luhn_reference("1234567")
    bad_ct = good_ct[:-1] + str((int(good_ct[-1]) + 1) % 10)
    text = (
        HEADER
        + f"{good_ct},council_tax,1 Park Road,150.00,no\n"
        + f"{bad_ct},council_tax,2 Park Road,150.00,no\n"
        + "259880000,council_tax,3 Park Road,150.00,no\n"  # the demo's format
        + "LS00000001,parking_penalty,,70.00,yes\n"
        + "INV12345679,sundry_invoice,,70.00,no\n"
    )
    result = run(app, tmp_path, text, "--skip-rejected")
    assert result.stdout == "3 created, 0 updated, 0 unchanged, 2 rejected\n"
    assert f"line 3: council tax reference {bad_ct} fails its check digit" in result.stderr
    assert "line 4: council tax reference 259880000 is not in the format 8 digits" in (
        result.stderr
    )
    with app.test_request_context():
        assert check_reference(BILL_TYPES["council_tax"], good_ct)[0] is not None
        assert (
            "right format: 8 digits, for example 12345674"
            in (check_reference(BILL_TYPES["council_tax"], "259880000")[1])
        )
        assert check_reference(BILL_TYPES["parking_penalty"], "ls 0000 0001")[0] is not None


def test_a_bad_rules_file_is_reported_and_nothing_imported(app, tmp_path):
    for content, message in [
        ("{not json", "bill_reference_rules.json is not valid JSON (line 1)"),
        ({"dog_licence": {"pattern": "D\\d+"}}, "unknown bill type 'dog_licence'"),
        ({"council_tax": {"pattern": "(\\d{8}"}}, "council_tax pattern is not a valid regex"),
        ({"council_tax": {"pattern": "\\d{8}", "check": "mod97"}}, "check must be one of"),
    ]:
        rules(app, content)
        result = run(app, tmp_path, SAMPLE.read_text(encoding="utf-8"))
        assert result.exit_code == 1 and message in result.output, result.output
    assert bill_count(app) == 0
