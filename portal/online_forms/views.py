"""The public side: a form one page at a time, check your answers, submit, save and come back."""

from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.common import storage
from portal.common.clock import uk_today
from portal.common.gazetteer.services import get_address
from portal.common.urls import external_url
from portal.extensions import db, limiter
from portal.online_forms import answer_checks, services
from portal.online_forms.models import (
    FormDraft,
    FormSubmission,
    OnlineForm,
    SubmissionFile,
)
from portal.online_forms.questions import (
    EMAIL,
    FileRejected,
    PageResult,
    check_upload,
    read_answer,
    render_markdown,
)
from portal.rendering import is_htmx_request, render_page
from portal.statistics.journeys import complete_journey, start_journey

bp = Blueprint("online_forms", __name__)
DRAFTS_KEY = "online_form_drafts"
DONE_KEY = "online_form_done"


def _form_or_404(slug: str) -> OnlineForm:
    form = db.session.scalar(select(OnlineForm).where(OnlineForm.slug == slug))
    if form is None:
        abort(404)
    return form


def _user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _is_editor() -> bool:
    return current_user.is_authenticated and current_user.has_role("editor", "admin")


def _current_draft(form: OnlineForm) -> FormDraft | None:
    """The draft this browser (or this signed-in resident) is filling in for `form`."""
    token = session.get(DRAFTS_KEY, {}).get(form.slug)
    if not token:
        return None
    draft = db.session.scalar(select(FormDraft).where(FormDraft.token == token))
    if draft is None or draft.form_id != form.id or draft.submission_id is not None:
        return None
    if draft.user_id is not None and draft.user_id != _user_id():
        return None
    if draft.preview and not _is_editor():
        return None
    return draft


def _draft_or_start(form: OnlineForm) -> FormDraft:
    draft = _current_draft(form)
    if draft is None:
        abort(redirect(url_for("online_forms.start", slug=form.slug)))
    if not draft.preview and not services.is_open(form):
        abort(redirect(url_for("online_forms.start", slug=form.slug)))
    return draft


def _remember(slug: str, token: str) -> None:
    drafts = dict(session.get(DRAFTS_KEY, {}))
    drafts[slug] = token
    session[DRAFTS_KEY] = drafts


def _where_next(form: OnlineForm, draft: FormDraft) -> str:
    _, target = services.route(draft.version.definition, draft.answers)
    if target == services.END:
        return url_for("online_forms.check", slug=form.slug)
    page = services.find_page(draft.version.definition, target)
    if page and page.get("kind") == "exit":
        return url_for("online_forms.exit_page", slug=form.slug, page_id=target)
    return url_for("online_forms.page", slug=form.slug, page_id=target)


@bp.get("/forms/<slug>")
def start(slug: str):
    """The start page: what the form is for, when it is open, how soon we reply."""
    form = _form_or_404(slug)
    if form.status == OnlineForm.DRAFT and not _is_editor():
        abort(404)
    version = form.live_version or form.versions[-1]
    return render_page(
        "online_forms/start.html",
        online_form=form,
        definition=version.definition,
        intro=render_markdown(version.definition.get("intro")),
        is_open=services.is_open(form),
        today=uk_today(),
        draft=_current_draft(form),
        uprn=getattr(_known_address(request.args.get("uprn")), "uprn", ""),
    )


def _known_address(value: str | None):  # noqa: ANN202
    """The gazetteer address whose UPRN the linking page (bin day) passed, if it is real."""
    value = (value or "").strip()
    return get_address(value) if value.isdigit() else None


@bp.post("/forms/<slug>/start")
def begin(slug: str):
    """Start (or, for staff, preview) a form: a draft is created and its first page shown."""
    form = _form_or_404(slug)
    preview = request.form.get("preview") == "1" and _is_editor()
    if preview:
        version = services.editable_version(form)
    else:
        if not services.is_open(form):
            return redirect(url_for("online_forms.start", slug=slug))
        version = form.live_version
    draft = services.start_draft(form, version, _user_id(), preview)
    address = _known_address(request.form.get("uprn"))
    if address is not None:
        services.prefill_address(draft, version.definition, address)
    if not preview:
        start_journey(f"form:{slug}", form.lgsl, form.lgil)
    db.session.commit()
    _remember(slug, draft.token)
    return redirect(_where_next(form, draft), 303)


