"""Online forms: the verbs the views call (publish, submit, change status…)."""

from __future__ import annotations

import copy
import hashlib
import secrets
import statistics
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from portal.common.audit import record_audit
from portal.common.clock import to_uk, uk_date, uk_today
from portal.common.delivery import add_to_register, register_problem, set_portal_delivery
from portal.common.models import utcnow
from portal.common.outbox import queue_email
from portal.common.references import new_reference
from portal.common.transactions import current_channel, record_transaction
from portal.common.urls import external_url, path_for
from portal.extensions import db
from portal.online_forms.models import (
    FormDraft,
    FormSubmission,
    FormVersion,
    OfficeMember,
    OnlineForm,
    Open311Key,
    SubmissionFile,
    SubmissionNote,
    SubmissionPart,
)
from portal.online_forms.questions import (
    BRANCHING_TYPES,
    address_answer,
    answer_text,
    is_answered,
    options_of,
)

PAYMENT_PURPOSE = "form_submission"
RESUME_DAYS = 7
END = "end"


# ---------------------------------------------------------------- definitions and lifecycle


def empty_definition() -> dict:
    return {"pages": [], "declaration": "", "what_happens_next": "", "payment": None}


def new_form(**fields: Any) -> OnlineForm:
    """A new form with an empty first draft version."""
    definition = fields.pop("definition", None) or empty_definition()
    form = OnlineForm(status=OnlineForm.DRAFT, **fields)
    form.versions.append(FormVersion(number=1, state=FormVersion.DRAFT, definition=definition))
    db.session.add(form)
    db.session.flush()
    record_audit("online_form.create", "online_form", form.id, {"slug": form.slug})
    return form


def editable_version(form: OnlineForm) -> FormVersion:
    """The draft to edit: the existing draft, or a new draft copied from the live version."""
    draft = form.draft_version
    if draft is not None:
        return draft
    source = form.live_version or form.versions[-1]
    number = max(v.number for v in form.versions) + 1
    draft = FormVersion(
        number=number, state=FormVersion.DRAFT, definition=copy.deepcopy(source.definition)
    )
    form.versions.append(draft)
    db.session.flush()
    return draft


def save_definition(version: FormVersion, definition: dict) -> None:
    version.definition = copy.deepcopy(definition)  # a new object so the JSON column saves


def form_url(form: OnlineForm) -> str:
    """The form's start page as a path (stored in the e-enablement register)."""
    return path_for("online_forms.start", slug=form.slug)


def publish(form: OnlineForm) -> FormVersion:
    """Make the draft live: the old live version is superseded and the interaction e-enabled."""
    draft = form.draft_version
    if draft is None:
        raise ValueError("There is no draft to publish")
    problems = definition_problems(draft.definition)
    if problems:
        raise ValueError(problems[0])
    for version in form.versions:
        if version.state == FormVersion.LIVE:
            version.state = FormVersion.SUPERSEDED
    draft.state = FormVersion.LIVE
    draft.published_at = utcnow()
    form.live_version = draft
    form.status = OnlineForm.LIVE
    form.updated_at = utcnow()
    set_portal_delivery("form", form.slug, form.lgsl, form.lgil, form.title, form_url(form), True)
    record_audit("online_form.publish", "online_form", form.id, {"version": draft.number})
    return draft


def register_check(form: OnlineForm) -> tuple[str | None, bool]:
    """Why the form would add nothing to BVPI 157 when live, and whether staff may add its
    interaction to the A to Z register (see `portal.common.delivery.register_problem`)."""
    return register_problem(form.lgsl, form.lgil)


def publish_from_staff(form: OnlineForm, add_interaction: bool, user: object) -> FormVersion:
    """Publish for a staff member: refused with a clear message when the form's (LGSL, LGIL)
    maps onto no counted register interaction, unless they agreed to add the interaction."""
    if form.draft_version is None:
        raise ValueError("There is no draft to publish")
    problem, can_add = register_check(form)
    if problem:
        if not (can_add and add_interaction):
            hint = (
                " Select “Add this interaction to the register” to add it as you publish."
                if can_add
                else ""
            )
            raise ValueError(f"This form cannot be published yet. {problem}{hint}")
        add_to_register(form.lgsl, form.lgil, user)
    return publish(form)


def archive(form: OnlineForm) -> None:
    """Withdraw a form: it stops taking submissions and its interaction stops counting."""
    form.status = OnlineForm.ARCHIVED
    form.updated_at = utcnow()
    set_portal_delivery("form", form.slug, form.lgsl, form.lgil, form.title, form_url(form), False)
    record_audit("online_form.archive", "online_form", form.id)


