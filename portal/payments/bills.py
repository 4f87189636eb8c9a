"""Bills payable by reference: their types, reference formats and check digits.

Each reference format carries a check digit so a mistyped reference is caught before we look it
up. A council sets its own patterns and schemes in a rules file (`reference_rules.py`); these are
the demo council's own (documented in docs/payments.md), used for types the file leaves out:

- council tax: 8-digit account number + a mod-11 digit (weights 9..2), 9 digits in all;
- business rates: 10 digits starting with 6, the last a Luhn digit;
- housing rent: "HR" + 7 digits + a Luhn digit over the 7;
- parking penalty charge notice: "CK" + 8 digits + a check letter (mod-11 of the digits, A..K);
- sundry invoice: "INV" + 7 digits + a mod-11 character (0-9 or X, as in an ISBN-10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LGIL_COLLECTING_REVENUE = 2
LGIL_PAYING_FOR_GOODS = 4


def mod11_check(digits: str) -> int:
    """The mod-11 check value (0..10) for `digits`, weights counting down to 2 from the left."""
    weights = range(len(digits) + 1, 1, -1)
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=True))
    return (11 - total % 11) % 11


def luhn_check(digits: str) -> int:
    """The Luhn digit to append to `digits`."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def _ct_valid(ref: str) -> bool:
    return mod11_check(ref[:8]) == int(ref[8]) if mod11_check(ref[:8]) < 10 else False


def _nndr_valid(ref: str) -> bool:
    return luhn_check(ref[:9]) == int(ref[9])


def _rent_valid(ref: str) -> bool:
    return luhn_check(ref[2:9]) == int(ref[9])


def _pcn_valid(ref: str) -> bool:
    return "ABCDEFGHIJK"[mod11_check(ref[2:10])] == ref[10]


def _inv_valid(ref: str) -> bool:
    check = mod11_check(ref[3:10])
    return ("X" if check == 10 else str(check)) == ref[10]


def make_reference(bill_type: str, number: str) -> str:
    """Add the check character to a bare number (for demo data and tests)."""
    if bill_type == "council_tax":
        check = mod11_check(number)
        if check == 10:
            raise ValueError("numbers whose mod-11 value is 10 are never issued")
        return number + str(check)
    if bill_type == "business_rates":
        return number + str(luhn_check(number))
    if bill_type == "housing_rent":
        return "HR" + number + str(luhn_check(number))
    if bill_type == "parking_penalty":
        return "CK" + number + "ABCDEFGHIJK"[mod11_check(number)]
    if bill_type == "sundry_invoice":
        check = mod11_check(number)
        return "INV" + number + ("X" if check == 10 else str(check))
    raise KeyError(bill_type)


# The council's funds as finance officers name them; payments store the code.
FUND_NAMES = {
    "council_tax": "Council Tax (Collection Fund)",
    "business_rates": "Business rates (Collection Fund)",
    "housing_revenue_account": "Housing Revenue Account",
    "parking": "Parking account",
    "general": "General Fund",
}


def fund_name(code: str) -> str:
    """The name of a fund; a code the council added later reads as words."""
    return FUND_NAMES.get(code) or code.replace("_", " ").capitalize()


@dataclass(frozen=True)
class BillType:
    code: str
    title: str
    short: str
    lgsl: int
    lgil: int
    fund: str
    pattern: re.Pattern[str]
    format_hint: str
    example: str
    max_pence: int
    fixed_amount: bool = False

    def normalise(self, text: str) -> str:
        return re.sub(r"[\s\-/]", "", (text or "").upper())

    def well_formed(self, reference: str) -> bool:
        from portal.payments.reference_rules import rule_for

        return bool(rule_for(self.code).pattern.fullmatch(reference))

    def check_digit_ok(self, reference: str) -> bool:
        from portal.payments.reference_rules import rule_for

        return rule_for(self.code).check_ok(self.code, reference)

    @property
    def reference_hint(self) -> str:
        """How a reference looks, from the council's rules (format_hint is the demo's)."""
        from portal.payments.reference_rules import rule_for

        return rule_for(self.code).hint


CHECKS = {
    "council_tax": _ct_valid,
    "business_rates": _nndr_valid,
    "housing_rent": _rent_valid,
    "parking_penalty": _pcn_valid,
    "sundry_invoice": _inv_valid,
}

BILL_TYPES: dict[str, BillType] = {
    bt.code: bt
    for bt in (
        BillType(
            "council_tax",
            "Council Tax",
            "council tax",
            57,
            LGIL_COLLECTING_REVENUE,
            "council_tax",
            re.compile(r"\d{9}"),
            "9 digits, for example 123456789",
            "123456789",
            500_000,
        ),
        BillType(
            "business_rates",
            "Business rates",
            "business rates",
            56,
            LGIL_COLLECTING_REVENUE,
            "business_rates",
            re.compile(r"6\d{9}"),
            "10 digits starting with 6, for example 6000012341",
            "6000012341",
            10_000_000,
        ),
        BillType(
            "housing_rent",
            "Housing rent",
            "rent",
            120,
            LGIL_COLLECTING_REVENUE,
            "housing_revenue_account",
            re.compile(r"HR\d{8}"),
            "HR followed by 8 digits, for example HR12345674",
            "HR12345674",
            500_000,
        ),
        BillType(
            "parking_penalty",
            "Parking penalty charge notice",
            "penalty charge",
            471,
            LGIL_COLLECTING_REVENUE,
            "parking",
            re.compile(r"CK\d{8}[A-K]"),
            "CK, 8 digits and a letter, for example CK12345678J",
            "CK12345678J",
            50_000,
            fixed_amount=True,
        ),
        BillType(
            "sundry_invoice",
            "Invoice (sundry debt)",
            "invoice",
            1520,
            LGIL_COLLECTING_REVENUE,
            "general",
            re.compile(r"INV\d{7}[\dX]"),
            "INV, 7 digits and a check character, for example INV12345679",
            "INV12345679",
            2_000_000,
        ),
    )
}
