"""Demo data: bills payable by reference, and payments in every state (idempotent)."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import User, UserRole
from portal.common.models import utcnow
from portal.extensions import db
from portal.payments import billing
from portal.payments.bills import BILL_TYPES, make_reference
from portal.payments.models import (
    CANCELLED,
    EXPIRED,
    FAILED,
    SOURCE_RECONCILER,
    SOURCE_RETURN,
    SOURCE_WEBHOOK,
    STARTED,
    SUCCESS,
    Bill,
    SandboxCharge,
)
from portal.payments.services import create_payment, refund_payment, transition

# (bill type, number without check character, payer hint, balance or fixed amount in pence)
DEMO_BILLS = [
    ("council_tax", "40010001", "14 Mill Lane, Castlebrook", 145_000),
    ("council_tax", "40010002", "2 Orchard Close, Castlebrook", 98_750),
    ("council_tax", "40010004", "7 Station Road, Castlebrook", 176_020),
    ("business_rates", "600100200", "The Corner Café, Market Square", 412_500),
    ("business_rates", "600100300", "Castlebrook Hardware, High Street", 1_280_000),
    ("housing_rent", "5001001", "Flat 3, Riverside House", 48_600),
    ("housing_rent", "5001002", "Flat 9, Riverside House", 51_200),
    ("parking_penalty", "10000001", "Vehicle CK21 ABC, Market Street", 7_000),
    ("parking_penalty", "10000002", "Vehicle CK19 XYZ, Castle Car Park", 3_500),
    ("sundry_invoice", "2001001", "Castlebrook Allotment Society", 25_000),
]


def _user(email: str, name: str, roles: tuple[str, ...] = ()) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, display_name=name, email_confirmed_at=utcnow())
        user.role_rows = [UserRole(role=r) for r in roles]
        db.session.add(user)
        db.session.flush()
    return user


def load_demo_bills() -> list[Bill]:
    bills = []
    for code, number, hint, pence in DEMO_BILLS:
        reference = make_reference(code, number)
        bill = billing.find_bill(BILL_TYPES[code], reference)
        if bill is None:
            fixed = BILL_TYPES[code].fixed_amount
            bill = Bill(
                bill_type=code,
                reference=reference,
                payer_hint=hint,
                fixed_amount_pence=pence if fixed else None,
                balance_pence=pence,
            )
            db.session.add(bill)
        bills.append(bill)
    db.session.flush()
    return bills


def _demo_payment(state: str, bill: Bill, user: User | None, finance: User, **extra) -> None:
    session_id = f"sbx_demo_{state}_{bill.reference}"
    if db.session.scalar(select(SandboxCharge.id).where(SandboxCharge.session_id == session_id)):
        return
    bt = BILL_TYPES[bill.bill_type]
    amount = bill.fixed_amount_pence or min(bill.balance_pence, 12_500)
    payment = create_payment(
        purpose=billing.PURPOSE,
        purpose_ref=billing.purpose_ref(bill),
        description=billing.description_for(bt, bill),
        amount_pence=amount,
        lgsl=bt.lgsl,
        lgil=bt.lgil,
        user_id=user.id if user else None,
        email=user.email if user else "caller@example.com",
        return_url="",
        fund=bt.fund,
        **extra,
    )
    charge = SandboxCharge(
        session_id=session_id,
        payment_reference=payment.reference,
        description=payment.description,
        amount_pence=amount,
        status=SandboxCharge.OPEN,
        return_url="/",
        cancel_url="/",
        log=["demo"],
    )
    db.session.add(charge)
    payment.gateway, payment.gateway_session_id = "sandbox", session_id
    if state == "created":
        return
    transition(payment, STARTED, "portal", "demo")
    if state == STARTED:
        return
    final = {"refunded": SUCCESS, "partially_refunded": SUCCESS}.get(state, state)
    charge.status = {
        SUCCESS: SandboxCharge.SUCCEEDED,
        FAILED: SandboxCharge.DECLINED,
        CANCELLED: SandboxCharge.CANCELLED,
        EXPIRED: SandboxCharge.EXPIRED,
    }[final]
    if final == SUCCESS:
        charge.card_last4 = "4242"
        payment.card_summary = "Test card ending 4242"
        payment.gateway_payment_id = session_id
    source = {EXPIRED: SOURCE_RECONCILER, FAILED: SOURCE_WEBHOOK}.get(final, SOURCE_RETURN)
    transition(payment, final, source, "demo")
    db.session.flush()
    if state == "refunded":
        refund_payment(
            payment.reference, amount, "Paid twice (demo)", f"demo-{session_id}", finance
        )
    elif state == "partially_refunded":
        refund_payment(payment.reference, 1_000, "Overpaid (demo)", f"demo-{session_id}", finance)


def load_demo_payments() -> list[str]:
    finance = _user("finance@castlebrook.example", "Farah Finance", ("finance",))
    residents = [_user(f"resident{i}@castlebrook.example", f"Demo Resident {i}") for i in (1, 2, 3)]
    bills = load_demo_bills()
    by_type = {}
    for bill in bills:
        by_type.setdefault(bill.bill_type, []).append(bill)
    plan = [
        ("created", by_type["council_tax"][0], residents[0]),
        ("started", by_type["business_rates"][0], residents[1]),
        (SUCCESS, by_type["council_tax"][1], residents[0]),
        (FAILED, by_type["housing_rent"][0], residents[1]),
        (CANCELLED, by_type["sundry_invoice"][0], residents[2]),
        (EXPIRED, by_type["housing_rent"][1], residents[2]),
        ("partially_refunded", by_type["business_rates"][1], residents[1]),
        ("refunded", by_type["council_tax"][2], residents[2]),
    ]
    for state, bill, user in plan:
        _demo_payment(state, bill, user, finance)
    _demo_payment(
        SUCCESS, by_type["parking_penalty"][1], None, finance, channel="phone", staff_id=finance.id
    )
    lines = billing.sync_deliveries()
    db.session.commit()
    out = ["demo bill references (pay them at /pay):"]
    for bill in bills:
        bt = BILL_TYPES[bill.bill_type]
        amount = f" (fixed {bill.fixed_amount_pence / 100:.2f})" if bill.fixed_amount_pence else ""
        out.append(f"  {bt.title}: {bill.reference}{amount} – {bill.payer_hint}")
    out.append(
        "sandbox test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined, "
        "4000 0025 0000 3155 asks for 3-D Secure confirmation"
    )
    out.extend(f"live delivery: {line}" for line in lines)
    return out