def copy_form(form: OnlineForm, slug: str, title: str) -> OnlineForm:
    source = form.draft_version or form.live_version or form.versions[-1]
    return new_form(
        slug=slug,
        title=title,
        lgsl=form.lgsl,
        lgil=form.lgil,
        office=form.office,
        response_days=form.response_days,
        opens_on=form.opens_on,
        closes_on=form.closes_on,
        is_consultation=form.is_consultation,
        takes_location=form.takes_location,
        definition=copy.deepcopy(source.definition),
    )


def definition_problems(definition: dict) -> list[str]:
    pages = definition.get("pages", [])
    problems = []
    if not [p for p in pages if p.get("kind", "questions") == "questions"]:
        problems.append("Add at least one page with a question before publishing")
    ids = [p["id"] for p in pages]
    for page in pages:
        if page.get("kind", "questions") == "questions" and not page.get("questions"):
            problems.append(f"Add a question to the page ‘{page.get('title') or page['id']}’")
        for question in page.get("questions", []):
            for option in options_of(question):
                goto = option.get("goto")
                if goto and goto != END and goto not in ids:
                    problems.append(f"A branch of ‘{question['label']}’ goes to a missing page")
                elif goto and goto != END and ids.index(goto) <= ids.index(page["id"]):
                    problems.append(f"A branch of ‘{question['label']}’ must go to a later page")
    return problems


def is_open(form: OnlineForm, today: date | None = None) -> bool:
    today = today or uk_today()
    if form.status != OnlineForm.LIVE or form.live_version is None:
        return False
    if form.opens_on and today < form.opens_on:
        return False
    return not (form.closes_on and today > form.closes_on)


def all_questions(definition: dict) -> list[dict]:
    return [q for p in definition.get("pages", []) for q in p.get("questions", [])]


def find_page(definition: dict, page_id: str) -> dict | None:
    return next((p for p in definition.get("pages", []) if p["id"] == page_id), None)


# ---------------------------------------------------------------- the runner's route


def next_page_id(definition: dict, page: dict, answers: dict) -> str:
    """Where a page leads: a branch chosen by an answer, else the next question page, else end."""
    for question in page.get("questions", []):
        if question["type"] in BRANCHING_TYPES:
            value = answers.get(question["id"])
            for option in options_of(question):
                if option["value"] == value and option.get("goto"):
                    return option["goto"]
    pages = definition["pages"]
    index = [p["id"] for p in pages].index(page["id"])
    for later in pages[index + 1 :]:
        if later.get("kind", "questions") == "questions":
            return later["id"]
    return END


def route(definition: dict, answers: dict) -> tuple[list[dict], str]:
    """The pages a resident goes through with these answers, and where that ends:
    END (all answered), an exit page id, or the first page still to answer."""
    pages = [p for p in definition["pages"] if p.get("kind", "questions") == "questions"]
    if not pages:
        return [], END
    visited: list[dict] = []
    page = pages[0]
    while True:
        if page.get("kind") == "exit":
            return visited, page["id"]
        unanswered = [
            q
            for q in page.get("questions", [])
            if not q.get("optional") and not is_answered(q, answers.get(q["id"]))
        ]
        if unanswered or page["id"] not in answers.get("_seen", []):
            return visited, page["id"]
        visited.append(page)
        following = next_page_id(definition, page, answers)
        if following == END:
            return visited, END
        page = find_page(definition, following) or {"id": END}
        if page["id"] == END:
            return visited, END


def previous_page_id(definition: dict, answers: dict, page_id: str) -> str | None:
    visited, _ = route(definition, answers)
    ids = [p["id"] for p in visited]
    if page_id in ids:
        index = ids.index(page_id)
        return ids[index - 1] if index else None
    return ids[-1] if ids else None


def summary_rows(definition: dict, answers: dict, files: list[SubmissionFile]) -> list[dict]:
    """Check-your-answers rows for the pages on the resident's route."""
    visited, _ = route(definition, answers)
    rows = []
    for page in visited:
        for question in page.get("questions", []):
            if question["type"] == "declaration":
                continue
            own = [f for f in files if f.question_id == question["id"]]
            rows.append(
                {
                    "page": page["id"],
                    "question": question,
                    "label": question["label"],
                    "text": answer_text(question, answers.get(question["id"]), own),
                }
            )
    return rows


# ---------------------------------------------------------------- drafts


