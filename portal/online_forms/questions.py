"""Question types: reading a page's answers from a request and checking them in GOV.UK wording.

A definition is plain JSON: {"pages": [{"id", "title", "guidance", "kind": "questions"|"exit",
"questions": [{"id", "type", "label", "hint", "optional", "name", "options": [{"value", "label",
"goto"}], "max_length", "file_types", "max_size_mb", "max_files", "allow_point", "decimals",
"date_range": "past"|"future"|"past_days"|"future_days", "range_days"}]}],
"declaration", "what_happens_next", "payment": {"kind": "fixed"|"per_item", "amount_pence",
"question"}, "departments": [...]}.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from markdown_it import MarkdownIt
from markupsafe import Markup

from portal.common import uploads
from portal.common.clock import uk_today
from portal.common.gazetteer.geography import council_area
from portal.common.gazetteer.services import (
    PostcodeError,
    addresses_for_postcode,
    get_address,
    normalise_postcode,
)

QUESTION_TYPES = {
    "text": "Short text",
    "textarea": "Long text (with a character count)",
    "email": "Email address",
    "phone": "UK telephone number",
    "number": "Number",
    "vehicle_registration": "Vehicle registration number",
    "money": "Money (pounds and pence)",
    "date": "Date",
    "yes_no": "Yes or no",
    "radios": "Single choice",
    "checkboxes": "Multiple choice",
    "address": "Address (postcode lookup)",
    "file": "File upload",
    "declaration": "Declaration (a box to tick)",
}
CHOICE_TYPES = ("radios", "checkboxes", "yes_no")
BRANCHING_TYPES = ("radios", "yes_no")
FILE_KINDS = {"jpg": "JPG", "png": "PNG", "pdf": "PDF"}
DEFAULT_FILE_TYPES = ["jpg", "png", "pdf"]
UPLOAD_KINDS = {"jpg": "jpeg", "png": "png", "pdf": "pdf"}  # file type → kind sniffed from bytes
PHONE = re.compile(r"^(?:\+44|0044|0)\d{9,10}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# UK registration marks, without spaces: current (AB12CDE), prefix (A123BCD), suffix (ABC123D)
# and dateless (ABC1234 or 1234ABC). Each pattern splits where the space is written.
VEHICLE_REGISTRATIONS = (
    re.compile(r"^([A-Z]{2}[0-9]{2})([A-Z]{3})$"),
    re.compile(r"^([A-Z][0-9]{1,3})([A-Z]{3})$"),
    re.compile(r"^([A-Z]{3})([0-9]{1,3}[A-Z])$"),
    re.compile(r"^([A-Z]{1,3})([0-9]{1,4})$"),
    re.compile(r"^([0-9]{1,4})([A-Z]{1,3})$"),
)
DATE_RANGES = {
    "": "No limit",
    "past": "Today or in the past",
    "future": "Today or in the future",
    "past_days": "Within a number of days before today",
    "future_days": "Within a number of days after today",
}
NUMBER = re.compile(r"^-?\d+$")
DECIMAL_NUMBER = re.compile(r"^-?(\d+(\.\d+)?|\.\d+)$")

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def render_markdown(text: str | None) -> Markup:
    """Safe Markdown for guidance: raw HTML is off; GOV.UK classes on the common elements."""
    html = _markdown.render(text or "")
    for tag, cls in (
        ("<p>", '<p class="govuk-body">'),
        ("<ul>", '<ul class="govuk-list govuk-list--bullet">'),
        ("<ol>", '<ol class="govuk-list govuk-list--number">'),
        ("<a ", '<a class="govuk-link" '),
        ("<h2>", '<h2 class="govuk-heading-m">'),
        ("<h3>", '<h3 class="govuk-heading-s">'),
    ):
        html = html.replace(tag, cls)
    return Markup(html)  # noqa: S704  (markdown-it escapes all input; HTML is disabled)


def options_of(question: dict) -> list[dict]:
    if question["type"] == "yes_no":
        gotos = {o.get("value"): o.get("goto") for o in question.get("options", [])}
        return [
            {"value": "yes", "label": "Yes", "goto": gotos.get("yes")},
            {"value": "no", "label": "No", "goto": gotos.get("no")},
        ]
    return question.get("options", [])


def error_name(question: dict) -> str:
    return question.get("name") or question["label"].rstrip("?").strip()


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text and not text[:2].isupper() else text


@dataclass
class PageResult:
    """What a page POST gave: the answers to keep and the errors as (field id, message)."""

    answers: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    lookups: dict[str, dict] = field(default_factory=dict)  # address lookups in progress
    stay: bool = False  # re-show the page without errors (an address search, a file removed)

    def error_for(self, field_id: str) -> str | None:
        return next((m for f, m in self.errors if f == field_id), None)


def read_answer(question: dict, form: Any, existing: Any, files_count: int, result: PageResult):
    """Read and check one question's answer from the request form into `result`."""
    qid, kind = question["id"], question["type"]
    name = _lower_first(error_name(question))
    title_name = error_name(question)[:1].upper() + error_name(question)[1:]
    optional = question.get("optional", False)

    def fail(message: str, field_id: str | None = None) -> None:
        result.errors.append((field_id or qid, message))

    if kind in ("text", "textarea", "email", "phone", "number", "money", "vehicle_registration"):
        value = (form.get(qid) or "").strip()
        result.answers[qid] = value
        if not value:
            if not optional:
                fail(f"Enter {name}")
            return
        limit = int(question.get("max_length") or (1200 if kind == "textarea" else 200))
        if len(value) > limit:
            fail(f"{title_name} must be {limit} characters or less")
        elif kind == "email" and not EMAIL.match(value):
            fail("Enter an email address in the correct format, like name@example.com")
        elif kind == "phone" and not PHONE.match(re.sub(r"[\s()\-]", "", value)):
            fail("Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192")
        elif kind == "vehicle_registration":
            registration = normalise_registration(value)
            if registration is None:
                fail(
                    f"Enter {name} in the correct format, like CK21 ABC, "
                    "A123 BCD, ABC 123D or ABC 1234"
                )
            else:
                result.answers[qid] = registration
        elif kind == "number":
            message, number = check_number(question, value, title_name)
            if message:
                fail(message)
            else:
                result.answers[qid] = number
        elif kind == "money":
            try:
                amount = Decimal(value.lstrip("£").replace(",", ""))
            except InvalidOperation:
                amount = None
            if amount is None or amount < 0 or amount != amount.quantize(Decimal("0.01")):
                fail(f"Enter {name} in pounds and pence, like 12.50")
            else:
                result.answers[qid] = f"{amount:.2f}"
        return
    if kind == "date":
        parts = {p: (form.get(f"{qid}-{p}") or "").strip() for p in ("day", "month", "year")}
        result.answers[qid] = parts
        if not any(parts.values()):
            if not optional:
                fail(f"Enter {name}", f"{qid}-day")
            return
        missing = [p for p in ("day", "month", "year") if not parts[p]]
        if missing:
            fail(f"{title_name} must include a {' and '.join(missing)}", f"{qid}-{missing[0]}")
            return
        try:
            day = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
            if len(parts["year"]) != 4:
                raise ValueError
        except ValueError:
            fail(f"{title_name} must be a real date", f"{qid}-day")
            return
        message = date_range_error(question, day, title_name)
        if message:
            fail(message, f"{qid}-day")
            return
        result.answers[qid] = {**parts, "iso": day.isoformat()}
        return
    if kind in ("radios", "yes_no"):
        value = form.get(qid) or ""
        allowed = [o["value"] for o in options_of(question)]
        if value not in allowed:
            result.answers[qid] = ""
            if not optional:
                fail(f"Select {name}" if kind == "radios" else f"Select yes if {name}")
            return
        result.answers[qid] = value
        return
    if kind == "checkboxes":
        allowed = [o["value"] for o in options_of(question)]
        values = [v for v in form.getlist(qid) if v in allowed]
        result.answers[qid] = values
        if not values and not optional:
            fail(f"Select {name}")
        return
    if kind == "declaration":
        value = "yes" if form.get(qid) == "yes" else ""
        result.answers[qid] = value
        if not value and not optional:
            fail(question.get("error") or "Confirm that the declaration is true")
        return
    if kind == "address":
        _read_address(question, form, existing, result, fail)
        return
    if kind == "file":
        # files were saved or refused by the caller; here only the count matters
        result.answers[qid] = files_count
        if not files_count and not optional and not result.error_for(qid):
            fail("Select a file", qid)


