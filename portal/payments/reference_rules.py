"""Each bill type's reference rule: a pattern and a check-digit scheme, from a file the council edits.

`<instance>/bill_reference_rules.json` maps a bill type code to its rule, for example
`{"council_tax": {"pattern": "\\\\d{8}", "check": "none", "hint": "8 digits, for example 12345678"}}`.
Types it leaves out keep the demo council's rule (docs/payments.md). The schemes:

- `none`: no check character;
- `luhn`: the last character is the Luhn digit of the digits before it;
- `mod11`: the last character is the mod-11 value (weights counting down to 2) of the digits
  before it, X for 10;
- `demo`: the demo council's scheme for that bill type (see `bills.py`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, g

from portal.payments.bills import BILL_TYPES, CHECKS, luhn_check, mod11_check

SCHEMES = ("none", "luhn", "mod11", "demo")
FILE_NAME = "bill_reference_rules.json"


class RuleFileError(ValueError):
    """The rules file cannot be used; str() says why."""


@dataclass(frozen=True)
class ReferenceRule:
    pattern: re.Pattern[str]
    check: str
    hint: str

    def check_ok(self, bill_type: str, reference: str) -> bool:
        if self.check == "none":
            return True
        if self.check == "demo":
            return CHECKS[bill_type](reference)
        digits = re.sub(r"\D", "", reference[:-1])
        if not digits:
            return False
        if self.check == "luhn":
            return str(luhn_check(digits)) == reference[-1]
        value = mod11_check(digits)
        return ("X" if value == 10 else str(value)) == reference[-1]


def rules_path() -> Path:
    return Path(current_app.config["PORTAL"].instance_path) / FILE_NAME


def parse_rules(text: str) -> dict[str, ReferenceRule]:
    """Rules for every bill type: the file's, else the demo's; RuleFileError if the file is bad."""
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise RuleFileError(f"{FILE_NAME} is not valid JSON (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise RuleFileError(f"{FILE_NAME} must be an object of bill types")
    rules = {
        code: ReferenceRule(bt.pattern, "demo", bt.format_hint) for code, bt in BILL_TYPES.items()
    }
    for code, entry in data.items():
        if code not in BILL_TYPES:
            raise RuleFileError(f"{FILE_NAME}: unknown bill type {code!r}")
        if not isinstance(entry, dict) or not isinstance(entry.get("pattern"), str):
            raise RuleFileError(f"{FILE_NAME}: {code} needs a pattern")
        try:
            pattern = re.compile(entry["pattern"])
        except re.error as exc:
            raise RuleFileError(
                f"{FILE_NAME}: {code} pattern is not a valid regex: {exc}"
            ) from None
        check = entry.get("check", "none")
        if check not in SCHEMES:
            raise RuleFileError(
                f"{FILE_NAME}: {code} check must be one of {', '.join(SCHEMES)}, not {check!r}"
            )
        hint = str(entry.get("hint") or f"a reference like {entry['pattern']}")
        rules[code] = ReferenceRule(pattern, check, hint)
    return rules


def reference_rules() -> dict[str, ReferenceRule]:
    """The rules in force, read once per request or command."""
    if "portal_reference_rules" not in g:
        path = rules_path()
        g.portal_reference_rules = parse_rules(
            path.read_text(encoding="utf-8") if path.exists() else ""
        )
    return g.portal_reference_rules


def rule_for(bill_type: str) -> ReferenceRule:
    return reference_rules()[bill_type]