def start_draft(
    form: OnlineForm, version: FormVersion, user_id: int | None, preview: bool
) -> FormDraft:
    draft = FormDraft(
        token=secrets.token_urlsafe(24),
        form_id=form.id,
        version_id=version.id,
        user_id=user_id,
        answers={"_seen": []},
        preview=preview,
        started_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def prefill_address(draft: FormDraft, definition: dict, address: Any) -> None:
    """Start the first address question at a gazetteer address the resident came from (the
    bin-day page): the page still asks, with the address already chosen."""
    question = next((q for q in all_questions(definition) if q["type"] == "address"), None)
    if question is None:
        return
    draft.answers = {
        **(draft.answers or {}),
        question["id"]: address_answer(address, address.postcode),
    }


def save_page_answers(draft: FormDraft, page_id: str, answers: dict) -> None:
    merged = dict(draft.answers or {})
    merged.update(answers)
    seen = list(merged.get("_seen", []))
    if page_id not in seen:
        seen.append(page_id)
    merged["_seen"] = seen
    draft.answers = merged
    draft.last_page = page_id
    draft.updated_at = utcnow()


def email_resume_link(draft: FormDraft, email: str) -> None:
    draft.resume_email = email
    draft.resume_expires_at = utcnow() + timedelta(days=RESUME_DAYS)
    link = external_url("online_forms.resume", slug=draft.form.slug, token=draft.token)
    queue_email(
        email,
        f"Continue your form: {draft.form.title}",
        f"You saved your answers to ‘{draft.form.title}’.\n\n"
        f"Continue where you left off: {link}\n\n"
        f"This link works for {RESUME_DAYS} days, until "
        f"{draft.resume_expires_at:%-d %B %Y}. Anyone with the link can see your answers, "
        "so do not share it.\n",
    )


def resumable_draft(token: str) -> FormDraft | None:
    draft = db.session.scalar(select(FormDraft).where(FormDraft.token == token))
    if draft is None or draft.submission_id is not None:
        return None
    expires = draft.resume_expires_at
    if expires is None:
        return None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=utcnow().tzinfo)
    return draft if expires > utcnow() else None


def draft_files(draft: FormDraft) -> list[SubmissionFile]:
    return list(
        db.session.scalars(
            select(SubmissionFile)
            .where(SubmissionFile.draft_id == draft.id)
            .order_by(SubmissionFile.id)
        )
    )


DRAFT_DAYS = 30


def delete_abandoned_drafts(now: datetime | None = None) -> int:
    """Delete drafts nobody has touched for DRAFT_DAYS (and whose emailed link has expired),
    with the files uploaded to them; returns how many drafts went."""
    from portal.common import storage

    now = now or utcnow()
    cutoff = now - timedelta(days=DRAFT_DAYS)
    drafts = db.session.scalars(
        select(FormDraft).where(FormDraft.submission_id.is_(None), FormDraft.updated_at < cutoff)
    ).all()
    removed = 0
    for draft in drafts:
        expires = draft.resume_expires_at
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=now.tzinfo)
        if expires is not None and expires > now:
            continue
        for upload in draft_files(draft):
            if upload.submission_id is None:
                storage.delete(upload.storage_key)
                db.session.delete(upload)
        db.session.delete(draft)
        removed += 1
    db.session.commit()
    return removed


# ---------------------------------------------------------------- submission


