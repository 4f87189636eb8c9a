"""Garden waste: the service page, subscribing (address, email, pay) and the staff list."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.accounts.authz import role_required
from portal.common.gazetteer.services import get_address
from portal.common.gazetteer.views import address_step
from portal.extensions import db
from portal.garden import services
from portal.garden.models import STATUS_LABELS
from portal.rendering import render_page

bp = Blueprint("garden", __name__, url_prefix="/garden-waste")
staff_bp = Blueprint("garden_staff", __name__, url_prefix="/staff/garden-waste")

VIEW_ROLES = ("officer", "finance", "admin")


@bp.get("")
def index():
    """What the subscription gives, what it costs, and Start now."""
    return render_page("garden/index.html", price=services.price_pence())


@bp.get("/address")
def address():
    """Step 1: find the address by postcode (a GET form that works without JavaScript)."""
    step = address_step(request.args)
    if step.address is not None:
        return redirect(url_for(".details", uprn=step.address.uprn))
    searched = "uprn_find" in request.args or "uprn" in request.args
    if not searched and "uprn_postcode" in request.args and not step.state["error"]:
        # Continue pressed before finding the address
        if not request.args["uprn_postcode"].strip():
            step.state["error"] = "Enter a postcode"
        else:
            step.select_error = "Select an address"
    errors = step.errors
    return render_page(
        "garden/address.html",
        field="uprn",
        select_error=step.select_error,
        page_errors=errors,
        **step.state,
    ), (400 if errors else 200)


@bp.route("/subscribe/<uprn>", methods=["GET", "POST"])
def details(uprn: str):
    """Step 2: the address, the price and an email for the receipt; then to payment."""
    place = get_address(uprn)
    if place is None:
        abort(404)
    errors: list[tuple[str, str]] = []
    email = request.form.get("email", "") if request.method == "POST" else ""
    if request.method == "GET" and current_user.is_authenticated:
        email = current_user.email
    covered = None
    try:
        services.check_can_subscribe(place)
    except services.SubscriptionError as exc:
        covered = str(exc)
    if request.method == "POST" and covered is None:
        try:
            email = services.check_email(email)
        except services.SubscriptionError as exc:
            errors.append(("#email", str(exc)))
        if not errors:
            try:
                _subscription, payment = services.start_subscription(
                    place, email, current_user.id if current_user.is_authenticated else None
                )
            except services.SubscriptionError as exc:
                covered = str(exc)
            else:
                db.session.commit()
                return redirect(url_for("payments.start", reference=payment.reference), 303)
    current = services.current_for(place.uprn)
    return render_page(
        "garden/details.html",
        place=place,
        email=email,
        covered=covered,
        current=current,
        price=services.price_pence(),
        page_errors=errors,
    ), (400 if errors else 200)


@bp.get("/subscriptions/<reference>")
def subscription(reference: str):
    """Where the payer lands after paying: the dates the collections run."""
    from portal.payments.services import get_payment, may_view  # noqa: PLC0415

    item = services.get_subscription(reference)
    payment = get_payment(item.payment_reference) if item and item.payment_reference else None
    if item is None or payment is None or not may_view(payment):
        abort(404)
    return render_page("garden/subscription.html", item=item, payment=payment)


# ---------------------------------------------------------------- staff


@staff_bp.get("/", endpoint="index")
@role_required(*VIEW_ROLES)
def staff_index():
    """Every subscription, newest first, filtered by status; export as CSV."""
    status = request.args.get("status", "")
    if status not in STATUS_LABELS:
        status = ""
    rows = services.subscribers(status)
    if request.args.get("format") == "csv":
        body = services.export_csv(rows)
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment; filename=garden-waste-subscribers.csv"},
        )
    return render_page(
        "garden/staff_list.html",
        rows=rows,
        status=status,
        statuses=list(STATUS_LABELS.items()),
    )


@staff_bp.route("/<reference>", methods=["GET", "POST"], endpoint="detail")
@role_required(*VIEW_ROLES)
def detail(reference: str):
    """One subscription; finance can cancel it with a full refund."""
    from portal.payments.services import PaymentError, get_payment  # noqa: PLC0415

    item = services.get_subscription(reference)
    if item is None:
        abort(404)
    errors: list[tuple[str, str]] = []
    reason = ""
    if request.method == "POST":
        if not current_user.has_role("finance"):
            abort(403)
        reason = (request.form.get("reason") or "").strip()
        if not reason:
            errors.append(("#reason", "Enter why the subscription is cancelled and refunded"))
        else:
            try:
                services.cancel_and_refund(item, reason, current_user._get_current_object())
            except PaymentError as exc:
                db.session.rollback()
                errors.append(("#reason", str(exc)))
            else:
                db.session.commit()
                flash(f"{item.reference} cancelled and refunded.", "success")
                return redirect(url_for(".detail", reference=reference), 303)
    payment = get_payment(item.payment_reference) if item.payment_reference else None
    return render_page(
        "garden/staff_detail.html",
        item=item,
        payment=payment,
        reason=reason,
        page_errors=errors,
        can_refund=current_user.has_role("finance"),
    ), (400 if errors else 200)
