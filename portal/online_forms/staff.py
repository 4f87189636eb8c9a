"""Staff side: the form builder (editors) and the submissions inbox (officers)."""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from portal.accounts.authz import role_required
from portal.accounts.models import User, UserRole
from portal.common.audit import record_audit
from portal.common.clock import to_uk, uk_day_start, uk_today
from portal.common.dates import date_range
from portal.common.models import utcnow
from portal.extensions import db
from portal.online_forms import services
from portal.online_forms.models import (
    FormSubmission,
    FormVersion,
    OnlineForm,
    Open311Key,
    SubmissionPart,
)
from portal.online_forms.questions import (
    BRANCHING_TYPES,
    CHOICE_TYPES,
    DATE_RANGES,
    FILE_KINDS,
    QUESTION_TYPES,
    answer_text,
    options_of,
)
from portal.rendering import is_htmx_request, render_page

bp = Blueprint("online_forms_staff", __name__, url_prefix="/staff/forms")
editor_required = role_required("editor", "admin")
officer_required = role_required("officer", "admin")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LGIL_TYPES = {
    0: "Applications for service",
    1: "Booking venues, resources and courses",
    2: "Collecting revenue",
    3: "Consultation",
    4: "Paying for goods and services",
    5: "Procurement",
    6: "Providing access to community, professional or business networks",
    7: "Providing benefits and grants",
    8: "Providing information",
    9: "Regulation",
}


def _form(form_id: int) -> OnlineForm:
    form = db.session.get(OnlineForm, form_id)
    if form is None:
        abort(404)
    return form


def _parse_date(prefix: str, label: str, errors: list) -> date | None:
    parts = [(request.form.get(f"{prefix}-{p}") or "").strip() for p in ("day", "month", "year")]
    if not any(parts):
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        errors.append((f"#{prefix}-day", f"{label} must be a real date"))
        return None


# ---------------------------------------------------------------- builder


@bp.get("/builder")
@editor_required
def builder():
    """Every form, with its state and versions."""
    forms = db.session.scalars(select(OnlineForm).order_by(OnlineForm.title)).all()
    return render_page("online_forms/staff/builder.html", forms=forms)


def _settings_from_request(form: OnlineForm | None) -> tuple[dict, list]:
    errors: list[tuple[str, str]] = []
    values = {k: (request.form.get(k) or "").strip() for k in request.form}
    title = values.get("title", "")
    if not title:
        errors.append(("#title", "Enter the form's title"))
    slug = values.get("slug", "") if form is None else form.slug
    if form is None:
        if not slug:
            errors.append(("#slug", "Enter a web address for the form"))
        elif not SLUG.match(slug) or len(slug) > 80:
            errors.append(
                ("#slug", "The web address must use only lower case letters, numbers and hyphens")
            )
        elif db.session.scalar(select(OnlineForm.id).where(OnlineForm.slug == slug)):
            errors.append(("#slug", "A form with that web address already exists"))
    lgsl = values.get("lgsl", "")
    if not lgsl.isdigit() or int(lgsl) < 1:
        errors.append(("#lgsl", "Enter the service's LGSL number, like 524"))
    lgil = values.get("lgil", "")
    if not lgil.isdigit() or int(lgil) not in LGIL_TYPES:
        errors.append(("#lgil", "Select the interaction type"))
    office = values.get("office", "")
    if office not in services.office_names():
        errors.append(("#office", "Select the office that receives submissions"))
    days = values.get("response_days", "")
    if not days.isdigit() or not 1 <= int(days) <= 90:
        errors.append(("#response_days", "Enter a response standard between 1 and 90 working days"))
    opens_on = _parse_date("opens_on", "The opening date", errors)
    closes_on = _parse_date("closes_on", "The closing date", errors)
    if opens_on and closes_on and closes_on < opens_on:
        errors.append(("#closes_on-day", "The closing date must be after the opening date"))
    payment_kind = values.get("payment_kind", "none")
    payment = None
    if payment_kind in ("fixed", "per_item"):
        amount = values.get("payment_amount", "").lstrip("£")
        try:
            pence = round(float(amount) * 100)
            if pence <= 0:
                raise ValueError
        except ValueError:
            errors.append(("#payment_amount", "Enter the amount in pounds and pence, like 12.50"))
            pence = 0
        payment = {
            "kind": payment_kind,
            "amount_pence": pence,
            "question": values.get("payment_question", ""),
        }
        if payment_kind == "per_item" and not payment["question"]:
            errors.append(
                ("#payment_question", "Select the question that gives the number of items")
            )
    settings = {
        "title": title,
        "slug": slug,
        "lgsl": int(lgsl) if lgsl.isdigit() else None,
        "lgil": int(lgil) if lgil.isdigit() else None,
        "office": office,
        "response_days": int(days) if days.isdigit() else None,
        "opens_on": opens_on,
        "closes_on": closes_on,
        "is_consultation": values.get("is_consultation") == "yes",
        "takes_location": values.get("takes_location") == "yes",
    }
    texts = {
        "intro": values.get("intro", ""),
        "declaration": values.get("declaration", ""),
        "what_happens_next": values.get("what_happens_next", ""),
        "payment": payment,
        "departments": [
            o for o in request.form.getlist("departments") if o in services.office_names()
        ],
    }
    return {"settings": settings, "texts": texts, "values": values}, errors