def working_days_after(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def payment_amount(definition: dict, answers: dict) -> int | None:
    """Pence due for these answers, or None when the form takes no payment."""
    payment = definition.get("payment")
    if not payment or not payment.get("amount_pence"):
        return None
    amount = int(payment["amount_pence"])
    if payment.get("kind") == "per_item":
        raw = answers.get(payment.get("question") or "", "0")
        count = len(raw) if isinstance(raw, list) else int(raw or 0)
        amount *= max(count, 0)
    return amount or None


def _exists(reference: str) -> bool:
    return (
        db.session.scalar(select(FormSubmission.id).where(FormSubmission.reference == reference))
        is not None
    )


def submit(draft: FormDraft, email: str | None) -> FormSubmission:
    """Turn a complete draft into a submission: once only (the draft token is the idempotency
    key), with its take-up record, files, department parts and confirmation email."""
    form, version = draft.form, draft.version
    definition = version.definition
    visited, _ = route(definition, draft.answers)
    keep = {q["id"] for p in visited for q in p.get("questions", [])}
    answers = {k: v for k, v in draft.answers.items() if k in keep}
    channel, _staff = current_channel()
    today = uk_today()
    submission = FormSubmission(
        reference=new_reference("FS", _exists),
        idempotency_key=draft.token,
        form_id=form.id,
        version_id=version.id,
        office=form.office,
        answers=answers,
        user_id=draft.user_id,
        email=email,
        channel=channel,
        status=FormSubmission.RECEIVED,
        started_at=draft.started_at,
        submitted_at=utcnow(),
        due_on=working_days_after(today, form.response_days),
        updated_at=utcnow(),
    )
    for question in all_questions(definition):
        value = answers.get(question["id"])
        if question["type"] == "address" and isinstance(value, dict) and value.get("text"):
            submission.address_text = value.get("text")
            if value.get("lat") is not None:
                submission.latitude, submission.longitude = value.get("lat"), value.get("lng")
            break
    for office in definition.get("departments") or []:
        submission.parts.append(SubmissionPart(office=office, status=FormSubmission.RECEIVED))
    amount = payment_amount(definition, answers)
    if amount:
        submission.status = FormSubmission.AWAITING_PAYMENT
        submission.amount_pence = amount
    db.session.add(submission)
    db.session.flush()
    for upload in draft_files(draft):
        if upload.question_id in keep:
            upload.submission_id = submission.id
    draft.submission_id = submission.id
    record_transaction(
        "form_submission", form.lgsl, form.lgil, submission.reference, user_id=draft.user_id
    )
    if not amount:
        send_confirmation(submission)
    return submission


PAYMENT_LGIL = 4


def start_payment(submission: FormSubmission, return_url: str):  # noqa: ANN201
    """Create the payment for a submission that needs one (payments slice, imported lazily)."""
    from portal.payments.services import create_payment  # noqa: PLC0415

    payment = create_payment(
        purpose=PAYMENT_PURPOSE,
        purpose_ref=submission.reference,
        description=f"{submission.form.title} ({submission.reference})",
        amount_pence=submission.amount_pence or 0,
        lgsl=submission.form.lgsl,
        # The payment is its own interaction on the service: paying for goods and services,
        # whatever the form's own type (a bulky waste booking is LGIL 1, its fee LGIL 4).
        lgil=PAYMENT_LGIL,
        user_id=submission.user_id,
        email=submission.email,
        return_url=return_url,
    )
    submission.payment_reference = payment.reference
    return payment


def on_payment_success(payment: Any) -> None:
    submission = db.session.scalar(
        select(FormSubmission).where(FormSubmission.reference == payment.purpose_ref)
    )
    if submission is None or submission.status != FormSubmission.AWAITING_PAYMENT:
        return
    submission.status = FormSubmission.RECEIVED
    submission.payment_reference = payment.reference
    submission.updated_at = utcnow()
    submission.notes.append(
        SubmissionNote(
            author_name="Online payment",
            from_status=FormSubmission.AWAITING_PAYMENT,
            to_status=FormSubmission.RECEIVED,
            text=f"Payment {payment.reference} received",
        )
    )
    send_confirmation(submission)


def uk_when(moment: datetime) -> str:
    """A stored time as residents read it: "1 December 2026 at 9:30am" (UK time)."""
    local = to_uk(moment)
    if (local.hour, local.minute) == (12, 0):
        clock = "midday"
    elif (local.hour, local.minute) == (0, 0):
        clock = "midnight"
    else:
        minutes = f":{local.minute:02d}" if local.minute else ""
        clock = f"{local.hour % 12 or 12}{minutes}{'am' if local.hour < 12 else 'pm'}"
    return f"{local.day} {local:%B %Y} at {clock}"


def submission_answer_rows(submission: FormSubmission) -> list[dict]:
    """The answers as label and text, in the form's order; files by name only."""
    rows = []
    files = submission.files
    for question in all_questions(submission.version.definition):
        if question["id"] not in submission.answers or question["type"] == "declaration":
            continue
        own = [f for f in files if f.question_id == question["id"]]
        text = answer_text(question, submission.answers[question["id"]], own)
        rows.append({"label": question["label"], "text": text})
    return rows


def timeline(submission: FormSubmission) -> list[dict]:
    """What has happened to a request, oldest first: sent, paid, each status change, each
    department's update. Officers' internal notes (no status change) are not shown."""
    events = [{"at": submission.submitted_at, "title": "Request sent", "text": ""}]
    for note in submission.notes:
        if note.to_status is None:
            continue
        if note.from_status == FormSubmission.AWAITING_PAYMENT:
            title = "Paid"
        else:
            title = f"Status changed to {FormSubmission.LABELS.get(note.to_status, note.to_status)}"
        events.append({"at": note.created_at, "title": title, "text": note.text})
    for part in submission.parts:
        if part.closed_at is not None:
            events.append({"at": part.closed_at, "title": f"{part.office} updated", "text": ""})
    events.sort(key=lambda e: to_uk(e["at"]))
    return [{**e, "when": uk_when(e["at"])} for e in events]


DEFAULT_NEXT_STEPS = {
    FormSubmission.AWAITING_PAYMENT: "Your request is not complete until you pay. "
    "We start work on it once you have paid.",
    FormSubmission.IN_PROGRESS: "An officer is working on your request. "
    "We will email you when it is resolved.",
    FormSubmission.RESOLVED: "Your request is resolved. If something is still wrong, contact "
    "us and quote your reference number.",
    FormSubmission.REJECTED: "We cannot go ahead with your request. The history below says why. "
    "Contact us and quote your reference number if you have a question.",
}


def next_steps_text(submission: FormSubmission) -> str:
    """What happens next for the request's status: the form's own wording for that status
    ("next_steps" by status, or "what_happens_next" once received), else a default."""
    definition = submission.version.definition
    own = (definition.get("next_steps") or {}).get(submission.status)
    if own:
        return own
    if submission.status == FormSubmission.RECEIVED:
        reply = f"We will reply within {submission.form.response_days} working days"
        if submission.due_on:
            reply += f", by {submission.due_on.day} {submission.due_on:%B %Y}"
        extra = definition.get("what_happens_next") or ""
        return f"{extra}\n\n{reply}." if extra else f"{reply}."
    return DEFAULT_NEXT_STEPS.get(submission.status, "")


def on_payment_failure(payment: Any) -> None:
    """A declined, cancelled or abandoned (expired) payment: email a link to finish paying."""
    submission = db.session.scalar(
        select(FormSubmission).where(FormSubmission.reference == payment.purpose_ref)
    )
    if submission is None:
        return
    submission.payment_reference = payment.reference
    if submission.status == FormSubmission.AWAITING_PAYMENT and _link_due(submission):
        send_payment_link(submission)


# ---------------------------------------------------------------- finishing a payment later

PAYMENT_LINK_DAYS = 7
PAYMENT_LINK_SALT = "online-forms.payment-link"
# an emailed link is not sent again for each decline in a row, but a day later it is
PAYMENT_LINK_RESEND = timedelta(days=1)
# a request left awaiting payment this long with no payment under way gets the link
UNPAID_AFTER = timedelta(minutes=90)


class PaymentLinkError(Exception):
    """A link to finish paying that cannot be used: `expired` tells which kind."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=PAYMENT_LINK_SALT)


def payment_link_token(submission: FormSubmission) -> str:
    return _serializer().dumps({"r": submission.reference})


def submission_for_payment_link(token: str) -> FormSubmission | None:
    """The request a link was made for; PaymentLinkError when it is expired or not genuine."""
    try:
        data = _serializer().loads(token, max_age=PAYMENT_LINK_DAYS * 24 * 3600)
    except SignatureExpired:
        raise PaymentLinkError(expired=True) from None
    except BadSignature:
        raise PaymentLinkError(expired=False) from None
    reference = data.get("r") if isinstance(data, dict) else None
    if not isinstance(reference, str):
        raise PaymentLinkError(expired=False)
    return db.session.scalar(select(FormSubmission).where(FormSubmission.reference == reference))


def _link_due(submission: FormSubmission, now: datetime | None = None) -> bool:
    if not submission.email:
        return False
    sent = submission.payment_link_sent_at
    if sent is None:
        return True
    sent = sent if sent.tzinfo else sent.replace(tzinfo=utcnow().tzinfo)
    return sent <= (now or utcnow()) - PAYMENT_LINK_RESEND


def send_payment_link(submission: FormSubmission) -> None:
    """Email a signed link to finish paying, valid for PAYMENT_LINK_DAYS (the caller commits)."""
    now = utcnow()
    link = external_url("online_forms.payment_link", token=payment_link_token(submission))
    expires = uk_when(now + timedelta(days=PAYMENT_LINK_DAYS))
    amount = f"£{(submission.amount_pence or 0) / 100:.2f}"
    queue_email(
        submission.email,
        f"Finish paying for your request: {submission.form.title} ({submission.reference})",
        f"Your request ‘{submission.form.title}’ (reference {submission.reference}) is not "
        f"complete: we have not received the payment of {amount}.\n\n"
        f"Pay now: {link}\n\n"
        f"This link works for {PAYMENT_LINK_DAYS} days, until {expires}. "
        "After that, start the form again.\n\n"
        "If you have already paid, you do not need to do anything.\n",
    )
    submission.payment_link_sent_at = now


def remind_unpaid(now: datetime | None = None) -> int:
    """Email the link to finish paying for requests left unpaid with no payment under way
    (the payer closed the page before paying); commits; returns how many were emailed."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(FormSubmission).where(
            FormSubmission.status == FormSubmission.AWAITING_PAYMENT,
            FormSubmission.email.is_not(None),
            FormSubmission.payment_link_sent_at.is_(None),
            FormSubmission.submitted_at <= now - UNPAID_AFTER,
            FormSubmission.submitted_at > now - timedelta(days=PAYMENT_LINK_DAYS),
        )
    ).all()
    sent = 0
    for submission in candidates:
        if _payment_under_way(submission):
            continue  # the payments reconciler settles it, and a failure sends the link
        send_payment_link(submission)
        sent += 1
    db.session.commit()
    return sent


