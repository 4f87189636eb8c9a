"""A repair's life as one state machine: which action may move a repair from which status.

Every change of a repair's status goes through `next_status`, so the table below is the whole
truth (docs/repairs.md draws it). The appointment rules that go with it are applied by
`portal.repairs.services`:

- a repair is `booked` exactly while it holds one live (booked) appointment;
- cancelling the appointment puts the repair back to where it was waiting (reported or triaged);
- completing or cancelling a repair ends its live appointment: a future one is cancelled and its
  place in the slot released, one on or before the day of completion counts as attended;
- "not fixed" reopens a completed repair as reported, with no appointment: it needs a new one.
"""

from __future__ import annotations

REPORTED = "reported"
TRIAGED = "triaged"
BOOKED = "booked"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
CANCELLED = "cancelled"
STATUSES = (REPORTED, TRIAGED, BOOKED, IN_PROGRESS, COMPLETED, CANCELLED)

# "Back to where it was waiting for an appointment": reported, or triaged if staff triaged it.
AWAITING = "awaiting"

TRIAGE = "triage"
BOOK = "book"
CANCEL_APPOINTMENT = "cancel_appointment"
START = "start"
COMPLETE = "complete"
CANCEL = "cancel"
WITHDRAW = "withdraw"  # the tenant cancels their own repair before work starts
REOPEN = "reopen"

# (action, from status) -> to status. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (TRIAGE, REPORTED): TRIAGED,
    (BOOK, REPORTED): BOOKED,
    (BOOK, TRIAGED): BOOKED,
    (BOOK, BOOKED): BOOKED,  # moving the appointment
    (CANCEL_APPOINTMENT, BOOKED): AWAITING,
    (START, REPORTED): IN_PROGRESS,
    (START, TRIAGED): IN_PROGRESS,
    (START, BOOKED): IN_PROGRESS,
    (COMPLETE, REPORTED): COMPLETED,
    (COMPLETE, TRIAGED): COMPLETED,
    (COMPLETE, BOOKED): COMPLETED,
    (COMPLETE, IN_PROGRESS): COMPLETED,
    (CANCEL, REPORTED): CANCELLED,
    (CANCEL, TRIAGED): CANCELLED,
    (CANCEL, BOOKED): CANCELLED,
    (CANCEL, IN_PROGRESS): CANCELLED,
    (WITHDRAW, REPORTED): CANCELLED,
    (WITHDRAW, TRIAGED): CANCELLED,
    (WITHDRAW, BOOKED): CANCELLED,  # until the day before the appointment, checked by services
    (REOPEN, COMPLETED): REPORTED,  # within REOPEN_DAYS of completion, checked by services
}
ACTIONS = (TRIAGE, BOOK, CANCEL_APPOINTMENT, START, COMPLETE, CANCEL, WITHDRAW, REOPEN)

# What staff choose on the status form: the status they want and the action that gets there.
STAFF_ACTIONS = {TRIAGED: TRIAGE, IN_PROGRESS: START, COMPLETED: COMPLETE, CANCELLED: CANCEL}

_REFUSED = {
    TRIAGE: "it cannot be marked as triaged",
    BOOK: "an appointment cannot be booked",
    CANCEL_APPOINTMENT: "there is no appointment to cancel",
    START: "it cannot be marked as in progress",
    COMPLETE: "it cannot be completed",
    CANCEL: "it cannot be cancelled",
    WITHDRAW: "it cannot be cancelled online",
    REOPEN: "it cannot be reopened",
}
_STATUS_WORDS = {
    REPORTED: "reported",
    TRIAGED: "triaged",
    BOOKED: "booked",
    IN_PROGRESS: "in progress",
    COMPLETED: "completed",
    CANCELLED: "cancelled",
}


class RepairsError(ValueError):
    """A rule refused the action; the message is for the person who asked."""


class TransitionRefused(RepairsError):
    """The state machine has no such move from the repair's status."""


def allows(status: str, action: str) -> bool:
    return (action, status) in TRANSITIONS


def next_status(status: str, action: str) -> str:
    """The status `action` leads to from `status` (may be AWAITING), or a clear refusal."""
    if action not in ACTIONS:
        raise TransitionRefused("Choose what to do with the repair")
    try:
        return TRANSITIONS[(action, status)]
    except KeyError:
        raise TransitionRefused(refusal(status, action)) from None


def refusal(status: str, action: str) -> str:
    if STAFF_ACTIONS.get(status) == action:
        return f"This repair is already {_STATUS_WORDS[status]}"
    return f"This repair is {_STATUS_WORDS.get(status, status)}, so {_REFUSED[action]}"


def staff_choices(status: str) -> list[str]:
    """The statuses staff may move a repair to from `status` on the status form."""
    return [target for target, action in STAFF_ACTIONS.items() if allows(status, action)]