def _settings_page(form, values, errors, definition):  # noqa: ANN001, ANN202
    questions = services.all_questions(definition) if definition else []
    return render_page(
        "online_forms/staff/settings.html",
        online_form=form,
        values=values,
        page_errors=errors,
        errors=dict(errors),
        offices=services.office_names(),
        lgil_types=LGIL_TYPES,
        office_choices=[("", "Select an office")] + [(o, o) for o in services.office_names()],
        question_choices=[("", "None")]
        + [(q["id"], q["label"]) for q in questions if q["type"] in ("number", "checkboxes")],
    ), (400 if errors else 200)


def _values_of(form: OnlineForm, definition: dict) -> dict:
    payment = definition.get("payment") or {}
    values = {
        "title": form.title,
        "slug": form.slug,
        "lgsl": str(form.lgsl),
        "lgil": str(form.lgil),
        "office": form.office,
        "response_days": str(form.response_days),
        "is_consultation": "yes" if form.is_consultation else "",
        "takes_location": "yes" if form.takes_location else "",
        "intro": definition.get("intro", ""),
        "declaration": definition.get("declaration", ""),
        "what_happens_next": definition.get("what_happens_next", ""),
        "payment_kind": payment.get("kind", "none"),
        "payment_amount": f"{payment['amount_pence'] / 100:.2f}"
        if payment.get("amount_pence")
        else "",
        "payment_question": payment.get("question", ""),
        "departments": definition.get("departments") or [],
    }
    for name in ("opens_on", "closes_on"):
        value = getattr(form, name)
        if value:
            values.update(
                {
                    f"{name}-day": str(value.day),
                    f"{name}-month": str(value.month),
                    f"{name}-year": str(value.year),
                }
            )
    return values


@bp.route("/builder/new", methods=["GET", "POST"])
@editor_required
def new():
    """Start a new form: its service, interaction type, office and response standard."""
    if request.method == "GET":
        return _settings_page(
            None, {"response_days": "10", "lgil": "0", "payment_kind": "none"}, [], None
        )
    parsed, errors = _settings_from_request(None)
    if errors:
        return _settings_page(None, parsed["values"], errors, None)
    definition = services.empty_definition()
    definition.update(parsed["texts"])
    form = services.new_form(definition=definition, **parsed["settings"])
    db.session.commit()
    flash("Form created. Add its first page.", "success")
    return redirect(url_for(".overview", form_id=form.id), 303)


@bp.route("/builder/<int:form_id>/settings", methods=["GET", "POST"])
@editor_required
def settings(form_id: int):
    form = _form(form_id)
    version = form.draft_version or form.live_version or form.versions[-1]
    if request.method == "GET":
        return _settings_page(form, _values_of(form, version.definition), [], version.definition)
    parsed, errors = _settings_from_request(form)
    if errors:
        return _settings_page(form, parsed["values"], errors, version.definition)
    for key, value in parsed["settings"].items():
        if key != "slug":
            setattr(form, key, value)
    form.updated_at = utcnow()
    draft = services.editable_version(form)
    definition = dict(draft.definition)
    definition.update(parsed["texts"])
    services.save_definition(draft, definition)
    record_audit("online_form.settings", "online_form", form.id)
    db.session.commit()
    flash("Settings saved.", "success")
    return redirect(url_for(".overview", form_id=form.id), 303)


@bp.get("/builder/<int:form_id>")
@editor_required
def overview(form_id: int):
    """A form's pages, questions and branches, with the actions to change and publish it."""
    form = _form(form_id)
    version = form.draft_version or form.live_version or form.versions[-1]
    definition = version.definition
    titles = {
        p["id"]: p.get("title")
        or (p["questions"][0]["label"] if p.get("questions") else "New page")
        for p in definition.get("pages", [])
    }
    titles[services.END] = "Check your answers"
    return render_page(
        "online_forms/staff/overview.html",
        online_form=form,
        version=version,
        definition=definition,
        titles=titles,
        problems=services.definition_problems(definition),
        register=services.register_check(form) if form.draft_version else (None, False),
        lgil_types=LGIL_TYPES,
        branching_types=BRANCHING_TYPES,
    )


