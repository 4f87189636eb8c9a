"""Staff pages (/staff/payments, role finance): search, timeline, refunds, report, phone payments."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from portal.accounts.authz import role_required
from portal.common.audit import record_audit
from portal.common.clock import uk_day_start, uk_today
from portal.common.dates import INVALID, date_parts, date_range, parse_parts, parts_of
from portal.extensions import db
from portal.payments import billing, gateways
from portal.payments.bills import BILL_TYPES, fund_name
from portal.payments.forms import STATE_FILTER, PhonePaymentForm, RefundForm
from portal.payments.models import (
    CHANNEL_PHONE,
    PAID_STATES,
    SOURCE_STAFF,
    STATES,
    Payment,
    Refund,
)
from portal.payments.services import (
    PaymentError,
    create_payment,
    get_payment,
    needing_attention,
    parse_amount,
    refund_payment,
    settle_from_gateway,
)
from portal.rendering import is_htmx_request, render_page
from portal.statistics.catalogue import interaction_label, service_label

bp = Blueprint("payments_staff", __name__, url_prefix="/staff/payments")
PAGE_SIZE = 50


@bp.before_request
@role_required("finance")
def _finance_only() -> None:
    """Every page here is for the finance role."""


def _payment_or_404(reference: str) -> Payment:
    payment = get_payment(reference)
    if payment is None:
        abort(404)
    return payment


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.get("/")
def index():
    """Search and filter payments."""
    q = (request.args.get("q") or "").strip()
    state = request.args.get("state") or ""
    channel = request.args.get("channel") or ""
    fund = request.args.get("fund") or ""
    created = date_range(request.args, ("from", "Created from"), ("to", "Created to"))
    page_errors = list(created.errors)
    date_from, date_to = (None, None) if page_errors else (created.start, created.end)
    query = select(Payment).order_by(Payment.created_at.desc(), Payment.id.desc())
    if q:
        like = f"%{q}%"
        query = query.where(
            or_(
                Payment.reference.ilike(like),
                Payment.purpose_ref.ilike(like),
                Payment.email.ilike(like),
                Payment.description.ilike(like),
            )
        )
    if state in STATES:
        query = query.where(Payment.state == state)
    if channel:
        query = query.where(Payment.channel == channel)
    if fund:
        query = query.where(Payment.fund == fund)
    if date_from:
        query = query.where(Payment.created_at >= _day_start(date_from))
    if date_to:
        query = query.where(Payment.created_at < _day_start(date_to) + timedelta(days=1))
    payments = db.session.scalars(query.limit(PAGE_SIZE)).all()
    funds = [
        (code, fund_name(code))
        for code in sorted({bt.fund for bt in BILL_TYPES.values()} | {"general"}, key=fund_name)
    ]
    # The outcome in a few words: the title, and read out after an htmx search.
    count = len(payments)
    found = f"{count} payment{'' if count == 1 else 's'} found"
    found = (
        "" if page_errors else found + (f" (the newest {PAGE_SIZE})" if count >= PAGE_SIZE else "")
    )
    htmx = is_htmx_request()
    return render_page(
        "payments/staff/index.html",
        fragment="search",
        found=found,
        searched=bool(request.args),
        htmx=htmx,
        payments=payments,
        attention=needing_attention(),
        filters={
            "q": q,
            "state": state,
            "channel": channel,
            "fund": fund,
        },
        state_choices=STATE_FILTER,
        funds=funds,
        page_errors=page_errors,
        created=created,
    )


def _detail_page(payment: Payment, form: RefundForm) -> str:
    """The payment page, naming its service and interaction beside their LGSL and LGIL numbers."""
    return render_page(
        "payments/staff/detail.html",
        payment=payment,
        form=form,
        service_name=service_label(payment.lgsl),
        interaction_name=interaction_label(payment.lgil),
        fund_name=fund_name(payment.fund),
    )


@bp.get("/<reference>")
def detail(reference: str):
    """A payment's details and timeline, with the refund form."""
    payment = _payment_or_404(reference)
    form = RefundForm(request_key=uuid.uuid4().hex)
    return _detail_page(payment, form)


