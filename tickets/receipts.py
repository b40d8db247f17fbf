"""What whoever logged a security ticket is told: its reference, that Security has it, what comes next.

The logger may not be cleared to read the ticket afterwards, so the receipt says
only what is safe: reference, status, the team, and the first-response deadline.
"""

from django.utils import timezone

from .models import Ticket

HANDED_TO_SECURITY = "Handed to Security"


def security_receipt(ticket: Ticket) -> dict:
    due = ticket.first_response_due_at
    when = f"by {timezone.localtime(due):%H:%M %Z on %a %d %b}" if due else "as soon as possible"
    return {
        "id": ticket.pk,
        "reference": ticket.reference,
        "status": ticket.status,
        "priority": ticket.priority,
        "handed_to": ticket.queue.name if ticket.queue.is_security else "Security",
        "detail": f"{HANDED_TO_SECURITY}: {ticket.reference} is restricted to the Security team.",
        "next_steps": [
            f"A security engineer picks it up and contacts the requester {when}.",
            "Until then: do not delete or forward the suspicious message or file, and do not reuse the password.",
            f"Quote {ticket.reference} in any call or e-mail about it; only the Security team can open it.",
        ],
    }
