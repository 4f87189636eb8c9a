"""Load the bills table from the revenues system's CSV export.

Columns: reference, type, address, amount_due (pounds), fixed_amount (yes/no; blank keeps the bill
type's default). Every row is checked against its bill type's reference rule; a file with any
rejected row imports nothing unless the caller asks for the valid rows only.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from portal.extensions import db
from portal.payments.bills import BILL_TYPES, BillType
from portal.payments.models import Bill
from portal.payments.reference_rules import reference_rules

COLUMNS = ["reference", "type", "address", "amount_due", "fixed_amount"]
_YES, _NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


@dataclass
class BillsReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    imported: bool = True

    def summary(self) -> str:
        line = (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.errors)} rejected"
        )
        return line if self.imported else f"{line}: nothing was imported"


def _bill_type(text: str) -> BillType:
    key = text.strip().lower()
    for bt in BILL_TYPES.values():
        if key in (bt.code, bt.title.lower(), bt.code.replace("_", " ")):
            return bt
    raise ValueError(f"unknown bill type {text.strip()!r}")


def _pence(text: str, bt: BillType) -> int:
    cleaned = re.sub(r"[£,\s]", "", text or "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"amount due {text.strip()!r} is not an amount in pounds") from None
    if amount != amount.quantize(Decimal("0.01")) or amount < 0:
        raise ValueError(f"amount due {text.strip()!r} is not an amount in pounds")
    pence = int(amount * 100)
    if pence > bt.max_pence:
        raise ValueError(f"amount due £{amount:,.2f} is more than a {bt.short} can be")
    return pence


def _fixed(text: str, bt: BillType) -> bool:
    value = (text or "").strip().lower()
    if not value:
        return bt.fixed_amount
    if value in _YES | _NO:
        return value in _YES
    raise ValueError(f"fixed amount {text.strip()!r} must be yes or no")


def parse_row(row: dict[str, str]) -> dict[str, object]:
    bt = _bill_type(row.get("type") or "")
    reference = bt.normalise(row.get("reference") or "")
    if not reference:
        raise ValueError("the reference is empty")
    if not bt.well_formed(reference):
        raise ValueError(
            f"{bt.short} reference {reference} is not in the format {bt.reference_hint}"
        )
    if not bt.check_digit_ok(reference):
        raise ValueError(f"{bt.short} reference {reference} fails its check digit")
    pence = _pence(row.get("amount_due") or "", bt)
    address = " ".join((row.get("address") or "").split())[:200] or None
    return {
        "bill_type": bt.code,
        "reference": reference,
        "payer_hint": address,
        "fixed_amount_pence": pence if _fixed(row.get("fixed_amount") or "", bt) else None,
        "balance_pence": pence,
    }


def import_bills_csv(text: str, *, skip_rejected: bool = False) -> BillsReport:
    """Create or update bills; with rejected rows nothing is imported unless `skip_rejected`."""
    reference_rules()  # a bad rules file stops the import before any row is read
    report = BillsReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    fields = [(f or "").strip().lower() for f in reader.fieldnames or []]
    reader.fieldnames = fields
    missing = [c for c in COLUMNS if c not in fields]
    if missing:
        report.errors.append(f"line 1: missing columns {', '.join(missing)}")
        report.imported = False
        return report
    rows: list[dict[str, object]] = []
    seen: dict[tuple[object, object], int] = {}
    line = reader.line_num
    for row in reader:
        start, line = line + 1, reader.line_num
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        if None in row or any(v is None for v in row.values()):
            found = len(fields) + len(row.get(None) or []) - list(row.values()).count(None)
            report.errors.append(f"line {start}: expected {len(fields)} columns, found {found}")
            continue
        try:
            values = parse_row(row)
        except ValueError as exc:
            report.errors.append(f"line {start}: {exc}")
            continue
        key = (values["bill_type"], values["reference"])
        if key in seen:
            report.errors.append(f"line {start}: reference {key[1]} is also on line {seen[key]}")
            continue
        seen[key] = start
        rows.append(values)
    if report.errors and not skip_rejected:
        report.imported = False
        return report
    existing = {(b.bill_type, b.reference): b for b in db.session.scalars(select(Bill))}
    for values in rows:
        bill = existing.get((values["bill_type"], values["reference"]))
        if bill is None:
            db.session.add(Bill(**values))
            report.created += 1
        elif all(getattr(bill, k) == v for k, v in values.items()):
            report.unchanged += 1
        else:
            for k, v in values.items():
                setattr(bill, k, v)
            report.updated += 1
    db.session.commit()
    return report