def _payment_under_way(submission: FormSubmission) -> bool:
    if not submission.payment_reference:
        return False
    from portal.payments.services import get_payment  # noqa: PLC0415

    payment = get_payment(submission.payment_reference)
    return payment is not None and payment.is_open


def open_payment_reference(submission: FormSubmission) -> str | None:
    """The reference of the request's payment still open at the gateway, if there is one."""
    return submission.payment_reference if _payment_under_way(submission) else None


def answers_as_text(submission: FormSubmission) -> str:
    definition = submission.version.definition
    lines = []
    files = submission.files
    for question in all_questions(definition):
        if question["id"] in submission.answers and question["type"] != "declaration":
            own = [f for f in files if f.question_id == question["id"]]
            text = answer_text(question, submission.answers[question["id"]], own)
            lines.append(f"{question['label']}\n  {text}")
    return "\n".join(lines)


def email_proved(submission: FormSubmission) -> bool:
    """Whether the confirmation address is the submitter's own, proved: the signed-in account's
    confirmed email. Only then may an email carry what the submitter typed."""
    if not submission.email or submission.user_id is None:
        return False
    from portal.accounts.models import User

    user = db.session.get(User, submission.user_id)
    return user is not None and user.confirmed_email == submission.email.strip().lower()


def send_confirmation(submission: FormSubmission) -> None:
    """Email the reference and a link; a copy of the answers only to a proved address.

    Anyone can type any address on a form, so text the submitter wrote is never sent to an
    address that has not proved it is theirs (else the form relays their message to anyone).
    """
    if not submission.email:
        return
    form = submission.form
    next_steps = submission.version.definition.get("what_happens_next") or ""
    link = external_url("online_forms.progress", reference=submission.reference)
    body = (
        f"We have received your form ‘{form.title}’.\n\n"
        f"Your reference number is {submission.reference}.\n\n"
        f"We will reply within {form.response_days} working days.\n\n"
        f"{next_steps}\n\nSee its progress (on the device you used to send it, or signed in): "
        f"{link}\n"
    )
    if email_proved(submission):
        body += f"\nA copy of your answers\n\n{answers_as_text(submission)}\n"
    else:
        body += "\nIf you did not send this form, you can ignore this email.\n"
    queue_email(submission.email, f"{form.title}: reference {submission.reference}", body)