def _draft_definition(form: OnlineForm) -> tuple[FormVersion, dict]:
    version = services.editable_version(form)
    import copy

    return version, copy.deepcopy(version.definition)


def _new_id(prefix: str, existing: list[str]) -> str:
    while True:
        candidate = f"{prefix}{secrets.token_hex(3)}"
        if candidate not in existing:
            return candidate


@bp.post("/builder/<int:form_id>/pages")
@editor_required
def add_page(form_id: int):
    form = _form(form_id)
    version, definition = _draft_definition(form)
    kind = "exit" if request.form.get("kind") == "exit" else "questions"
    page_id = _new_id("p", [p["id"] for p in definition["pages"]])
    title = "Exit page" if kind == "exit" else ""
    definition["pages"].append(
        {"id": page_id, "title": title, "guidance": "", "kind": kind, "questions": []}
    )
    services.save_definition(version, definition)
    db.session.commit()
    if kind == "exit":
        return redirect(url_for(".edit_page", form_id=form.id, page_id=page_id), 303)
    return redirect(
        url_for(".edit_question", form_id=form.id, page_id=page_id, question_id="new"), 303
    )


@bp.route("/builder/<int:form_id>/pages/<page_id>", methods=["GET", "POST"])
@editor_required
def edit_page(form_id: int, page_id: str):
    """A page's title (for a group of questions) and guidance; move or delete it."""
    form = _form(form_id)
    version = form.draft_version or form.live_version or form.versions[-1]
    page = services.find_page(version.definition, page_id)
    if page is None:
        abort(404)
    errors = []
    values = {"title": page.get("title", ""), "guidance": page.get("guidance", "")}
    if request.method == "POST":
        version, definition = _draft_definition(form)
        pages = definition["pages"]
        index = [p["id"] for p in pages].index(page_id)
        action = request.form.get("action", "save")
        if action == "delete":
            pages.pop(index)
            services.save_definition(version, definition)
            db.session.commit()
            flash("Page deleted.", "success")
            return redirect(url_for(".overview", form_id=form.id), 303)
        if action in ("up", "down"):
            other = index - 1 if action == "up" else index + 1
            if 0 <= other < len(pages):
                pages[index], pages[other] = pages[other], pages[index]
            services.save_definition(version, definition)
            db.session.commit()
            return redirect(url_for(".overview", form_id=form.id), 303)
        values = {
            "title": (request.form.get("title") or "").strip(),
            "guidance": request.form.get("guidance") or "",
        }
        needs_title = (
            pages[index].get("kind") == "exit" or len(pages[index].get("questions", [])) > 1
        )
        if needs_title and not values["title"]:
            errors.append(("#title", "Enter a page title"))
        if not errors:
            pages[index]["title"] = values["title"]
            pages[index]["guidance"] = values["guidance"]
            services.save_definition(version, definition)
            db.session.commit()
            flash("Page saved.", "success")
            return redirect(url_for(".overview", form_id=form.id), 303)
    return render_page(
        "online_forms/staff/page.html",
        online_form=form,
        page=page,
        values=values,
        page_errors=errors,
        errors=dict(errors),
    ), (400 if errors else 200)


def _question_values(question: dict | None) -> dict:
    if question is None:
        return {
            "type": "text",
            "max_files": "1",
            "max_size_mb": "5",
            "file_types": ["jpg", "png", "pdf"],
        }
    return {
        "type": question["type"],
        "label": question.get("label", ""),
        "hint": question.get("hint", ""),
        "name": question.get("name", ""),
        "optional": "yes" if question.get("optional") else "",
        # A yes/no question keeps only branching rules in its options (no labels to edit).
        "options": "\n".join(o["label"] for o in question.get("options", []) if "label" in o),
        "max_length": str(question.get("max_length") or ""),
        "file_types": question.get("file_types") or ["jpg", "png", "pdf"],
        "max_size_mb": str(question.get("max_size_mb") or 5),
        "max_files": str(question.get("max_files") or 1),
        "allow_point": "yes" if question.get("allow_point") else "",
        "statement": question.get("statement", ""),
        "decimals": "yes" if question.get("decimals") else "",
        "date_range": question.get("date_range") or "",
        "range_days": str(question.get("range_days") or ""),
    }


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "option"