@bp.post("/<reference>/refund")
def refund(reference: str):
    """Refund part or all of what remains; a second click on the same form does nothing."""
    payment = _payment_or_404(reference)
    form = RefundForm()
    valid = form.validate()
    amount, message = parse_amount(form.amount.data, max(payment.remaining_pence, 1), "refund")
    if message:
        if "or less" in message:
            message = (
                f"The refund must be {billing.format_pence(payment.remaining_pence)} or less "
                "(what remains of the payment)"
            )
        form.amount.errors = [message]
        valid = False
    if not form.request_key.data:
        valid = False
    if valid:
        try:
            refund_payment(
                reference, amount, form.reason.data.strip(), form.request_key.data, current_user
            )
            db.session.commit()
            flash(f"Refunded {billing.format_pence(amount)}", "success")
            return redirect(url_for("payments_staff.detail", reference=reference), code=303)
        except PaymentError as exc:
            db.session.rollback()
            if "already been made" in str(exc):
                flash("This refund has already been made", "success")
                return redirect(url_for("payments_staff.detail", reference=reference), code=303)
            form.amount.errors = [str(exc)]
        payment = _payment_or_404(reference)
    return _detail_page(payment, form), 400


@bp.post("/<reference>/check")
def check(reference: str):
    """Ask the gateway now about a payment that is still open."""
    _payment_or_404(reference)
    try:
        payment = settle_from_gateway(reference, SOURCE_STAFF)
        record_audit("payment.check", "payment", reference, {"state": payment.state})
        db.session.commit()
        flash(f"Checked with the payment provider: {payment.state_label}", "success")
    except gateways.GatewayError:
        db.session.rollback()
        flash("The payment provider could not be reached. Try again later", "success")
    return redirect(url_for("payments_staff.detail", reference=reference), code=303)


@bp.route("/phone", methods=["GET", "POST"])
def phone():
    """Take a payment from a caller: the officer keys the card on the gateway's page."""
    form = PhonePaymentForm()
    if request.method == "POST":
        valid = form.validate()
        bt = BILL_TYPES.get(form.bill_type.data or "")
        bill = None
        if bt and form.reference.data:
            bill, message = billing.check_reference(bt, form.reference.data)
            if message:
                form.reference.errors = [*form.reference.errors, message]
                valid = False
        if bt:
            amount, message = billing.amount_for(bt, bill, form.amount.data)
            if message:
                form.amount.errors = [message]
                valid = False
        if valid and bt and bill is not None and amount is not None:
            payment = create_payment(
                purpose=billing.PURPOSE,
                purpose_ref=billing.purpose_ref(bill),
                description=billing.description_for(bt, bill),
                amount_pence=amount,
                lgsl=bt.lgsl,
                lgil=bt.lgil,
                user_id=None,
                email=(form.email.data or "").strip() or None,
                return_url=url_for("payments_staff.detail_after_phone", reference="__REF__"),
                fund=bt.fund,
                channel=CHANNEL_PHONE,
                staff_id=current_user.id,
            )
            payment.return_url = payment.return_url.replace("__REF__", payment.reference)
            record_audit("payment.phone", "payment", payment.reference, {"amount_pence": amount})
            db.session.commit()
            return redirect(url_for("payments.start", reference=payment.reference))
    return render_page("payments/staff/phone.html", form=form, bill_types=BILL_TYPES)


@bp.get("/<reference>/done")
def detail_after_phone(reference: str):
    """Where a phone payment comes back to once the card was taken."""
    payment = _payment_or_404(reference)
    flash(f"Phone payment {payment.reference}: {payment.state_label}", "success")
    return redirect(url_for("payments_staff.detail", reference=reference))


# ---------------------------------------------------------------------------------------------
# Daily reconciliation report


def _day_start(day: date) -> datetime:
    return uk_day_start(day)


