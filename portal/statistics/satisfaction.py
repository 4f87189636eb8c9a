"""User satisfaction: the optional one-question survey after a completed transaction.

Every confirmation page offers the survey through `survey_for(lgsl, lgil, ref)` (the Jinja global
`satisfaction_survey`). The form carries one signed token holding the service (LGSL), the
interaction (LGIL), the channel, the UK day and a keyed hash of the transaction's reference; the
answer stores the first four with the rating and comment and nothing else. The keyed hash goes
into `satisfaction_used_tokens` (unique), in the same database transaction as the answer and
in no way joined to it, so one transaction is rated once without storing who answered.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, session
from huey import crontab
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select

from portal.common.clock import govuk_date, uk_today
from portal.common.outbox import queue_email
from portal.common.transactions import CHANNELS, current_channel
from portal.common.urls import external_url
from portal.db import write_intent
from portal.extensions import db
from portal.jobs import huey, with_app_context
from portal.statistics.catalogue import channel_label, interaction_label, service_label
from portal.statistics.kpi_counts import add_counts
from portal.statistics.kpi_models import (
    SatisfactionAnswer,
    SatisfactionDaily,
    SatisfactionMonthly,
    UsedSurveyToken,
)

RATINGS: dict[int, str] = {
    5: "Very satisfied",
    4: "Satisfied",
    3: "Neither satisfied nor dissatisfied",
    2: "Dissatisfied",
    1: "Very dissatisfied",
}
SATISFIED = (5, 4)  # the KPI: satisfied or very satisfied, of everyone who answered
COMMENT_MAX = 1200
TOKEN_MAX_AGE_DAYS = 30
# Channels on which the resident sees the confirmation themselves; on phone and face to face the
# member of staff sees it, and their opinion is not the resident's.
SURVEY_CHANNELS = ("web", "kiosk", "kiosk_assisted")
_SALT = "portal-satisfaction-survey"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _transaction_key(ref: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"survey|{ref}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SurveyTicket:
    lgsl: int
    lgil: int
    channel: str
    day: date
    key: str

    @property
    def service(self) -> str:
        return service_label(self.lgsl)


def new_token(lgsl: int | None, lgil: int, ref: str, channel: str | None = None) -> str | None:
    """The survey token for one completed transaction, or None where no survey is offered."""
    channel = channel or current_channel()[0]
    if channel not in SURVEY_CHANNELS:
        return None
    payload = {
        "s": int(lgsl or 0),
        "i": int(lgil),
        "c": channel,
        "d": uk_today().isoformat(),
        "k": _transaction_key(ref),
    }
    return _serializer().dumps(payload)


OFFER_KEY = "portal_survey_offer"


def offer_survey(lgsl: int | None, lgil: int, ref: str, channel: str | None = None) -> None:
    """Offer the survey on the next page this browser sees (for confirmations shown as a banner
    on another page after a redirect: a repair reported or booked, a planning comment)."""
    token = new_token(lgsl, lgil, ref, channel)
    if token is not None:
        session[OFFER_KEY] = token


def take_offer() -> str | None:
    """The survey token offered to this browser, once."""
    return session.pop(OFFER_KEY, None)


def token_key(token: str) -> str | None:
    """The transaction key inside a token this portal issued (None if it is not one)."""
    try:
        return _serializer().loads(token)["k"]
    except (BadSignature, KeyError, TypeError):
        return None


class TokenProblem(ValueError):
    """The token is not one the portal issued, has expired or has been used."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind  # "invalid", "expired" or "used"