@bp.route("/builder/<int:form_id>/pages/<page_id>/questions/<question_id>", methods=["GET", "POST"])
@editor_required
def edit_question(form_id: int, page_id: str, question_id: str):
    """Add or change a question: its type, wording, hint, whether it is optional, its options."""
    form = _form(form_id)
    version = form.draft_version or form.live_version or form.versions[-1]
    page = services.find_page(version.definition, page_id)
    if page is None:
        abort(404)
    existing = next((q for q in page.get("questions", []) if q["id"] == question_id), None)
    if existing is None and question_id != "new":
        abort(404)
    errors: list[tuple[str, str]] = []
    values = _question_values(existing)
    if request.method == "POST":
        version, definition = _draft_definition(form)
        page = services.find_page(definition, page_id)
        if request.form.get("action") == "delete" and existing:
            page["questions"] = [q for q in page["questions"] if q["id"] != question_id]
            services.save_definition(version, definition)
            db.session.commit()
            flash("Question deleted.", "success")
            return redirect(url_for(".overview", form_id=form.id), 303)
        values = {k: (request.form.get(k) or "").strip() for k in request.form}
        values["file_types"] = [t for t in request.form.getlist("file_types") if t in FILE_KINDS]
        kind = values.get("type", "")
        if kind not in QUESTION_TYPES:
            errors.append(("#type", "Select the type of answer"))
        if not values.get("label"):
            errors.append(("#label", "Enter the question"))
        labels = [line.strip() for line in values.get("options", "").splitlines() if line.strip()]
        if kind in ("radios", "checkboxes") and len(labels) < 2:
            errors.append(("#options", "Enter at least 2 options, one on each line"))
        if kind == "file":
            if not values["file_types"]:
                errors.append(("#file_types", "Select the file types you accept"))
            if not values.get("max_files", "").isdigit() or not 1 <= int(values["max_files"]) <= 10:
                errors.append(("#max_files", "Enter how many files, from 1 to 10"))
            try:
                if not 0 < float(values.get("max_size_mb") or "x") <= 20:
                    raise ValueError
            except ValueError:
                errors.append(("#max_size_mb", "Enter the largest file size, up to 20MB"))
        if values.get("max_length") and not values["max_length"].isdigit():
            errors.append(("#max_length", "Enter the most characters as a whole number"))
        if kind == "date" and values.get("date_range", "") not in DATE_RANGES:
            errors.append(("#date_range", "Select which dates are allowed"))
        elif kind == "date" and values.get("date_range", "").endswith("_days"):
            days = values.get("range_days", "")
            if not days.isdigit() or not 1 <= int(days) <= 3660:
                errors.append(
                    ("#range_days", "Enter the number of days as a whole number, like 14")
                )
        if not errors:
            old_gotos = {o["label"]: o.get("goto") for o in (existing or {}).get("options", [])}
            question = {
                "id": existing["id"]
                if existing
                else _new_id("q", [q["id"] for q in services.all_questions(definition)]),
                "type": kind,
                "label": values["label"],
                "hint": values.get("hint", ""),
                "optional": values.get("optional") == "yes",
            }
            if values.get("name"):
                question["name"] = values["name"]
            if kind in ("radios", "checkboxes"):
                question["options"] = [
                    {
                        "value": _slugify(label)
                        + (f"-{i}" if _slugify(label) in [_slugify(x) for x in labels[:i]] else ""),
                        "label": label,
                        "goto": old_gotos.get(label),
                    }
                    for i, label in enumerate(labels)
                ]
            if kind == "yes_no" and existing:
                question["options"] = existing.get("options", [])
            if kind == "textarea" and values.get("max_length"):
                question["max_length"] = int(values["max_length"])
            if kind == "file":
                question.update(
                    file_types=values["file_types"],
                    max_files=int(values["max_files"]),
                    max_size_mb=float(values["max_size_mb"]),
                )
            if kind == "address":
                question["allow_point"] = values.get("allow_point") == "yes"
            if kind == "number":
                question["decimals"] = values.get("decimals") == "yes"
            if kind == "date" and values.get("date_range"):
                question["date_range"] = values["date_range"]
                if values["date_range"].endswith("_days"):
                    question["range_days"] = int(values["range_days"])
            if kind == "declaration":
                question["statement"] = values.get("statement") or "I confirm this is true"
            if existing:
                page["questions"] = [
                    question if q["id"] == existing["id"] else q for q in page["questions"]
                ]
            else:
                page["questions"].append(question)
            services.save_definition(version, definition)
            db.session.commit()
            flash("Question saved.", "success")
            if kind in BRANCHING_TYPES and request.form.get("action") == "branches":
                return redirect(
                    url_for(
                        ".branches", form_id=form.id, page_id=page_id, question_id=question["id"]
                    ),
                    303,
                )
            return redirect(url_for(".overview", form_id=form.id), 303)
    return render_page(
        "online_forms/staff/question.html",
        online_form=form,
        page=page,
        question=existing,
        values=values,
        page_errors=errors,
        errors=dict(errors),
        file_kinds=FILE_KINDS,
        date_ranges=DATE_RANGES,
    ), (400 if errors else 200)