# ---------------------------------------------------------------- earlier requests


def _unowned_by_email(email: str):  # noqa: ANN202
    return (
        FormSubmission.user_id.is_(None),
        func.lower(FormSubmission.email) == email.strip().lower(),
    )


def count_earlier_submissions(email: str) -> int:
    """Requests sent without an account using `email` (a confirmed address: see accounts)."""
    query = select(func.count()).select_from(FormSubmission).where(*_unowned_by_email(email))
    return db.session.scalar(query) or 0


def claim_earlier_submissions(email: str, user_id: int) -> int:
    """Give those requests to the account (the caller commits); returns how many."""
    result = db.session.execute(
        update(FormSubmission)
        .where(*_unowned_by_email(email))
        .values(user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# ---------------------------------------------------------------- the inbox


def offices_of(user: Any) -> list[str]:
    if user.has_role("admin"):
        return office_names(include_retired=True)
    return list(
        db.session.scalars(select(OfficeMember.office).where(OfficeMember.user_id == user.id))
    )


def can_handle(user: Any, submission: FormSubmission) -> bool:
    """An officer of the submission's office, or of one of its tell-us-once parts."""
    if not getattr(user, "is_authenticated", False) or not user.has_role("officer", "admin"):
        return False
    offices = set(offices_of(user))
    return submission.office in offices or any(p.office in offices for p in submission.parts)


def is_overdue(submission: FormSubmission, today: date | None = None) -> bool:
    today = today or uk_today()
    return bool(
        submission.status in FormSubmission.OPEN and submission.due_on and submission.due_on < today
    )


ALLOWED_MOVES = {
    FormSubmission.RECEIVED: (
        FormSubmission.IN_PROGRESS,
        FormSubmission.RESOLVED,
        FormSubmission.REJECTED,
    ),
    FormSubmission.IN_PROGRESS: (FormSubmission.RESOLVED, FormSubmission.REJECTED),
    FormSubmission.RESOLVED: (FormSubmission.IN_PROGRESS,),
    FormSubmission.REJECTED: (FormSubmission.IN_PROGRESS,),
    FormSubmission.AWAITING_PAYMENT: (),
}


def change_status(submission: FormSubmission, status: str, note: str, officer: Any) -> None:
    if status not in ALLOWED_MOVES.get(submission.status, ()):
        raise ValueError("Select a status this submission can move to")
    old = submission.status
    submission.status = status
    submission.updated_at = utcnow()
    submission.notes.append(
        SubmissionNote(
            author_id=officer.id,
            author_name=officer.display_name or officer.email,
            from_status=old,
            to_status=status,
            text=note,
        )
    )
    record_audit(
        "online_form.submission_status",
        "form_submission",
        submission.reference,
        {"from": old, "to": status},
    )
    if submission.email:
        label = FormSubmission.LABELS[status].lower()
        queue_email(
            submission.email,
            f"{submission.form.title}: {submission.reference} is {label}",
            f"Your form ‘{submission.form.title}’ (reference {submission.reference}) is now "
            f"{label}.\n\n{note}\n".rstrip()
            + "\n",
        )


def add_note(submission: FormSubmission, note: str, officer: Any) -> None:
    submission.notes.append(
        SubmissionNote(
            author_id=officer.id, author_name=officer.display_name or officer.email, text=note
        )
    )
    record_audit("online_form.submission_note", "form_submission", submission.reference)


def close_part(part: SubmissionPart, note: str, officer: Any) -> None:
    part.status = FormSubmission.RESOLVED
    part.closed_at = utcnow()
    part.closed_by_id = officer.id
    part.note = note
    submission = db.session.get(FormSubmission, part.submission_id)
    record_audit(
        "online_form.part_close", "form_submission", submission.reference, {"office": part.office}
    )
    every_part_closed = all(p.status == FormSubmission.RESOLVED for p in submission.parts)
    if every_part_closed and submission.status in FormSubmission.OPEN:
        change_status(
            submission,
            FormSubmission.RESOLVED,
            "Every department has updated its records.",
            officer,
        )


def digest_for_office(office: str, now: datetime | None = None) -> tuple[list, list]:
    now = now or utcnow()
    since = now - timedelta(days=1)
    new = list(
        db.session.scalars(
            select(FormSubmission).where(
                FormSubmission.office == office,
                FormSubmission.submitted_at >= since,
                FormSubmission.status != FormSubmission.AWAITING_PAYMENT,
            )
        )
    )
    overdue = list(
        db.session.scalars(
            select(FormSubmission).where(
                FormSubmission.office == office,
                FormSubmission.status.in_(FormSubmission.OPEN),
                FormSubmission.due_on < uk_date(now),
            )
        )
    )
    return new, overdue


def queue_daily_digests(now: datetime | None = None) -> int:
    """One email per office member with the office's new and overdue submissions."""
    from portal.accounts.models import User

    sent = 0
    offices = db.session.execute(select(OfficeMember.office, OfficeMember.user_id)).all()
    by_office: dict[str, list[int]] = {}
    for office, user_id in offices:
        by_office.setdefault(office, []).append(user_id)
    for office, user_ids in sorted(by_office.items()):
        new, overdue = digest_for_office(office, now)
        if not new and not overdue:
            continue
        lines = [f"{office}: {len(new)} new and {len(overdue)} overdue submissions.", ""]
        if new:
            lines.append("New in the last day:")
            lines += [f"  {s.reference}  {s.form.title}" for s in new]
        if overdue:
            lines.append("Overdue against the response standard:")
            lines += [f"  {s.reference}  {s.form.title}  due {s.due_on:%-d %B %Y}" for s in overdue]
        lines.append("")
        lines.append(external_url("online_forms_staff.inbox"))
        for user_id in user_ids:
            user = db.session.get(User, user_id)
            if user is not None and user.has_role("officer"):
                queue_email(user.email, f"Daily forms digest: {office}", "\n".join(lines))
                sent += 1
    db.session.commit()
    return sent


# ---------------------------------------------------------------- consultations and metrics


def consultation_counts(form: OnlineForm) -> list[dict]:
    """Counts per choice for every choice question, over every version's submissions."""
    submissions = db.session.scalars(
        select(FormSubmission).where(
            FormSubmission.form_id == form.id,
            FormSubmission.status != FormSubmission.AWAITING_PAYMENT,
        )
    ).all()
    definition = (form.live_version or form.versions[-1]).definition
    results = []
    for question in all_questions(definition):
        if question["type"] not in ("radios", "checkboxes", "yes_no"):
            continue
        counter: Counter[str] = Counter()
        for submission in submissions:
            value = submission.answers.get(question["id"])
            for item in value if isinstance(value, list) else [value]:
                if item:
                    counter[item] += 1
        results.append(
            {
                "label": question["label"],
                "choices": [
                    {"label": o["label"], "count": counter[o["value"]]}
                    for o in options_of(question)
                ],
                "responses": sum(1 for s in submissions if s.answers.get(question["id"])),
            }
        )
    return results


def publish_summary(form: OnlineForm, text: str) -> None:
    form.summary = {
        "text": text,
        "results": consultation_counts(form),
        "total": submission_count(form),
    }
    form.summary_published_at = utcnow()
    record_audit("online_form.summary_publish", "online_form", form.id)


def submission_count(form: OnlineForm) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(FormSubmission)
            .where(FormSubmission.form_id == form.id)
        )
        or 0
    )