def read_token(token: str) -> SurveyTicket:
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE_DAYS * 86400)
    except SignatureExpired as exc:
        raise TokenProblem("expired") from exc
    except BadSignature as exc:
        raise TokenProblem("invalid") from exc
    try:
        ticket = SurveyTicket(
            int(data["s"]), int(data["i"]), str(data["c"]), date.fromisoformat(data["d"]), data["k"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TokenProblem("invalid") from exc
    if ticket.channel not in CHANNELS:
        raise TokenProblem("invalid")
    if db.session.get(UsedSurveyToken, ticket.key) is not None:
        raise TokenProblem("used")
    return ticket


def check_answer(rating: str, comment: str) -> list[tuple[str, str]]:
    """GOV.UK error messages for the answer, as (field href, message)."""
    errors = []
    if not rating.isdigit() or int(rating) not in RATINGS:
        errors.append(("#rating", "Select how you feel about the service you received today"))
    if len(comment) > COMMENT_MAX:
        errors.append(("#comment", f"Your comment must be {COMMENT_MAX} characters or fewer"))
    return errors


def record_answer(ticket: SurveyTicket, rating: int, comment: str) -> SatisfactionAnswer:
    """Add the answer, the used token and (for a comment) the owner's email; the caller commits.

    A second answer with the same token fails on the token's primary key at commit.
    """
    comment = comment.strip() or None
    answer = SatisfactionAnswer(
        day=ticket.day,
        lgsl=ticket.lgsl,
        lgil=ticket.lgil,
        channel=ticket.channel,
        rating=rating,
        comment=comment,
    )
    db.session.add(answer)
    add_counts(
        SatisfactionDaily.__table__,
        SatisfactionMonthly.__table__,
        ticket.day,
        {"lgsl": ticket.lgsl, "lgil": ticket.lgil, "channel": ticket.channel, "rating": rating},
        {"answers": 1},
    )
    db.session.add(UsedSurveyToken(token_hash=ticket.key, used_on=uk_today()))
    if comment:
        owner = owner_email(ticket.lgsl)
        if owner:
            queue_email(
                owner,
                f"Feedback on {ticket.service}",
                _comment_email(ticket, rating, comment),
            )
    return answer


def owner_email(lgsl: int) -> str:
    """The service owner's address (then the service's contact address) from the A to Z."""
    provider = current_app.extensions.get("portal_service_owner_email")
    return (provider(lgsl) if provider and lgsl else "") or ""


def _comment_email(ticket: SurveyTicket, rating: int, comment: str) -> str:
    return (
        f"Someone who used {ticket.service} ({interaction_label(ticket.lgil).lower()}, "
        f"{channel_label(ticket.channel).lower()}) on {govuk_date(ticket.day)} answered the "
        f"satisfaction survey.\n\n"
        f"How they felt: {RATINGS[rating]}\n\n"
        f"Their comment:\n{comment}\n\n"
        "The survey is anonymous: we do not know who sent it and cannot reply.\n\n"
        f"All comments on your services: {external_url('kpis.comments', service=ticket.lgsl)}\n"
    )


def used_token(key: str) -> bool:
    return db.session.get(UsedSurveyToken, key) is not None


def comments(lgsl: int | None, limit: int = 200) -> list[SatisfactionAnswer]:
    """The newest comments, for one service or all."""
    query = select(SatisfactionAnswer).where(SatisfactionAnswer.comment.is_not(None))
    if lgsl is not None:
        query = query.where(SatisfactionAnswer.lgsl == lgsl)
    query = query.order_by(SatisfactionAnswer.day.desc(), SatisfactionAnswer.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def purge_used_tokens(today: date | None = None) -> int:
    """Forget used tokens once every token of theirs has expired anyway; returns how many."""
    cutoff = (today or uk_today()) - timedelta(days=TOKEN_MAX_AGE_DAYS + 1)
    result = db.session.execute(delete(UsedSurveyToken).where(UsedSurveyToken.used_on < cutoff))
    return result.rowcount or 0


@huey.periodic_task(crontab(hour="3", minute="20"))
@with_app_context
def purge_used_survey_tokens() -> int:
    with write_intent():
        removed = purge_used_tokens()
        db.session.commit()
    return removed