@bp.route(
    "/builder/<int:form_id>/pages/<page_id>/questions/<question_id>/branches",
    methods=["GET", "POST"],
)
@editor_required
def branches(form_id: int, page_id: str, question_id: str):
    """Branching: for each answer, go to the next page, a later page, the end or an exit page."""
    form = _form(form_id)
    version = form.draft_version or form.live_version or form.versions[-1]
    definition = version.definition
    page = services.find_page(definition, page_id)
    question = next((q for q in (page or {}).get("questions", []) if q["id"] == question_id), None)
    if question is None or question["type"] not in BRANCHING_TYPES:
        abort(404)
    ids = [p["id"] for p in definition["pages"]]
    later = [p for p in definition["pages"][ids.index(page_id) + 1 :]]
    targets = (
        [("", "The next page")]
        + [
            (
                p["id"],
                ("Exit page: " if p.get("kind") == "exit" else "Page: ")
                + (
                    p.get("title")
                    or (p["questions"][0]["label"] if p.get("questions") else p["id"])
                ),
            )
            for p in later
        ]
        + [(services.END, "Check your answers (skip the rest)")]
    )
    allowed = {t for t, _ in targets}
    if request.method == "POST":
        version, definition = _draft_definition(form)
        page = services.find_page(definition, page_id)
        question = next(q for q in page["questions"] if q["id"] == question_id)
        options = []
        for option in options_of(question):
            goto = request.form.get(f"goto-{option['value']}", "")
            options.append({**option, "goto": goto if goto in allowed and goto else None})
        question["options"] = options
        services.save_definition(version, definition)
        db.session.commit()
        flash("Branching saved.", "success")
        return redirect(url_for(".overview", form_id=form.id), 303)
    return render_page(
        "online_forms/staff/branches.html",
        online_form=form,
        page=page,
        question=question,
        options=options_of(question),
        targets=targets,
    )


@bp.post("/builder/<int:form_id>/publish")
@editor_required
def publish(form_id: int):
    form = _form(form_id)
    try:
        version = services.publish_from_staff(
            form, request.form.get("add_interaction") == "yes", current_user
        )
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".overview", form_id=form.id), 303)
    db.session.commit()
    flash(f"Version {version.number} is live.", "success")
    return redirect(url_for(".overview", form_id=form.id), 303)


@bp.post("/builder/<int:form_id>/new-draft")
@editor_required
def new_draft(form_id: int):
    form = _form(form_id)
    version = services.editable_version(form)
    db.session.commit()
    flash(f"Draft version {version.number} created.", "success")
    return redirect(url_for(".overview", form_id=form.id), 303)


@bp.post("/builder/<int:form_id>/archive")
@editor_required
def archive(form_id: int):
    form = _form(form_id)
    services.archive(form)
    db.session.commit()
    flash("Form archived: it no longer takes submissions.", "success")
    return redirect(url_for(".overview", form_id=form.id), 303)


@bp.post("/builder/<int:form_id>/copy")
@editor_required
def copy(form_id: int):
    form = _form(form_id)
    slug = f"{form.slug[:60]}-copy"
    while db.session.scalar(select(OnlineForm.id).where(OnlineForm.slug == slug)):
        slug = f"{form.slug[:60]}-copy-{secrets.token_hex(2)}"
    duplicate = services.copy_form(form, slug, f"Copy of {form.title}")
    db.session.commit()
    flash("Form copied.", "success")
    return redirect(url_for(".overview", form_id=duplicate.id), 303)


@bp.get("/builder/<int:form_id>/metrics")
@editor_required
def metrics(form_id: int):
    """Started, submitted, completion rate, median time to complete and where people stop."""
    form = _form(form_id)
    return render_page(
        "online_forms/staff/metrics.html",
        online_form=form,
        m=services.metrics(form),
        counts=services.consultation_counts(form) if form.is_consultation else [],
        today=uk_today(),
        # the CSV is for officers of the receiving office: nobody else is shown a link to it
        can_export=current_user.has_role("officer", "admin")
        and form.office in services.offices_of(current_user),
    )