def _page_context(form, draft, page, values, result: PageResult | None, change: bool):
    definition = draft.version.definition
    files = services.draft_files(draft)
    back = services.previous_page_id(definition, draft.answers, page["id"])
    if change:
        back_url = url_for("online_forms.check", slug=form.slug)
    elif back:
        back_url = url_for("online_forms.page", slug=form.slug, page_id=back)
    else:
        back_url = url_for("online_forms.start", slug=form.slug)
    errors = result.errors if result else []
    lookups = result.lookups if result else {}
    for question in page.get("questions", []):
        if question["type"] == "address" and question["id"] not in lookups:
            value = values.get(question["id"]) or {}
            lookups[question["id"]] = {
                "postcode": value.get("lookup_postcode", "") if isinstance(value, dict) else "",
                "addresses": None,
                "error": None,
            }
            if lookups[question["id"]]["postcode"]:
                from portal.common.gazetteer.views import lookup_state

                lookups[question["id"]] = lookup_state(lookups[question["id"]]["postcode"])
    return {
        "online_form": form,
        "draft": draft,
        "page": page,
        "guidance": render_markdown(page.get("guidance")),
        "values": values,
        "errors": dict(reversed(errors)),
        "question_errors": {
            q["id"]: [m for f, m in errors if f == q["id"] or f.startswith(q["id"] + "-")]
            for q in page.get("questions", [])
        },
        "page_errors": [(f"#{field}", message) for field, message in errors],
        "lookups": lookups,
        "files": files,
        "back_url": back_url,
        "change": change,
        "single": len(page.get("questions", [])) == 1,
    }


@bp.route("/forms/<slug>/page/<page_id>", methods=["GET", "POST"])
def page(slug: str, page_id: str):
    """One page of questions; POST checks the answers and moves on along the branches."""
    form = _form_or_404(slug)
    draft = _draft_or_start(form)
    definition = draft.version.definition
    page = services.find_page(definition, page_id)
    if page is None or page.get("kind") == "exit":
        abort(404)
    change = request.values.get("change") == "1"
    if request.method == "GET":
        return render_page(
            "online_forms/page.html",
            fragment="runner",
            **_page_context(form, draft, page, draft.answers, None, change),
        )
    result = PageResult()
    _handle_files(draft, page, result)
    for question in page.get("questions", []):
        count = len([f for f in services.draft_files(draft) if f.question_id == question["id"]])
        read_answer(question, request.form, draft.answers.get(question["id"]), count, result)
    saving = "save" in request.form
    if not saving and not result.errors and not result.stay:
        answers = {**draft.answers, **result.answers}
        result.errors.extend(answer_checks.page_problems(form, definition, page, answers))
    if saving:
        if result.errors or result.stay:
            bad = {field.split("-")[0] for field, _ in result.errors}
            merged = dict(draft.answers)
            merged.update({k: v for k, v in result.answers.items() if k not in bad})
            draft.answers = merged
            draft.last_page = page_id
        else:
            services.save_page_answers(draft, page_id, result.answers)
        db.session.commit()
        return redirect(url_for("online_forms.save", slug=slug), 303)
    if result.errors or result.stay:
        db.session.commit()  # uploads kept even when other answers need fixing
        values = dict(draft.answers)
        values.update(result.answers)
        context = _page_context(form, draft, page, values, result, change)
        status = 400 if result.errors else 200
        return render_page("online_forms/page.html", fragment="runner", **context), status
    services.save_page_answers(draft, page_id, result.answers)
    db.session.commit()
    if change:
        _, target = services.route(definition, draft.answers)
        if target == services.END:
            return redirect(url_for("online_forms.check", slug=slug), 303)
    return redirect(_where_next(form, draft), 303)


