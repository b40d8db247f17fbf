"""Which action may move a ticket from which status, in one table.

Tier rules sit beside the status rules: escalate is Tier 1 only; accept and
return only apply to a ticket awaiting Tier 2.
"""

from .errors import InvalidTransition
from .models import Ticket, TicketStatus, Tier

S = TicketStatus

# action → (statuses it may start from, status it ends in; None keeps the status)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "assign": (frozenset({S.NEW, S.OPEN, S.PENDING}), None),
    "start": (frozenset({S.NEW}), S.OPEN),
    "pending": (frozenset({S.NEW, S.OPEN}), S.PENDING),
    "resume": (frozenset({S.PENDING}), S.OPEN),
    "escalate": (frozenset({S.NEW, S.OPEN, S.PENDING}), S.ESCALATED),
    "accept": (frozenset({S.ESCALATED}), S.OPEN),
    "return": (frozenset({S.ESCALATED}), S.OPEN),
    "reassign": (frozenset({S.NEW, S.OPEN, S.PENDING, S.ESCALATED}), None),
    "resolve": (frozenset({S.NEW, S.OPEN, S.PENDING}), S.RESOLVED),
    "reopen": (frozenset({S.RESOLVED, S.CLOSED}), S.OPEN),
    "close": (frozenset({S.RESOLVED}), S.CLOSED),
    "update": (frozenset({S.NEW, S.OPEN, S.PENDING, S.ESCALATED}), None),
    "comment": (frozenset(S.values), None),
    # a duplicate is closed into its primary from any state but closed; the primary must still be open
    "merge": (frozenset({S.NEW, S.OPEN, S.PENDING, S.ESCALATED, S.RESOLVED}), S.CLOSED),
    "merge_into": (frozenset({S.NEW, S.OPEN, S.PENDING, S.ESCALATED}), None),
}

TIER_RULES: dict[str, int] = {"escalate": Tier.ONE}


def allowed_actions(ticket: Ticket) -> set[str]:
    return {action for action in TRANSITIONS if _refusal(ticket, action) is None}


def check_transition(ticket: Ticket, action: str) -> str:
    """Return the status the action leads to, or raise InvalidTransition."""
    refusal = _refusal(ticket, action)
    if refusal:
        raise InvalidTransition(refusal)
    target = TRANSITIONS[action][1]
    return target or ticket.status


def check_refusal(ticket: Ticket, action: str) -> str | None:
    """Why the action may not be taken now (what check_transition would raise), else None."""
    return _refusal(ticket, action)


def _refusal(ticket: Ticket, action: str) -> str | None:
    sources, _ = TRANSITIONS[action]
    if ticket.status not in sources:
        return f"{ticket.reference} is {ticket.get_status_display().lower()}; it cannot be {_past(action)} now."
    required_tier = TIER_RULES.get(action)
    if required_tier and ticket.tier != required_tier:
        return f"{ticket.reference} is already in Tier {ticket.tier}; only Tier 1 tickets can be escalated."
    return None


def _past(action: str) -> str:
    return {
        "assign": "assigned",
        "start": "started",
        "pending": "set to waiting",
        "resume": "resumed",
        "escalate": "escalated",
        "accept": "accepted",
        "return": "returned",
        "reassign": "reassigned",
        "resolve": "resolved",
        "reopen": "reopened",
        "close": "closed",
        "update": "edited",
        "comment": "commented on",
        "merge": "merged into another ticket",
        "merge_into": "the primary of a merge",
    }[action]