@bp.post("/builder/<int:form_id>/summary")
@editor_required
def publish_summary(form_id: int):
    form = _form(form_id)
    if not form.is_consultation or not form.closes_on or form.closes_on >= uk_today():
        flash("You can publish results once the consultation has closed.", "error")
    else:
        services.publish_summary(form, (request.form.get("summary") or "").strip())
        db.session.commit()
        flash("Results published on the consultations page.", "success")
    return redirect(url_for(".metrics", form_id=form.id), 303)


# ---------------------------------------------------------------- Open311 keys


@bp.route("/open311-keys", methods=["GET", "POST"])
@editor_required
def open311_keys():
    """Issue and revoke API keys for Open311 GeoReport v2 POST requests."""
    new_key = None
    errors = []
    if request.method == "POST":
        revoke = request.form.get("revoke", "")
        if revoke.isdigit():
            row = db.session.get(Open311Key, int(revoke))
            if row is not None and row.revoked_at is None:
                row.revoked_at = utcnow()
                record_audit("open311.key_revoke", "open311_key", row.name)
                db.session.commit()
                flash(f"Key for {row.name} revoked.", "success")
            return redirect(url_for(".open311_keys"), 303)
        name = (request.form.get("name") or "").strip()
        if not name:
            errors.append(("#name", "Enter who the key is for"))
        else:
            new_key = services.issue_key(name[:120], current_user)
            db.session.commit()
    keys = db.session.scalars(select(Open311Key).order_by(Open311Key.created_at.desc())).all()
    return render_page(
        "online_forms/staff/keys.html", keys=keys, new_key=new_key, page_errors=errors
    ), (400 if errors else 200)


# ---------------------------------------------------------------- receiving offices


@bp.route("/offices", methods=["GET", "POST"])
@role_required("admin")
def offices():
    """Which receiving offices each officer works in (they see those offices' submissions)."""
    from portal.online_forms.models import OfficeMember

    officers = list(
        db.session.scalars(
            select(User).join(UserRole).where(UserRole.role == "officer").order_by(User.email)
        ).unique()
    )
    names = services.office_names()
    if request.method == "POST":
        for officer in officers:
            wanted = {o for o in request.form.getlist(f"offices-{officer.id}") if o in names}
            rows = db.session.scalars(
                select(OfficeMember).where(OfficeMember.user_id == officer.id)
            ).all()
            for row in rows:
                if row.office not in wanted:
                    db.session.delete(row)
            for office in wanted - {r.office for r in rows}:
                db.session.add(OfficeMember(user_id=officer.id, office=office))
        record_audit("online_form.offices", "office_members", None)
        db.session.commit()
        flash("Offices saved.", "success")
        return redirect(url_for(".offices"), 303)
    membership = {(m.user_id, m.office) for m in db.session.scalars(select(OfficeMember)).all()}
    return render_page(
        "online_forms/staff/offices.html",
        officers=officers,
        membership=membership,
        offices=names,
    )


@bp.route("/offices/list")
@editor_required
def office_list():
    """Every receiving office with its address and opening hours; retired ones last."""
    from portal.online_forms.models import Office

    rows = db.session.scalars(
        select(Office).order_by(Office.retired_at.is_not(None), Office.name)
    ).all()
    return render_page("online_forms/staff/office_list.html", offices=rows)


@bp.route("/offices/new", methods=["GET", "POST"])
@bp.route("/offices/<int:office_id>/edit", methods=["GET", "POST"])
@editor_required
def office_edit(office_id: int | None = None):
    """Add an office, or change one's name, address and opening hours."""
    from portal.online_forms.models import Office

    office = db.session.get(Office, office_id) if office_id else None
    if office_id and office is None:
        abort(404)
    values = {k: getattr(office, k) for k in services.OFFICE_FIELDS} if office else {}
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in services.OFFICE_FIELDS}
        errors = services.office_errors(values, office_id)
        if not errors:
            saved = services.save_office(values, office)
            db.session.commit()
            flash(f"{saved.name} saved.", "success")
            return redirect(url_for(".office_list"), 303)
    return render_page(
        "online_forms/staff/office_edit.html",
        office=office,
        values=values,
        errors=dict(errors),
        page_errors=errors,
    ), (400 if errors else 200)