def _handle_files(draft: FormDraft, page: dict, result: PageResult) -> bool:
    """Store new uploads and removals for the page's file questions; True when files changed."""
    changed = False
    remove = request.form.get("remove_file")
    if remove and remove.isdigit():
        upload = db.session.get(SubmissionFile, int(remove))
        if upload is not None and upload.draft_id == draft.id and upload.submission_id is None:
            storage.delete(upload.storage_key)
            db.session.delete(upload)
            db.session.flush()
            changed = True
            result.stay = True
    for question in page.get("questions", []):
        if question["type"] != "file":
            continue
        qid = question["id"]
        incoming = [f for f in request.files.getlist(qid) if f and f.filename]
        if not incoming:
            continue
        existing = [f for f in services.draft_files(draft) if f.question_id == qid]
        limit = int(question.get("max_files") or 1)
        if len(existing) + len(incoming) > limit:
            result.errors.append(
                (qid, f"You can only upload {limit} file{'s' if limit != 1 else ''}")
            )
            continue
        for upload in incoming:
            data = upload.read()
            try:
                stored, extension, content_type = check_upload(question, upload.filename, data)
            except FileRejected as exc:
                result.errors.append((qid, f"{upload.filename}: {exc}"))
                continue
            key = storage.save_bytes(stored, "online_forms", extension)
            db.session.add(
                SubmissionFile(
                    draft_id=draft.id,
                    question_id=qid,
                    storage_key=key,
                    filename=upload.filename[-200:],
                    content_type=content_type,
                    size=len(stored),
                )
            )
            changed = True
        db.session.flush()
    if request.form.get("upload"):
        result.stay = True
    return changed


@bp.get("/forms/<slug>/exit/<page_id>")
def exit_page(slug: str, page_id: str):
    form = _form_or_404(slug)
    draft = _draft_or_start(form)
    definition = draft.version.definition
    page = services.find_page(definition, page_id)
    if page is None or page.get("kind") != "exit":
        abort(404)
    visited, _ = services.route(definition, draft.answers)
    back = visited[-1]["id"] if visited else None
    return render_page(
        "online_forms/exit.html",
        online_form=form,
        page=page,
        guidance=render_markdown(page.get("guidance")),
        back_url=url_for("online_forms.page", slug=slug, page_id=back)
        if back
        else url_for("online_forms.start", slug=slug),
    )


@bp.get("/forms/<slug>/check")
def check(slug: str):
    """Check your answers, with a change link for each, then the declaration and submit."""
    form = _form_or_404(slug)
    draft = _draft_or_start(form)
    definition = draft.version.definition
    _, target = services.route(definition, draft.answers)
    if target != services.END:
        return redirect(_where_next(form, draft))
    return _check_page(form, draft, [])


def _check_page(form, draft, errors, email=""):  # noqa: ANN001, ANN202
    definition = draft.version.definition
    rows = services.summary_rows(definition, draft.answers, services.draft_files(draft))
    visited, _ = services.route(definition, draft.answers)
    amount = services.payment_amount(definition, draft.answers)
    return render_page(
        "online_forms/check.html",
        online_form=form,
        draft=draft,
        rows=rows,
        definition=definition,
        amount=amount,
        back_url=url_for("online_forms.page", slug=form.slug, page_id=visited[-1]["id"])
        if visited
        else url_for("online_forms.start", slug=form.slug),
        page_errors=errors,
        errors=dict(e for e in errors),
        email=email
        or draft.resume_email
        or (current_user.email if current_user.is_authenticated else ""),
    ), (400 if errors else 200)


# Anyone can submit a form and name any address for the confirmation: limits per client address
# and per address emailed stop the form being used to send mail to others (the draft is kept).
SUBMIT_PER_CLIENT = "30 per hour"
SUBMIT_PER_RECIPIENT = "5 per hour"


def _recipient_key() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return "form-recipient:" + hashlib.sha256(email.encode()).hexdigest()[:32]