def metrics(form: OnlineForm) -> dict:
    drafts = db.session.scalars(
        select(FormDraft).where(FormDraft.form_id == form.id, FormDraft.preview.is_(False))
    ).all()
    submissions = db.session.scalars(
        select(FormSubmission).where(FormSubmission.form_id == form.id)
    ).all()
    started = len(drafts)
    submitted = len(submissions)
    durations = []
    for s in submissions:
        if s.started_at and s.submitted_at:
            a, b = s.started_at, s.submitted_at
            if a.tzinfo is None:
                a = a.replace(tzinfo=b.tzinfo)
            if b.tzinfo is None:
                b = b.replace(tzinfo=a.tzinfo)
            durations.append((b - a).total_seconds())
    dropped = Counter(d.last_page or "start" for d in drafts if d.submission_id is None)
    definition = (form.live_version or form.versions[-1]).definition
    titles = {
        p["id"]: p.get("title") or (p["questions"][0]["label"] if p.get("questions") else p["id"])
        for p in definition.get("pages", [])
    }
    titles["start"] = "Start page (no page answered)"
    drop_off = [(titles.get(k, k), n) for k, n in dropped.most_common()]
    return {
        "started": started,
        "submitted": submitted,
        "completion_rate": round(100 * submitted / started, 1) if started else None,
        "median_seconds": statistics.median(durations) if durations else None,
        "drop_off": drop_off,
        "channels": Counter(s.channel for s in submissions).most_common(),
    }