def normalise_registration(value: str) -> str | None:
    """A UK registration mark written the standard way ("ck21abc" → "CK21 ABC"), or None."""
    compact = re.sub(r"[\s\-]", "", value).upper()
    for pattern in VEHICLE_REGISTRATIONS:
        match = pattern.fullmatch(compact)
        if match:
            return f"{match.group(1)} {match.group(2)}"
    return None


def check_number(question: dict, value: str, title_name: str) -> tuple[str | None, str]:
    """(error message or None, the number as stored) for a Number answer."""
    raw = value.replace(",", "")
    decimals = bool(question.get("decimals"))
    if not (DECIMAL_NUMBER if decimals else NUMBER).fullmatch(raw):
        if decimals:
            return f"{title_name} must be a number, like 2.5", ""
        return f"{title_name} must be a whole number", ""
    number = Decimal(raw)
    low, high = question.get("min"), question.get("max")
    if low is not None and number < Decimal(str(low)):
        return f"{title_name} must be {low} or more", ""
    if high is not None and number > Decimal(str(high)):
        return f"{title_name} must be {high} or fewer", ""
    return None, format(number.normalize(), "f") if decimals else str(int(number))


def date_range_error(question: dict, day: date, title_name: str) -> str | None:
    """The GOV.UK message when `day` is outside the question's allowed range, else None."""
    rule = question.get("date_range") or ""
    days = int(question.get("range_days") or 0)
    today = uk_today()
    if rule in ("past", "past_days") and day > today:
        return f"{title_name} must be today or in the past"
    if rule in ("future", "future_days") and day < today:
        return f"{title_name} must be today or in the future"
    if rule == "past_days" and day < today - timedelta(days=days):
        return f"{title_name} must be within the last {days} day{'s' if days != 1 else ''}"
    if rule == "future_days" and day > today + timedelta(days=days):
        return f"{title_name} must be within the next {days} day{'s' if days != 1 else ''}"
    return None