def daily_report(day: date) -> dict:
    """Totals for one UK day (midnight to midnight UK time): money taken by fund and service, refunds, and payments by state."""
    start, end = _day_start(day), _day_start(day) + timedelta(days=1)
    taken = db.session.execute(
        select(Payment.fund, Payment.lgsl, func.count(Payment.id), func.sum(Payment.amount_pence))
        .where(
            Payment.state.in_(PAID_STATES),
            Payment.completed_at >= start,
            Payment.completed_at < end,
        )
        .group_by(Payment.fund, Payment.lgsl)
        .order_by(Payment.fund, Payment.lgsl)
    ).all()
    refunds = db.session.execute(
        select(Payment.fund, Payment.lgsl, func.count(Refund.id), func.sum(Refund.amount_pence))
        .join(Payment, Payment.id == Refund.payment_id)
        .where(
            Refund.status == Refund.SUCCEEDED, Refund.created_at >= start, Refund.created_at < end
        )
        .group_by(Payment.fund, Payment.lgsl)
    ).all()
    refund_map = {(f, lg): (n, int(s or 0)) for f, lg, n, s in refunds}
    keys = sorted({(f, lg) for f, lg, _, _ in taken} | set(refund_map))
    taken_map = {(f, lg): (n, int(s or 0)) for f, lg, n, s in taken}
    by_fund = []
    for key in keys:
        n, gross = taken_map.get(key, (0, 0))
        rn, rsum = refund_map.get(key, (0, 0))
        by_fund.append(
            {
                "fund": key[0],
                "fund_name": fund_name(key[0]),
                "lgsl": key[1],
                "service": service_label(key[1]),
                "count": n,
                "gross": gross,
                "refund_count": rn,
                "refunds": rsum,
                "net": gross - rsum,
            }
        )
    states = db.session.execute(
        select(Payment.state, func.count(Payment.id), func.sum(Payment.amount_pence))
        .where(Payment.created_at >= start, Payment.created_at < end)
        .group_by(Payment.state)
    ).all()
    by_state = [{"state": s, "count": n, "amount": int(a or 0)} for s, n, a in states]
    by_state.sort(key=lambda r: STATES.index(r["state"]) if r["state"] in STATES else 99)
    totals = {
        "gross": sum(r["gross"] for r in by_fund),
        "refunds": sum(r["refunds"] for r in by_fund),
        "net": sum(r["net"] for r in by_fund),
        "count": sum(r["count"] for r in by_fund),
    }
    return {"day": day, "by_fund": by_fund, "by_state": by_state, "totals": totals}


@bp.get("/report")
def report():
    """The daily reconciliation report for a UK day (today unless another is asked for)."""
    parts = date_parts(request.args, "date")
    chosen = parse_parts(parts)
    page_errors = []
    if chosen == INVALID:
        page_errors.append(("#date-day", "The date must be a real date, like 24 11 2026"))
    day = chosen if isinstance(chosen, date) else uk_today()
    return render_page(
        "payments/staff/report.html",
        report=daily_report(day),
        page_errors=page_errors,
        date_parts=parts if page_errors else parts_of(day),
    )


@bp.get("/report.csv")
def report_csv():
    day = _parse_date(request.args.get("date")) or uk_today()
    data = daily_report(day)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "date",
            "section",
            "fund",
            "fund_name",
            "lgsl",
            "service",
            "state",
            "count",
            "gross_pence",
            "refunds_pence",
            "net_pence",
        ]
    )
    for r in data["by_fund"]:
        writer.writerow(
            [
                day.isoformat(),
                "by_fund",
                r["fund"],
                r["fund_name"],
                r["lgsl"],
                r["service"],
                "",
                r["count"],
                r["gross"],
                r["refunds"],
                r["net"],
            ]
        )
    for r in data["by_state"]:
        writer.writerow(
            [
                day.isoformat(),
                "by_state",
                "",
                "",
                "",
                "",
                r["state"],
                r["count"],
                r["amount"],
                "",
                "",
            ]
        )
    t = data["totals"]
    writer.writerow(
        [
            day.isoformat(),
            "total",
            "",
            "",
            "",
            "",
            "",
            t["count"],
            t["gross"],
            t["refunds"],
            t["net"],
        ]
    )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="payments-{day.isoformat()}.csv"'},
    )