@bp.post("/forms/<slug>/submit")
@limiter.limit(SUBMIT_PER_CLIENT, methods=["POST"], scope="form-submit-ip")
@limiter.limit(
    SUBMIT_PER_RECIPIENT,
    methods=["POST"],
    key_func=_recipient_key,
    scope="form-submit-recipient",
    exempt_when=lambda: not (request.form.get("email") or "").strip(),
)
def submit(slug: str):
    """Submit once: the draft token is the idempotency key, so a second press changes nothing."""
    form = _form_or_404(slug)
    token = request.form.get("token", "")
    existing = db.session.scalar(
        select(FormSubmission).where(FormSubmission.idempotency_key == token)
    )
    if existing is not None and token in session.get(DRAFTS_KEY, {}).values():
        # Pressed again, perhaps because the first response was lost with its cookie: this
        # browser may still see the confirmation it has not had yet.
        _remember_done(existing.reference)
        return redirect(_after_submit(existing), 303)
    draft = _draft_or_start(form)
    if draft.token != token:
        return redirect(url_for("online_forms.check", slug=slug), 303)
    if draft.preview:
        flash("This is a preview: forms cannot be submitted from a preview.", "success")
        return redirect(url_for("online_forms.check", slug=slug), 303)
    definition = draft.version.definition
    _, target = services.route(definition, draft.answers)
    if target != services.END:
        return redirect(_where_next(form, draft), 303)
    errors = _answer_problems(form, draft)
    email = (request.form.get("email") or "").strip()
    if email and not EMAIL.match(email):
        errors.append(
            ("#email", "Enter an email address in the correct format, like name@example.com")
        )
    if definition.get("declaration") and request.form.get("declaration") != "yes":
        errors.append(("#declaration", "Confirm that the information you have given is correct"))
    if errors:
        return _check_page(form, draft, errors, email)
    try:
        submission = services.submit(draft, email or None)
        complete_journey(f"form:{slug}")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(
            select(FormSubmission).where(FormSubmission.idempotency_key == token)
        )
        if existing is None:
            raise
        submission = existing
    _remember_done(submission.reference)
    return redirect(_after_submit(submission), 303)


def _answer_problems(form: OnlineForm, draft: FormDraft) -> list[tuple[str, str]]:
    """The registered checks run again on the whole draft (a report saved days ago may no longer
    be possible): each problem links to the page that asks the question."""
    definition = draft.version.definition
    visited, _ = services.route(definition, draft.answers)
    asked = {q["id"] for p in visited for q in p.get("questions", [])}
    answers = {k: v for k, v in draft.answers.items() if k in asked}
    problems = []
    for field, message in answer_checks.check_answers(form, definition, answers):
        page_id = answer_checks.page_of(definition, field)
        href = (
            url_for("online_forms.page", slug=form.slug, page_id=page_id, change=1) + f"#{field}"
            if page_id
            else f"#{field}"
        )
        problems.append((href, message))
    return problems


def _remember_done(reference: str) -> None:
    """This browser submitted `reference`: it may see the confirmation and the progress page."""
    done = [r for r in session.get(DONE_KEY, []) if r != reference][-20:]
    done.append(reference)
    session[DONE_KEY] = done


def _after_submit(submission: FormSubmission) -> str:
    return url_for(
        "online_forms.confirmation", slug=submission.form.slug, reference=submission.reference
    )


def _may_see(submission: FormSubmission) -> bool:
    if submission.reference in session.get(DONE_KEY, []):
        return True
    if current_user.is_authenticated and submission.user_id == current_user.id:
        return True
    return current_user.is_authenticated and services.can_handle(current_user, submission)


def _submission_or_404(reference: str) -> FormSubmission:
    submission = db.session.scalar(
        select(FormSubmission).where(FormSubmission.reference == reference)
    )
    if submission is None or not _may_see(submission):
        abort(404)
    return submission


@bp.get("/forms/<slug>/done/<reference>")
def confirmation(slug: str, reference: str):
    """The confirmation page: the reference, what happens next, or the payment still due."""
    submission = _submission_or_404(reference)
    return render_page(
        "online_forms/confirmation.html",
        submission=submission,
        online_form=submission.form,
        next_steps=render_markdown(submission.version.definition.get("what_happens_next")),
    )


@bp.post("/forms/<slug>/done/<reference>/pay")
def pay(slug: str, reference: str):
    """Start (or restart) the payment for a submission awaiting payment."""
    submission = _submission_or_404(reference)
    if submission.status != FormSubmission.AWAITING_PAYMENT:
        return redirect(_after_submit(submission), 303)
    try:
        payment = services.start_payment(submission, _after_submit_external(submission))
    except ImportError:
        flash("Online payment is not available at the moment. Call us to pay.", "success")
        return redirect(_after_submit(submission), 303)
    db.session.commit()
    return redirect(url_for("payments.start", reference=payment.reference), 303)


