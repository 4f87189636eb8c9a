"""Public pages: pay a bill by reference, check and pay, the return page, the confirmation,
the Stripe webhook and the sandbox gateway's hosted card page."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user

from portal.db import write_intent
from portal.extensions import csrf, db
from portal.payments import billing, gateways
from portal.payments.bills import BILL_TYPES
from portal.payments.forms import BillForm, BillTypeForm, SandboxCardForm
from portal.payments.models import (
    CREATED,
    SOURCE_RETURN,
    STARTED,
    SandboxCharge,
)
from portal.payments.services import (
    PaymentError,
    after_outcome_url,
    create_payment,
    get_payment,
    handle_stripe_event,
    may_view,
    retry_payment,
    settle_from_gateway,
    start_payment,
)
from portal.rendering import render_page
from portal.statistics.journeys import (
    complete_journey,
    journey_open,
    payment_journey,
    start_journey,
)

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)


def _viewable(reference: str):  # noqa: ANN202
    payment = get_payment(reference)
    if payment is None or not may_view(payment):
        abort(404)
    return payment


# ---------------------------------------------------------------------------------------------
# Pay a bill by reference


@bp.route("/pay", methods=["GET", "POST"])
def pay_start():
    """Choose the kind of bill."""
    form = BillTypeForm()
    if form.validate_on_submit():
        return redirect(url_for("payments.pay_bill", bill_type=form.bill_type.data))
    return render_page("payments/pay_start.html", form=form, bill_types=BILL_TYPES)


def _count_start(journey: str, lgsl: int, lgil: int) -> None:
    """Count the journey's start once per visit (completion rate); a GET writes only this."""
    if journey_open(journey):
        return
    db.session.commit()  # end the read transaction
    with write_intent():
        start_journey(journey, lgsl, lgil)
        db.session.commit()


def _count_completion(payment) -> None:  # noqa: ANN001
    journey = payment_journey(payment.lgsl, payment.lgil)
    if not (payment.is_paid and journey_open(journey)):
        return
    db.session.commit()
    with write_intent():
        complete_journey(journey)
        db.session.commit()


@bp.route("/pay/<bill_type>", methods=["GET", "POST"])
def pay_bill(bill_type: str):
    """Reference and amount (the amount of a penalty charge comes from the reference)."""
    bt = BILL_TYPES.get(bill_type)
    if bt is None:
        abort(404)
    _count_start(payment_journey(bt.lgsl, bt.lgil), bt.lgsl, bt.lgil)
    form = BillForm()
    if request.method == "GET" and current_user.is_authenticated and not form.email.data:
        form.email.data = current_user.email
    bill = None
    if request.method == "POST":
        valid = form.validate()
        if form.reference.data:
            bill, message = billing.check_reference(bt, form.reference.data)
            if message:
                form.reference.errors = [*form.reference.errors, message]
                valid = False
            else:
                form.reference.data = bill.reference
        amount, message = billing.amount_for(bt, bill, form.amount.data)
        if message:
            form.amount.errors = [message]
            valid = False
        if valid and bill is not None and amount is not None:
            payment = create_payment(
                purpose=billing.PURPOSE,
                purpose_ref=billing.purpose_ref(bill),
                description=billing.description_for(bt, bill),
                amount_pence=amount,
                lgsl=bt.lgsl,
                lgil=bt.lgil,
                user_id=current_user.id if current_user.is_authenticated else None,
                email=form.email.data.strip(),
                return_url="",
                fund=bt.fund,
            )
            db.session.commit()
            return redirect(url_for("payments.start", reference=payment.reference))
    return render_page("payments/pay_bill.html", form=form, bill_type=bt)


# ---------------------------------------------------------------------------------------------
# Check and pay → gateway → return page → confirmation


@bp.route("/payments/<reference>/pay", methods=["GET", "POST"])
def start(reference: str):
    """Check the amount, then go to the gateway (POST opens the checkout session once)."""
    payment = _viewable(reference)
    if payment.state not in (CREATED, STARTED):
        return redirect(url_for("payments.confirmation", reference=reference))
    error = ""
    if request.method == "POST":
        from flask_wtf.csrf import validate_csrf
        from wtforms import ValidationError

        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            abort(400)
        try:
            url = start_payment(reference)  # amount from our record; anything posted is ignored
            db.session.commit()
            return redirect(url, code=303)
        except PaymentError as exc:
            db.session.rollback()
            error = str(exc)
        except gateways.GatewayError as exc:
            db.session.rollback()
            log.warning("gateway refused to start %s: %s", reference, exc)
            error = "The payment service is not available at the moment. Try again in a few minutes"
    return render_page(
        "payments/start.html",
        payment=payment,
        page_errors=[("#continue", error)] if error else [],
    )


@bp.get("/payments/<reference>/return")
def return_page(reference: str):
    """Where the gateway sends the payer back: ask the gateway what happened, never the URL."""
    payment = _viewable(reference)
    if payment.is_open:
        db.session.commit()  # end the read transaction; settling writes
        try:
            with write_intent():  # the one write a GET makes: recording the gateway's answer
                settle_from_gateway(
                    reference, SOURCE_RETURN, cancelled=request.args.get("cancelled") == "1"
                )
                db.session.commit()
        except gateways.GatewayError as exc:
            db.session.rollback()
            log.warning("return page could not ask the gateway about %s: %s", reference, exc)
        payment = get_payment(reference)
    if payment.is_open:
        return render_page("payments/checking.html", payment=payment)
    return redirect(after_outcome_url(payment))


