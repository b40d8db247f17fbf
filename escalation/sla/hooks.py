"""What the ticket lifecycle tells the SLA engine, inside the same transaction.

SCAFFOLD — the SLA engine (issue 4) implements these. Each is called by a
tickets/escalation service after it changed the ticket and before it returns.
"""


def ticket_created(*, ticket) -> None:
    """Start first-response, resolution and Tier 1 budget clocks for cycle 1."""


def first_response_given(*, ticket, at) -> None:
    """Stop the first-response clock (met or breached)."""


def agent_replied(*, ticket, at) -> None:
    """An agent's public reply answers a waiting requester (next-response target)."""


def requester_replied(*, ticket, at) -> None:
    """The requester wrote; start a next-response clock if none runs."""


def ticket_paused(*, ticket, at, acting_user, reason) -> None:
    """Waiting on the requester: pause the clocks that pause."""


def ticket_resumed(*, ticket, at, acting_user, reason) -> None:
    """Resume paused clocks; due times move out by the paused business time."""


def ticket_tier_changed(*, ticket, at, action) -> None:
    """Escalated (awaiting Tier 2), accepted (Tier 2) or returned (Tier 1): switch the tier split."""


def ticket_resolved(*, ticket, at) -> None:
    """Stop running clocks: met or breached."""


def ticket_reopened(*, ticket, at) -> None:
    """Start a new cycle, keeping the old records."""


def ticket_targets_changed(*, ticket, at) -> None:
    """Priority or category changed: recompute due times from the original start."""
