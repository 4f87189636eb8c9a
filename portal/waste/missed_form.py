"""The rules of bin day on the "Report a missed bin collection" form (LGSL 524, LGIL 0).

Registered with the form engine as an answer check (portal/online_forms/answer_checks.py), so the
form offers what the missed-collection page offers: only collections due at the address that can
still be reported (until the end of the second working day after), never a round the crew marked
not completed, with the reason for everything else.

Checked only when the address came from the gazetteer (it has a UPRN) and the council has rounds:
an address typed in by hand, or a council that keeps its rounds elsewhere, is not checked. Other
forms on the same interaction (an assisted collection) are left alone: only a form asking which
bin (options named after collection types) and a date is a missed-collection report.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from portal.common.clock import uk_today
from portal.extensions import db
from portal.waste import services
from portal.waste.models import Round

LGSL_MISSED = 524
LGIL_MISSED = 0


def register(app) -> None:  # noqa: ANN001
    try:
        from portal.online_forms.answer_checks import register_answer_check
    except ImportError:  # the online forms slice is not installed
        return
    register_answer_check(app, LGSL_MISSED, LGIL_MISSED, check_missed_report)


def _first(definition: dict, kind: str) -> dict | None:
    for page in definition.get("pages", []):
        for question in page.get("questions", []):
            if question["type"] == kind:
                return question
    return None


def _bin_question(definition: dict, names: set[str]) -> dict | None:
    """The single-choice question whose options name collection types ("Which bin was missed?")."""
    for page in definition.get("pages", []):
        for question in page.get("questions", []):
            labels = {o.get("label", "").strip().lower() for o in question.get("options", [])}
            if question["type"] == "radios" and labels & names:
                return question
    return None


def late_message(row) -> str:  # noqa: ANN001
    name = row.round.collection_type.name.lower()
    return (
        f"Our crew could not finish the {name} round on {services.long_date(row.day)}. "
        "We will come back as soon as we can: leave your bin out, you do not need to report it"
    )


def no_round_message() -> str:
    phone = current_app.config["PORTAL"].council_phone
    contact = f"Contact us on {phone}" if phone else "Contact us"
    return (
        "We do not collect from this address: it may be a business or new build. "
        f"{contact} to ask about collections"
    )


def check_missed_report(definition: dict, answers: dict, today: date | None = None):  # noqa: ANN201
    """Problems with a missed-collection report as (field id, message) pairs."""
    address_q = _first(definition, "address")
    if address_q is None:
        return []
    address = answers.get(address_q["id"])
    uprn = str(address.get("uprn") or "") if isinstance(address, dict) else ""
    if not uprn or db.session.scalar(select(Round.id).limit(1)) is None:
        return []
    types = {t.name.lower(): t for t in services.types()}
    bin_q, date_q = _bin_question(definition, set(types)), _first(definition, "date")
    if bin_q is None or date_q is None:
        return []  # another form on the interaction (an assisted collection): not a report
    today = today or uk_today()
    served = services.assignments_for(uprn, on=today)
    if not served:
        return [(address_q["id"], no_round_message())]
    options = services.missed_options(uprn, today)
    late = [
        n
        for n in services.not_completed_for(uprn, today - timedelta(days=10))
        if n.day <= today <= services.report_deadline(n.day)
    ]
    refusals = services.missed_refusals(uprn, today, options)
    if not options:
        reasons = [late_message(n) for n in late] + refusals
        if not reasons:
            reasons = ["None of the collections at this address can be reported missed today"]
        return [(address_q["id"], ". ".join(reasons))]

    chosen = answers.get(bin_q["id"])
    if not chosen:
        return []
    label = next((o["label"] for o in bin_q.get("options", []) if o["value"] == chosen), chosen)
    kind = types.get(label.strip().lower())
    if kind is None:
        return []
    open_days = sorted({o.collection.day for o in options if o.collection.type.id == kind.id})
    name = kind.name.lower()
    if not open_days:
        if kind.id not in {a.round.type_id for a in served}:
            return [(bin_q["id"], f"We do not collect {name} from this address")]
        for n in late:
            if n.round.type_id == kind.id:
                return [(bin_q["id"], late_message(n))]
        reason = next(
            (r for r in refusals if r.startswith(f"Your {name} ")),
            f"Your {name} cannot be reported missed today",
        )
        return [(bin_q["id"], reason)]

    when = answers.get(date_q["id"])
    if not isinstance(when, dict) or not when.get("iso"):
        return []
    if date.fromisoformat(when["iso"]) in open_days:
        return []
    days = " or ".join(services.long_date(d) for d in open_days)
    enter = "enter that date" if len(open_days) == 1 else "enter one of those dates"
    return [(f"{date_q['id']}-day", f"Your {name} was due on {days}: {enter}")]