def _in_council_area(lat: float, lng: float) -> bool:
    return council_area().contains(lat, lng)


def address_answer(address: Any, lookup_postcode: str) -> dict[str, Any]:
    """How an address chosen from the gazetteer is kept as an answer."""
    return {
        "uprn": address.uprn,
        "text": address.single_line,
        "postcode": address.postcode,
        "lat": address.latitude,
        "lng": address.longitude,
        "ward": address.ward,
        "lookup_postcode": lookup_postcode,
    }


def _read_address(question: dict, form: Any, existing: Any, result: PageResult, fail) -> None:
    qid = question["id"]
    council = current_app.config["PORTAL"].council_name
    postcode = (form.get(f"{qid}_postcode") or "").strip()
    uprn = (form.get(qid) or "").strip()
    manual = {
        "line1": (form.get(f"{qid}_line1") or "").strip(),
        "line2": (form.get(f"{qid}_line2") or "").strip(),
        "town": (form.get(f"{qid}_town") or "").strip(),
        "postcode": (form.get(f"{qid}_manual_postcode") or "").strip(),
    }
    point = {
        "lat": (form.get(f"{qid}_lat") or "").strip(),
        "lng": (form.get(f"{qid}_lng") or "").strip(),
    }
    lookup: dict[str, Any] = {"postcode": postcode, "addresses": None, "error": None}
    result.lookups[qid] = lookup
    result.answers[qid] = {"lookup_postcode": postcode, "manual": manual, "point": point}
    if postcode:
        try:
            lookup["postcode"], lookup["addresses"] = addresses_for_postcode(postcode)
        except PostcodeError as exc:
            lookup["error"] = str(exc)
    if form.get(f"{qid}_find"):
        if not postcode:
            lookup["error"] = "Enter a postcode"
        if lookup["error"]:
            fail(lookup["error"], f"{qid}-postcode")
        result.stay = True
        return
    address = get_address(uprn) if uprn else None
    if address is not None:
        result.answers[qid] = address_answer(address, lookup["postcode"])
        return
    if any(manual.values()):
        if not manual["line1"]:
            fail("Enter address line 1, typically the building and street", f"{qid}-line1")
        if not manual["town"]:
            fail("Enter town or city", f"{qid}-town")
        try:
            manual["postcode"] = normalise_postcode(manual["postcode"])
            area = re.match(r"[A-Z]+", manual["postcode"]).group(0)  # type: ignore[union-attr]
            from portal.common.gazetteer.services import council_postcode_areas

            if area not in council_postcode_areas():
                raise PostcodeError(f"Enter a postcode in the {council} area")
        except PostcodeError as exc:
            fail(str(exc), f"{qid}-manual-postcode")
        if not any(result.error_for(f"{qid}-{f}") for f in ("line1", "town", "manual-postcode")):
            text = ", ".join(p for p in manual.values() if p)
            result.answers[qid] = {"manual": manual, "text": text, "postcode": manual["postcode"]}
        return
    if question.get("allow_point") and (point["lat"] or point["lng"]):
        try:
            lat, lng = float(point["lat"]), float(point["lng"])
        except ValueError:
            fail("Enter the latitude and longitude as numbers, like 52.95 and -1.5", f"{qid}-lat")
            return
        if not _in_council_area(lat, lng):
            fail(f"The location must be in the {council} area", f"{qid}-lat")
            return
        result.answers[qid] = {"lat": lat, "lng": lng, "text": f"Map point {lat:.5f}, {lng:.5f}"}
        return
    if lookup["error"]:
        fail(lookup["error"], f"{qid}-postcode")
    elif lookup["addresses"]:
        fail("Select an address", qid)
    elif not question.get("optional"):
        fail("Enter a postcode", f"{qid}-postcode")