@bp.get("/payments/<reference>")
def confirmation(reference: str):
    """The outcome: paid (with our reference), or what went wrong and a way to try again."""
    payment = _viewable(reference)
    _count_completion(payment)
    return render_page("payments/confirmation.html", payment=payment)


@bp.post("/payments/<reference>/retry")
def retry(reference: str):
    """Try a declined, cancelled or expired payment again without typing anything again."""
    _viewable(reference)
    try:
        payment = retry_payment(reference)
    except PaymentError:
        return redirect(url_for("payments.confirmation", reference=reference))
    db.session.commit()
    return redirect(url_for("payments.start", reference=payment.reference))


# ---------------------------------------------------------------------------------------------
# Stripe webhook


@bp.post("/payments/webhooks/stripe")
@csrf.exempt
def stripe_webhook():
    """Verify the signature on the raw body, then record the event once."""
    import stripe

    settings = current_app.config["PORTAL"]
    if not settings.stripe_webhook_secret:
        abort(404)
    payload = request.get_data(cache=False)
    header = request.headers.get("Stripe-Signature", "")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), header, settings.stripe_webhook_secret, tolerance=300
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        return {"error": "invalid signature"}, 400
    import json

    try:
        event = json.loads(payload)
        event_id = event["id"]
    except (ValueError, KeyError, TypeError):
        return {"error": "invalid payload"}, 400
    outcome = handle_stripe_event(event)
    db.session.commit()
    log.info("stripe event %s %s: %s", event_id, event.get("type"), outcome)
    return {"received": True, "outcome": outcome}


# ---------------------------------------------------------------------------------------------
# The sandbox gateway's hosted card page (a test page; no real money)


def _sandbox_charge(session_id: str) -> SandboxCharge:
    from sqlalchemy import select

    charge = db.session.scalar(select(SandboxCharge).where(SandboxCharge.session_id == session_id))
    if charge is None:
        abort(404)
    return charge


@bp.route("/payments/sandbox/<session_id>", methods=["GET", "POST"])
def sandbox_card(session_id: str):
    """Enter test card details: success, decline, or a 3-D Secure-like confirmation step."""
    charge = _sandbox_charge(session_id)
    if charge.status == SandboxCharge.AWAITING_3DS:
        return redirect(url_for("payments.sandbox_3ds", session_id=session_id))
    if charge.status != SandboxCharge.OPEN:
        return redirect(charge.return_url)
    form = SandboxCardForm()
    if request.method == "POST" and request.form.get("action") == "cancel":
        from flask_wtf.csrf import validate_csrf
        from wtforms import ValidationError

        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            abort(400)
        charge.status = SandboxCharge.CANCELLED
        charge.log = [*(charge.log or []), "cancelled by payer"]
        db.session.commit()
        return redirect(charge.cancel_url, code=303)
    if form.validate_on_submit():
        number = form.card_number.data
        behaviour = gateways.SANDBOX_CARDS.get(number)
        if behaviour is None:
            form.card_number.errors = [
                "This is a test page: use one of the test card numbers listed on this page"
            ]
        else:
            charge.card_last4 = number[-4:]
            if behaviour == "success":
                charge.status = SandboxCharge.SUCCEEDED
            elif behaviour == "decline":
                charge.status = SandboxCharge.DECLINED
            else:
                charge.status = SandboxCharge.AWAITING_3DS
            charge.log = [*(charge.log or []), f"card ending {number[-4:]}: {behaviour}"]
            db.session.commit()
            if behaviour == "3ds":
                return redirect(url_for("payments.sandbox_3ds", session_id=session_id), code=303)
            return redirect(charge.return_url, code=303)
    return render_page(
        "payments/sandbox_card.html", form=form, charge=charge, cards=gateways.SANDBOX_CARDS
    )


@bp.route("/payments/sandbox/<session_id>/confirm", methods=["GET", "POST"])
def sandbox_3ds(session_id: str):
    """The 3-D Secure-like step: the payer confirms (or fails) with their bank."""
    charge = _sandbox_charge(session_id)
    if charge.status != SandboxCharge.AWAITING_3DS:
        return redirect(url_for("payments.sandbox_card", session_id=session_id))
    error = ""
    if request.method == "POST":
        from flask_wtf.csrf import validate_csrf
        from wtforms import ValidationError

        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            abort(400)
        choice = request.form.get("decision")
        if choice in ("confirm", "fail"):
            charge.status = (
                SandboxCharge.SUCCEEDED if choice == "confirm" else SandboxCharge.DECLINED
            )
            charge.log = [*(charge.log or []), f"3-D Secure {choice}"]
            db.session.commit()
            return redirect(charge.return_url, code=303)
        error = "Select whether to confirm the payment"
    return render_page("payments/sandbox_3ds.html", charge=charge, error=error)
