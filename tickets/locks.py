"""Row locks, always taken in primary-key order so two actions never deadlock."""

from collections.abc import Iterable

from django.db.models import QuerySet

from .models import Ticket


def tickets_for_update(ids: Iterable[int] | None = None) -> QuerySet[Ticket]:
    queryset = Ticket.objects.select_for_update(of=("self",)).order_by("pk")
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset


def lock_ticket(ticket_id: int) -> Ticket:
    """Lock one ticket row for the rest of the transaction and return it fresh."""
    return tickets_for_update().select_related("queue", "category", "requester", "assignee").get(pk=ticket_id)