@bp.route("/forms/pay/<token>", methods=["GET", "POST"])
def payment_link(token: str):
    """The emailed link to finish paying: works in any browser for 7 days. A request made
    while signed in asks its owner to sign in first."""
    try:
        submission = services.submission_for_payment_link(token)
    except services.PaymentLinkError as exc:
        status = 410 if exc.expired else 404
        return render_page("online_forms/payment_link.html", state=str(exc)), status
    if submission is None:
        return render_page("online_forms/payment_link.html", state="invalid"), 404
    context = {"submission": submission, "online_form": submission.form}
    if submission.status != FormSubmission.AWAITING_PAYMENT:
        return render_page("online_forms/payment_link.html", state="paid", **context)
    if submission.user_id is not None and submission.user_id != _user_id():
        return render_page("online_forms/payment_link.html", state="sign_in", **context)
    if request.method == "GET":
        return render_page("online_forms/payment_link.html", state="due", **context)
    _remember_done(submission.reference)
    reference = services.open_payment_reference(submission)
    if reference is None:
        payment = services.start_payment(submission, _after_submit_external(submission))
        db.session.commit()
        reference = payment.reference
    else:
        from portal.payments.services import remember_payment  # noqa: PLC0415

        remember_payment(reference)
    return redirect(url_for("payments.start", reference=reference), 303)


def _after_submit_external(submission: FormSubmission) -> str:
    return external_url(
        "online_forms.confirmation", slug=submission.form.slug, reference=submission.reference
    )


@bp.get("/forms/requests/<reference>")
def progress(reference: str):
    """The resident's view of a request: status, what happens next, the history, each
    department's part (tell us once) and the answers given."""
    if not current_user.is_authenticated and reference not in session.get(DONE_KEY, []):
        # From the confirmation email on another device: sign in to see it (never say if it exists)
        return redirect(url_for("accounts.sign_in", next=request.path))
    submission = _submission_or_404(reference)
    return render_page(
        "online_forms/progress.html",
        submission=submission,
        online_form=submission.form,
        sent=services.uk_when(submission.submitted_at),
        answers=services.submission_answer_rows(submission),
        events=services.timeline(submission),
        next_steps=render_markdown(services.next_steps_text(submission)),
    )


