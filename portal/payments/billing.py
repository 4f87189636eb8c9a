"""Paying a bill by reference: find the bill, check the amount, create the payment."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from portal.common.delivery import set_portal_delivery
from portal.extensions import db
from portal.payments.bills import BILL_TYPES, BillType
from portal.payments.models import PAID_STATES, PARTIALLY_REFUNDED, SUCCESS, Bill, Payment
from portal.payments.services import format_pence, parse_amount

PURPOSE = "bill"


def find_bill(bill_type: BillType, reference: str) -> Bill | None:
    return db.session.scalar(
        select(Bill).where(Bill.bill_type == bill_type.code, Bill.reference == reference)
    )


def check_reference(bill_type: BillType, text: str) -> tuple[Bill | None, str]:
    """The bill for a typed reference, or a message saying what is wrong with it."""
    reference = bill_type.normalise(text)
    if not reference:
        return None, "Enter your reference"
    if not bill_type.well_formed(reference):
        return (
            None,
            f"Enter your {bill_type.short} reference in the right format: {bill_type.reference_hint}",
        )
    if not bill_type.check_digit_ok(reference):
        return None, (
            f"Check your {bill_type.short} reference: it is not a valid reference. "
            "Copy it exactly as it appears on your bill"
        )
    bill = find_bill(bill_type, reference)
    if bill is None:
        return None, (
            f"We cannot find a {bill_type.short} with the reference {reference}. "
            "Check it against your bill"
        )
    if bill_type.fixed_amount and already_paid(bill):
        return None, f"The {bill_type.short} {reference} has already been paid"
    return bill, ""


def already_paid(bill: Bill) -> bool:
    return (
        db.session.scalar(
            select(Payment.id).where(
                Payment.purpose == PURPOSE,
                Payment.purpose_ref == purpose_ref(bill),
                Payment.state.in_(PAID_STATES),
            )
        )
        is not None
    )


def settled_by(payment: Payment) -> str | None:
    """For a fixed-amount bill, the other payment that has already paid it (checked at success).

    The bill row is locked first, so two payments succeeding at once are decided one at a time.
    """
    bill_type_code, _, reference = payment.purpose_ref.partition(":")
    bill_type = BILL_TYPES.get(bill_type_code)
    if bill_type is None or not bill_type.fixed_amount:
        return None
    db.session.scalar(
        select(Bill.id)
        .where(Bill.bill_type == bill_type_code, Bill.reference == reference)
        .with_for_update()
    )
    return db.session.scalar(
        select(Payment.reference)
        .where(
            Payment.purpose == PURPOSE,
            Payment.purpose_ref == payment.purpose_ref,
            Payment.id != payment.id,
            Payment.state.in_((SUCCESS, PARTIALLY_REFUNDED)),
        )
        .order_by(Payment.id)
        .limit(1)
    )


def purpose_ref(bill: Bill) -> str:
    return f"{bill.bill_type}:{bill.reference}"


def amount_for(bill_type: BillType, bill: Bill | None, typed: str | None) -> tuple[int | None, str]:
    """The amount to take: fixed by the bill where it says so (anything typed is ignored)."""
    if bill_type.fixed_amount:
        if bill is None:
            return None, ""
        return bill.fixed_amount_pence, ""
    return parse_amount(typed, bill_type.max_pence)


def description_for(bill_type: BillType, bill: Bill) -> str:
    return f"{bill_type.title} {bill.reference}"


def on_bill_paid(payment: Payment) -> None:
    """Reduce what is owed on the bill (runs in the transaction that marks the payment paid)."""
    bill_type_code, _, reference = payment.purpose_ref.partition(":")
    bill = db.session.scalar(
        select(Bill).where(Bill.bill_type == bill_type_code, Bill.reference == reference)
    )
    if bill is not None:
        bill.balance_pence = max(bill.balance_pence - payment.amount_pence, 0)


def sync_deliveries() -> list[str]:
    """Declare each bill type as a live payment the portal delivers (BVPI 157 counts them)."""
    lines = []
    for bt in BILL_TYPES.values():
        set_portal_delivery(
            "payments",
            bt.code,
            bt.lgsl,
            bt.lgil,
            f"Pay your {bt.short}",
            f"/pay/{bt.code}",
        )
        lines.append(f"Pay {bt.short}: LGSL {bt.lgsl}, LGIL {bt.lgil}")
    return lines


def register(app: Flask) -> None:
    from portal.payments.services import register_payment_purpose

    register_payment_purpose(app, PURPOSE, on_bill_paid, settled_by=settled_by)


__all__ = ["check_reference", "format_pence", "sync_deliveries"]
