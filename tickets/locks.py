"""Row locks, always taken in primary-key order so two actions never deadlock; and the
one way a service saves a locked ticket (bumping its version)."""

from collections.abc import Iterable

from django.db.models import F, QuerySet

from .models import Ticket


def tickets_for_update(ids: Iterable[int] | None = None) -> QuerySet[Ticket]:
    queryset = Ticket.objects.select_for_update(of=("self",)).order_by("pk")
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset


def lock_ticket(ticket_id: int) -> Ticket:
    """Lock one ticket row for the rest of the transaction and return it fresh.

    Lock first without joins, then read with them. PostgreSQL re-checks a FOR UPDATE
    row that a concurrent transaction changed against the *old* joined rows, so a join
    on a foreign key the winner just changed (queue, assignee) would make the row vanish
    for the loser (DoesNotExist → 500) instead of showing it the new state (→ 409).
    """
    if not tickets_for_update([ticket_id]).values_list("pk", flat=True):
        raise Ticket.DoesNotExist(f"No ticket {ticket_id}.")
    # the lock is held: this read sees the latest committed version
    return Ticket.objects.select_related("queue", "category", "requester", "assignee").get(pk=ticket_id)


def save_ticket(ticket: Ticket, fields: Iterable[str]) -> None:
    """Save the named fields of a ticket the caller holds locked, and bump its version
    (optimistic-locking readers see the change; updated_at follows)."""
    ticket.version = F("version") + 1
    ticket.save(update_fields=[*fields, "version", "updated_at"])
    ticket.refresh_from_db(fields=["version"])