@bp.route("/forms/<slug>/save", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def save(slug: str):
    """Save and come back: signed-in residents find it in My council; others get a link."""
    form = _form_or_404(slug)
    draft = _draft_or_start(form)
    errors = []
    sent_to = None
    if request.method == "POST" and not current_user.is_authenticated:
        email = (request.form.get("email") or "").strip()
        if not email:
            errors.append(("#email", "Enter your email address"))
        elif not EMAIL.match(email):
            errors.append(
                ("#email", "Enter an email address in the correct format, like name@example.com")
            )
        else:
            services.email_resume_link(draft, email)
            db.session.commit()
            sent_to = email
    return render_page(
        "online_forms/save.html",
        online_form=form,
        draft=draft,
        page_errors=errors,
        sent_to=sent_to,
        resume_days=services.RESUME_DAYS,
        continue_url=_where_next(form, draft),
    ), (400 if errors else 200)


@bp.get("/forms/<slug>/resume/<token>")
def resume(slug: str, token: str):
    """Come back to saved answers: a resident's own draft, or an emailed link within 7 days."""
    form = _form_or_404(slug)
    draft = db.session.scalar(select(FormDraft).where(FormDraft.token == token))
    allowed = draft is not None and draft.form_id == form.id and draft.submission_id is None
    if allowed and draft.user_id is not None:
        allowed = draft.user_id == _user_id()
    elif allowed:
        allowed = services.resumable_draft(token) is not None
    if not allowed:
        return render_page("online_forms/expired.html", online_form=form), 404
    _remember(slug, token)
    return redirect(_where_next(form, draft))


@bp.get("/forms/files/<int:file_id>")
def file(file_id: int):
    """An uploaded file: for the submitter (or their draft) and the receiving office only."""
    upload = db.session.get(SubmissionFile, file_id)
    if upload is None:
        abort(404)
    allowed = False
    if upload.submission_id:
        submission = db.session.get(FormSubmission, upload.submission_id)
        allowed = submission is not None and _may_see(submission)
    elif upload.draft_id:
        draft = db.session.get(FormDraft, upload.draft_id)
        allowed = draft is not None and draft.token in session.get(DRAFTS_KEY, {}).values()
        if draft is not None and draft.user_id is not None:
            allowed = allowed and draft.user_id == _user_id()
    if not allowed:
        abort(404)
    response = send_file(
        storage.path_for(upload.storage_key),
        mimetype=upload.content_type,
        as_attachment=True,
        download_name=upload.filename,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/forms/address-lookup")
def address_lookup():
    """The addresses for a postcode: the lookup component for htmx, a page without JavaScript."""
    from portal.common.gazetteer.views import lookup_state

    field = request.args.get("field", "address")
    field = field if field.replace("_", "").isalnum() else "address"
    postcode = request.args.get(f"{field}_postcode", "")
    state = lookup_state(postcode)
    if not postcode.strip():
        state["error"] = "Enter a postcode"
    if is_htmx_request():
        return render_template(
            "components/address_lookup_fragment.html",
            field=field,
            lookup_endpoint="online_forms.address_lookup",
            **state,
        )
    return render_page("online_forms/address_lookup.html", field=field, **state)


@bp.get("/consultations")
def consultations():
    """Consultations: open ones to respond to, closed ones with their published results."""
    forms = db.session.scalars(
        select(OnlineForm)
        .where(OnlineForm.is_consultation.is_(True), OnlineForm.status != OnlineForm.DRAFT)
        .order_by(OnlineForm.closes_on.desc())
    ).all()
    today = uk_today()
    open_forms = [f for f in forms if services.is_open(f, today)]
    closed = [f for f in forms if f.closes_on and f.closes_on < today]
    return render_page(
        "online_forms/consultations.html",
        open_forms=open_forms,
        closed=closed,
        render_markdown=render_markdown,
    )


def my_council_rows(user) -> list[dict]:  # noqa: ANN001
    """My council: saved forms to continue and submitted forms with their status."""
    rows = []
    drafts = db.session.scalars(
        select(FormDraft)
        .where(
            FormDraft.user_id == user.id,
            FormDraft.submission_id.is_(None),
            FormDraft.preview.is_(False),
        )
        .order_by(FormDraft.updated_at.desc())
    ).all()
    for draft in drafts:
        rows.append(
            {
                "text": f"Continue: {draft.form.title}",
                "href": url_for("online_forms.resume", slug=draft.form.slug, token=draft.token),
                "status": "Saved",
                "date": draft.updated_at,
            }
        )
    submissions = db.session.scalars(
        select(FormSubmission)
        .where(FormSubmission.user_id == user.id)
        .order_by(FormSubmission.submitted_at.desc())
    ).all()
    for submission in submissions:
        row = {
            "text": f"{submission.form.title} ({submission.reference})",
            "href": url_for("online_forms.progress", reference=submission.reference),
            "status": submission.status_label,
            "date": submission.submitted_at,
        }
        if submission.status == FormSubmission.AWAITING_PAYMENT:
            row["action"] = {
                "text": "Pay now",
                "href": url_for(
                    "online_forms.confirmation",
                    slug=submission.form.slug,
                    reference=submission.reference,
                ),
            }
        rows.append(row)
    return rows


def personal_data(user) -> dict:  # noqa: ANN001
    submissions = db.session.scalars(
        select(FormSubmission).where(FormSubmission.user_id == user.id)
    ).all()
    drafts = db.session.scalars(select(FormDraft).where(FormDraft.user_id == user.id)).all()
    return {
        "submissions": [
            {
                "reference": s.reference,
                "form": s.form.title,
                "submitted_at": s.submitted_at.isoformat(),
                "status": s.status,
                "answers": s.answers,
            }
            for s in submissions
        ],
        "drafts": [{"form": d.form.title, "answers": d.answers} for d in drafts],
    }


__all__ = ["bp", "current_app"]