@bp.route("/offices/<int:office_id>/retire", methods=["POST"])
@editor_required
def office_retire(office_id: int):
    """Retire an office (forms can no longer choose it) or bring it back."""
    from portal.online_forms.models import Office

    office = db.session.get(Office, office_id)
    if office is None:
        abort(404)
    retire = request.form.get("action") == "retire"
    services.set_office_retired(office, retire)
    db.session.commit()
    flash(f"{office.name} {'retired' if retire else 'back in use'}.", "success")
    return redirect(url_for(".office_list"), 303)


# ---------------------------------------------------------------- inbox


def _visible_query(user):  # noqa: ANN001, ANN202
    offices = services.offices_of(user)
    part_ids = select(SubmissionPart.submission_id).where(SubmissionPart.office.in_(offices))
    return select(FormSubmission).where(
        or_(FormSubmission.office.in_(offices), FormSubmission.id.in_(part_ids))
    )


INBOX_PAGE = 50


@bp.get("")
@officer_required
def inbox():
    """Submissions to the officer's offices, filtered by form, status, date and overdue."""
    query = _visible_query(current_user)
    args = request.args
    errors = []
    form_id = args.get("form", "")
    if form_id.isdigit():
        query = query.where(FormSubmission.form_id == int(form_id))
    status = args.get("status", "")
    if status in FormSubmission.STATUSES:
        query = query.where(FormSubmission.status == status)
    sent = date_range(args, ("from", "Sent from"), ("to", "Sent to"))
    errors.extend(sent.errors)
    # Whole UK days: from the start of `from` up to the start of the day after `to`.
    if sent.start and not sent.errors:
        query = query.where(FormSubmission.submitted_at >= uk_day_start(sent.start))
    if sent.end and not sent.errors:
        query = query.where(
            FormSubmission.submitted_at < uk_day_start(sent.end + timedelta(days=1))
        )
    if args.get("overdue") == "yes":
        query = query.where(
            FormSubmission.status.in_(FormSubmission.OPEN), FormSubmission.due_on < uk_today()
        )
    if args.get("mine") == "yes":
        query = query.where(FormSubmission.assigned_to_id == current_user.id)
    q = args.get("q", "").strip()
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(FormSubmission.reference).like(like),
                func.lower(FormSubmission.email).like(like),
            )
        )
    # Pages of INBOX_PAGE, so a flood of submissions never makes the inbox unusable.
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // INBOX_PAGE))
    page = min(max(int(args["page"]) if args.get("page", "").isdigit() else 1, 1), pages)
    submissions = db.session.scalars(
        query.order_by(FormSubmission.submitted_at.desc(), FormSubmission.id.desc())
        .offset((page - 1) * INBOX_PAGE)
        .limit(INBOX_PAGE)
    ).all()
    offices = services.offices_of(current_user)
    forms = db.session.scalars(
        select(OnlineForm).where(OnlineForm.office.in_(offices)).order_by(OnlineForm.title)
    ).all()
    # The outcome in a few words: the title, and read out after an htmx search.
    count = len(submissions)
    found = "" if errors else f"{count} submission{'' if count == 1 else 's'} found"
    return render_page(
        "online_forms/staff/inbox.html",
        fragment="search",
        found=found,
        searched=bool(args),
        htmx=is_htmx_request(),
        submissions=submissions,
        total=total,
        page=page,
        pages=pages,
        page_args={k: v for k, v in args.items() if k != "page" and v},
        forms=forms,
        args=args,
        statuses=FormSubmission.LABELS,
        is_overdue=services.is_overdue,
        page_errors=errors,
        sent=sent,
        offices=offices,
    )


def _submission(reference: str) -> FormSubmission:
    submission = db.session.scalar(
        select(FormSubmission).where(FormSubmission.reference == reference)
    )
    if submission is None:
        abort(404)
    if not services.can_handle(current_user, submission):
        abort(403)
    return submission


def _colleagues(office: str) -> list[User]:
    from portal.online_forms.models import OfficeMember

    ids = select(OfficeMember.user_id).where(OfficeMember.office == office)
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole)
            .where(User.id.in_(ids), UserRole.role == "officer")
            .order_by(User.display_name)
        ).unique()
    )


@bp.get("/submissions/<reference>")
@officer_required
def submission(reference: str):
    """One submission: answers, files, notes, status, assignment and department parts."""
    item = _submission(reference)
    return _submission_page(item, [])