# ---------------------------------------------------------------- Open311 keys


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(name: str, staff: Any) -> str:
    key = secrets.token_urlsafe(24)
    db.session.add(
        Open311Key(name=name, key_hash=hash_key(key), hint=key[:6], created_by_id=staff.id)
    )
    record_audit("open311.key_issue", "open311_key", name)
    return key


def key_is_valid(key: str) -> bool:
    if not key:
        return False
    row = db.session.scalar(select(Open311Key).where(Open311Key.key_hash == hash_key(key)))
    return row is not None and row.revoked_at is None


def base_url() -> str:
    return current_app.config["PORTAL"].base_url


# ---------------------------------------------------------------- receiving offices


def office_names(include_retired: bool = False) -> list[str]:
    """The offices forms can send to, by name (retired ones only when asked)."""
    from portal.online_forms.models import Office

    query = select(Office.name).order_by(Office.name)
    if not include_retired:
        query = query.where(Office.retired_at.is_(None))
    return list(db.session.scalars(query))


OFFICE_FIELDS = {
    "name": ("Enter the office's name", 80),
    "address": ("Enter the office's address", 500),
    "opening_hours": ("Enter the office's opening hours", 500),
}


def office_errors(values: dict[str, str], office_id: int | None) -> list[tuple[str, str]]:
    """GOV.UK-style (field, message) errors for an office's name, address and opening hours."""
    from portal.online_forms.models import Office

    errors: list[tuple[str, str]] = []
    for name, (empty, limit) in OFFICE_FIELDS.items():
        value = values.get(name, "")
        if not value:
            errors.append((f"#{name}", empty))
        elif len(value) > limit:
            label = name.replace("_", " ")
            errors.append((f"#{name}", f"The {label} must be {limit} characters or fewer"))
    if values.get("name") and len(values["name"]) <= 80:
        clash = db.session.scalar(
            select(Office.id).where(
                func.lower(Office.name) == values["name"].lower(), Office.id != (office_id or 0)
            )
        )
        if clash:
            errors.append(("#name", "There is already an office with that name"))
    return errors


def save_office(values: dict[str, str], office: Any | None) -> Any:
    """Create or edit an office (a rename moves its forms, submissions and officers with it)."""
    from portal.common.audit import record_audit
    from portal.online_forms.models import Office

    if office is None:
        office = Office(**values)
        db.session.add(office)
        db.session.flush()
        record_audit("online_form.office_add", "office", office.id, dict(values))
        return office
    old_name = office.name
    changed = {k: v for k, v in values.items() if getattr(office, k) != v}
    for key, value in changed.items():
        setattr(office, key, value)
    if "name" in changed:
        for model in (OnlineForm, FormSubmission, SubmissionPart, OfficeMember):
            db.session.execute(
                update(model).where(model.office == old_name).values(office=office.name)
            )
    if changed:
        record_audit("online_form.office_edit", "office", office.id, changed)
    return office


def set_office_retired(office: Any, retired: bool) -> None:
    from portal.common import clock
    from portal.common.audit import record_audit

    office.retired_at = clock.utc_now() if retired else None
    action = "online_form.office_retire" if retired else "online_form.office_reinstate"
    record_audit(action, "office", office.id, {"name": office.name})


def load_demo_offices() -> int:
    """The demo council's offices (once); returns how many were added."""
    from portal.online_forms.models import DEMO_OFFICES, Office

    added = 0
    for name, address, hours in DEMO_OFFICES:
        if db.session.scalar(select(Office.id).where(Office.name == name)) is None:
            db.session.add(Office(name=name, address=address, opening_hours=hours))
            added += 1
    db.session.flush()
    return added
