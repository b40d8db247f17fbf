"""Plain language: what a person reads instead of codes.

Statuses worded for the requester, labels for codes, and plurals that are right.
"""

from . import roles
from .models import TicketStatus, User

# The requester does not know our tiers: say what is happening to their request.
REQUESTER_STATUS_LABELS = {
    TicketStatus.NEW: "Received",
    TicketStatus.OPEN: "In progress",
    TicketStatus.PENDING: "Waiting for your reply",
    TicketStatus.ESCALATED: "With our specialist team",
    TicketStatus.RESOLVED: "Resolved",
    TicketStatus.CLOSED: "Closed",
}


def status_label_for(ticket, viewer: User | None) -> str:
    """The status as this viewer should read it (agents see the desk's wording)."""
    if viewer is not None and roles.is_agent(viewer):
        return ticket.get_status_display()
    if ticket.status == TicketStatus.OPEN and ticket.tier == 2:
        return REQUESTER_STATUS_LABELS[TicketStatus.ESCALATED]
    return REQUESTER_STATUS_LABELS.get(ticket.status, ticket.get_status_display())


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 person', '3 people', '0 tickets'."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def humanize_key(key: str) -> str:
    """'steps_tried' → 'Steps tried'; 'mfa-methods' → 'Mfa methods' (for keys with no label)."""
    text = key.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]