def _submission_page(item: FormSubmission, errors: list):  # noqa: ANN202
    definition = item.version.definition
    rows = []
    for question in services.all_questions(definition):
        if question["id"] in item.answers:
            own = [f for f in item.files if f.question_id == question["id"]]
            rows.append(
                {
                    "label": question["label"],
                    "text": answer_text(question, item.answers[question["id"]], own),
                    "files": own,
                }
            )
    assignee = db.session.get(User, item.assigned_to_id) if item.assigned_to_id else None
    return render_page(
        "online_forms/staff/submission.html",
        item=item,
        rows=rows,
        moves=services.ALLOWED_MOVES.get(item.status, ()),
        labels=FormSubmission.LABELS,
        colleagues=_colleagues(item.office),
        assignee=assignee,
        my_offices=services.offices_of(current_user),
        overdue=services.is_overdue(item),
        page_errors=errors,
    ), (400 if errors else 200)


@bp.post("/submissions/<reference>/status")
@officer_required
def change_status(reference: str):
    item = _submission(reference)
    status = request.form.get("status", "")
    note = (request.form.get("note") or "").strip()
    if status not in services.ALLOWED_MOVES.get(item.status, ()):
        return _submission_page(item, [("#status", "Select a new status")])
    if status == FormSubmission.REJECTED and not note:
        return _submission_page(
            item, [("#note", "Enter a note to say why the request is rejected")]
        )
    services.change_status(item, status, note, current_user)
    db.session.commit()
    flash(f"Status changed to {FormSubmission.LABELS[status].lower()}.", "success")
    return redirect(url_for(".submission", reference=reference), 303)


@bp.post("/submissions/<reference>/note")
@officer_required
def add_note(reference: str):
    item = _submission(reference)
    note = (request.form.get("text") or "").strip()
    if not note:
        return _submission_page(item, [("#text", "Enter a note")])
    services.add_note(item, note[:4000], current_user)
    db.session.commit()
    flash("Note added.", "success")
    return redirect(url_for(".submission", reference=reference), 303)


@bp.post("/submissions/<reference>/assign")
@officer_required
def assign(reference: str):
    item = _submission(reference)
    target = request.form.get("assignee", "")
    if target == "":
        item.assigned_to_id = None
    else:
        allowed = {str(u.id): u for u in _colleagues(item.office)}
        if target not in allowed:
            return _submission_page(item, [("#assignee", "Select a colleague in this office")])
        item.assigned_to_id = allowed[target].id
    record_audit(
        "online_form.submission_assign",
        "form_submission",
        item.reference,
        {"to": item.assigned_to_id},
    )
    db.session.commit()
    flash("Assignment saved.", "success")
    return redirect(url_for(".submission", reference=reference), 303)


@bp.post("/submissions/<reference>/parts/<int:part_id>/close")
@officer_required
def close_part(reference: str, part_id: int):
    item = _submission(reference)
    part = db.session.get(SubmissionPart, part_id)
    if (
        part is None
        or part.submission_id != item.id
        or part.office not in services.offices_of(current_user)
    ):
        abort(403)
    if part.status != FormSubmission.RESOLVED:
        services.close_part(part, (request.form.get("note") or "").strip(), current_user)
        db.session.commit()
        flash(f"{part.office} part closed.", "success")
    return redirect(url_for(".submission", reference=reference), 303)


@bp.get("/export/<int:form_id>.csv")
@officer_required
def export(form_id: int):
    """CSV of a form's submissions on one version (the live one unless ?version=N)."""
    form = _form(form_id)
    if form.office not in services.offices_of(current_user):
        abort(403)
    number = request.args.get("version", "")
    version = next((v for v in form.versions if str(v.number) == number), None) or form.live_version
    if version is None:
        abort(404)
    items = db.session.scalars(
        select(FormSubmission)
        .where(FormSubmission.form_id == form.id, FormSubmission.version_id == version.id)
        .order_by(FormSubmission.submitted_at)
    ).all()
    questions = [
        q for q in services.all_questions(version.definition) if q["type"] != "declaration"
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["Reference", "Submitted", "Status", "Channel", "Email", *[q["label"] for q in questions]]
    )
    for item in items:
        cells = []
        for q in questions:
            own = [f for f in item.files if f.question_id == q["id"]]
            cells.append(
                answer_text(q, item.answers.get(q["id"]), own) if q["id"] in item.answers else ""
            )
        row = [
            item.reference,
            to_uk(item.submitted_at).strftime("%Y-%m-%d %H:%M"),
            item.status_label,
            item.channel,
            item.email or "",
            *cells,
        ]
        writer.writerow([_safe_cell(c) for c in row])
    filename = f"{form.slug}-v{version.number}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _safe_cell(value: object) -> str:
    """Stop spreadsheet formula injection from residents' answers."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


__all__ = ["CHOICE_TYPES", "bp"]
