"""What the ticket lifecycle tells the SLA engine, inside the same transaction.

Each is called by a tickets/escalation service after it changed the ticket
(and holds its row lock) and before it returns. The work lives in
escalation.sla.services; these are the stable names other apps call.
"""

from . import services


def ticket_created(*, ticket) -> None:
    """Start first-response, resolution and Tier 1 budget clocks for cycle 1."""
    services.start_clocks(ticket=ticket, at=ticket.created_at)


def first_response_given(*, ticket, at) -> None:
    """Stop the first-response clock (met or breached)."""
    services.stop_target(ticket=ticket, target="first_response", at=at)


def agent_replied(*, ticket, at) -> None:
    """An agent's public reply answers a waiting requester (next-response target)."""
    services.stop_target(ticket=ticket, target="next_response", at=at)


def requester_replied(*, ticket, at) -> None:
    """The requester wrote; start a next-response clock if none runs."""
    services.start_next_response(ticket=ticket, at=at)


def ticket_paused(*, ticket, at, acting_user, reason) -> None:
    """Waiting on the requester: pause the clocks that pause (the service wrote the timeline entry)."""
    services.pause_clocks(ticket=ticket, at=at)


def ticket_resumed(*, ticket, at, acting_user, reason) -> None:
    """Resume paused clocks; due times move out by the paused business time."""
    services.resume_clocks(ticket=ticket, at=at)


def ticket_tier_changed(*, ticket, at, action) -> None:
    """Escalated (awaiting Tier 2), accepted (Tier 2) or returned (Tier 1): switch the tier split."""
    services.change_tier(ticket=ticket, at=at, action=action)


def ticket_resolved(*, ticket, at) -> None:
    """Stop running clocks: met or breached."""
    services.stop_all(ticket=ticket, at=at)


def ticket_reopened(*, ticket, at) -> None:
    """Start a new cycle, keeping the old records."""
    services.start_cycle(ticket=ticket, at=at)


def ticket_targets_changed(*, ticket, at) -> None:
    """Priority or category changed: recompute due times from the original start."""
    services.recompute_targets(ticket=ticket, at=at)