def is_answered(question: dict, value: Any) -> bool:
    if question["type"] == "address":
        return isinstance(value, dict) and bool(value.get("text"))
    if question["type"] == "date":
        return isinstance(value, dict) and bool(value.get("iso"))
    if question["type"] == "file":
        return bool(value)
    return bool(value)


def answer_text(question: dict, value: Any, files: list | None = None) -> str:
    """An answer as plain text for check-your-answers, emails and CSV."""
    kind = question["type"]
    if value in (None, "", [], {}):
        return "Not answered"
    if kind == "date":
        if isinstance(value, dict) and value.get("iso"):
            return date.fromisoformat(value["iso"]).strftime("%-d %B %Y")
        return "Not answered"
    if kind == "address":
        return value.get("text") or "Not answered" if isinstance(value, dict) else str(value)
    if kind in ("radios", "yes_no"):
        labels = {o["value"]: o["label"] for o in options_of(question)}
        return labels.get(value, str(value))
    if kind == "checkboxes":
        labels = {o["value"]: o["label"] for o in options_of(question)}
        return ", ".join(labels.get(v, v) for v in value)
    if kind == "money":
        return f"£{value}"
    if kind == "declaration":
        return "Confirmed" if value == "yes" else "Not confirmed"
    if kind == "file":
        if files:
            return ", ".join(f.filename for f in files)
        return f"{value} file(s)"
    return str(value)


class FileRejected(ValueError):
    """An upload refused, with the GOV.UK message as str()."""


def check_upload(question: dict, filename: str, data: bytes) -> tuple[bytes, str, str]:
    """Check an upload's type and size; images are re-encoded (drops EXIF/GPS).

    Returns (bytes to store, extension, content type)."""
    allowed = question.get("file_types") or DEFAULT_FILE_TYPES
    names = [FILE_KINDS.get(t, t.upper()) for t in allowed]
    listed = ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
    max_mb = float(question.get("max_size_mb") or 5)
    if not data:
        raise FileRejected("The selected file is empty")
    if len(data) > max_mb * 1024 * 1024:
        raise FileRejected(f"The selected file must be smaller than {max_mb:g}MB")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    extension = "jpg" if extension == "jpeg" else extension
    if extension not in allowed:
        raise FileRejected(f"The selected file must be a {listed}")
    # What the file is comes from its bytes (the common upload policy), never from its name.
    kinds = {UPLOAD_KINDS[t] for t in allowed if t in UPLOAD_KINDS}
    try:
        kind = uploads.check_kind(data, kinds)
        if kind == "pdf":
            return data, "pdf", "application/pdf"
        image = uploads.open_image(data, kinds - {"pdf"})
    except uploads.UploadRefused as exc:
        if exc.reason == "pixels":
            raise FileRejected(
                "The selected file is too large: images must be 40 megapixels or fewer"
            ) from None
        raise FileRejected(f"The selected file must be a {listed}") from None
    from PIL import ImageOps

    extension = "png" if kind == "png" else "jpg"
    image = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    if extension == "png":
        image.save(out, format="PNG")
        return out.getvalue(), "png", "image/png"
    image.convert("RGB").save(out, format="JPEG", quality=88)
    return out.getvalue(), "jpg", "image/jpeg"
