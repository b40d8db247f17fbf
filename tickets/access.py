"""Who may see which tickets: the one scope every read starts from.

It sits in the ticket core so that the outbox can check a recipient's clearance
without reaching up into the selectors; `tickets.selectors.ticket_list_for` is this.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from . import roles
from .models import Ticket, User


def ticket_list_for(user: User) -> QuerySet[Ticket]:
    if not user.is_authenticated or not user.is_active:
        return Ticket.objects.none()
    queryset = Ticket.objects.all()
    if not roles.is_agent(user):
        # their own requests, and those they are CC'd on (a merged duplicate's requester included)
        watching = Ticket.watchers.through.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk)
        return queryset.filter(Q(requester=user) | Exists(watching))
    if not roles.can_see_restricted(user):
        queryset = queryset.filter(is_restricted=False)
    return queryset


def may_see(user: User, ticket: Ticket) -> bool:
    """Whether this person may see this ticket (the same rule as ticket_list_for, for one ticket)."""
    return ticket_list_for(user).filter(pk=ticket.pk).exists()


def may_see_by_row(user: User, ticket: Ticket) -> bool:
    """ticket_list_for's rule judged from the row in hand, with no query, where the row can tell:
    an agent (cleared for it when it is restricted) or the ticket's requester sees it. False when
    only may_see can tell (someone copied in on it)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if roles.is_agent(user):
        return not ticket.is_restricted or roles.can_see_restricted(user)
    return ticket.requester_id == user.pk
