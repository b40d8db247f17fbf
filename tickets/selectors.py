"""Reads. Every page and endpoint starts from ticket_list_for(user) (defined in tickets.access),
so a ticket the user may not see is a 404 everywhere."""

import copy
from collections.abc import Iterable

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404

from . import configcache, roles
from .access import ticket_list_for
from .models import Attachment, Category, Comment, Queue, RoutingRule, Ticket, TicketEvent, User, sites_by_id


def by_sla_urgency(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Most urgent first: resolution due time, tickets without a target last."""
    return queryset.order_by(F("resolution_due_at").asc(nulls_last=True), "created_at", "pk")


def ticket_list_with_related(user: User) -> QuerySet[Ticket]:
    return ticket_list_for(user).select_related("queue", "category", "requester", "assignee", "site")


PERSON_COLUMNS = ("first_name", "last_name", "username")  # a person as a list row names them
# What a row of the desk's and the Tier 2 queue's lists shows (tickets/_ticket_list.html, desk.html's
# "my open tickets", tickets/_tier2_row.html), and no more: a list row read with every column of
# the ticket and its five related rows cost more in building model instances (and in Django
# hashing each selected column for the ORDER BY) than the query itself. The query-budget tests
# of both pages fail if a template reaches for a column left out here (one query per row).
LIST_ROW_COLUMNS = (
    "id",
    "title",
    "urgency",  # with the title and category: what a handoff's quality is judged against
    "priority",
    "status",
    "tier",
    "created_at",
    "first_response_due_at",
    "first_responded_at",
    "resolution_due_at",
    "requester",
    *(f"requester__{name}" for name in (*PERSON_COLUMNS, "is_vip")),
    "category",
    "site",
    "queue",
    "assignee",
    *(f"assignee__{name}" for name in PERSON_COLUMNS),
)


def list_rows(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """`tickets` reading only the list rows' columns, joined to their people alone; evaluate it
    through with_configuration() for the category, site and queue."""
    return tickets.select_related(None).select_related("requester", "assignee").only(*LIST_ROW_COLUMNS)


# A ticket's configuration rows (tickets.configcache watches these models).
CONFIGURATION_FIELDS = ("category", "site", "queue", "routing_rule")


def _configuration_by_id() -> dict[str, dict[int, object]]:
    return {
        "category": {row.pk: row for row in Category.objects.all()},
        "site": sites_by_id(),  # the one site map (tickets.models: intake's and the clocks' time zones)
        "queue": {row.pk: row for row in Queue.objects.all()},
        "routing_rule": {row.pk: row for row in RoutingRule.objects.all()},
    }


def with_configuration(tickets: Iterable[Ticket], *, queues: Iterable[Queue] = ()) -> list[Ticket]:
    """The rows with their category, site, queue and routing rule from the configuration cache
    (`queues`: the caller's own reads of some queues, e.g. with their leads, used first).

    A list joined to those four tables made PostgreSQL plan a 7-table join for every request
    (7–10 ms at 1M tickets, for a 0.5 ms execution: the join order search, not the data); the
    people alone plan in ~0.3 ms. Each call hangs its own copies (one per row it names, shared
    by the rows of this call), so nothing cached across requests by the rows is ever seen by
    another request. A row naming a configuration row the cache does not know yet (created
    after this request read the stamp) reads it as before, when the row is used.
    """
    tickets = list(tickets)
    known = configcache.cached("configuration_by_id", _configuration_by_id)
    own = {queue.pk: queue for queue in queues}
    copies: dict[tuple[str, int], object] = {}
    for name in CONFIGURATION_FIELDS:
        field = Ticket._meta.get_field(name)
        for ticket in tickets:
            key = vars(ticket).get(field.attname)  # None too when the column was not read (deferred)
            if key is None or field.is_cached(ticket):
                continue
            if name == "queue" and key in own:
                field.set_cached_value(ticket, own[key])
            elif key in known[name]:
                if (name, key) not in copies:
                    copies[name, key] = copy.copy(known[name][key])
                field.set_cached_value(ticket, copies[name, key])
    return tickets


def ticket_get_for(user: User, ticket_id: int) -> Ticket:
    try:
        return ticket_list_with_related(user).get(pk=ticket_id)
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise Http404("No such ticket.") from None


def ticket_receipt_for(user: User, ticket_id: int) -> Ticket:
    """The ticket whose receipt this user may read: they logged it, asked for it or escalated it.

    Deliberately outside ticket_list_for: a receipt shows only the reference, status and team
    (tickets.receipts), which the person who handed the ticket over already knows.
    """
    if not user.is_authenticated:
        raise Http404("No such ticket.")
    involved = Q(created_by=user) | Q(requester=user) | Q(escalations__escalated_by=user)
    ticket = Ticket.objects.filter(involved, pk=ticket_id).select_related("queue").first()
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


def comment_list_for(user: User, ticket: Ticket) -> QuerySet[Comment]:
    comments = ticket.comments.select_related("author")
    if roles.is_agent(user):
        return comments.prefetch_related("attachments")
    # A requester sees public replies and only their public files (not even an internal file's name).
    public_files = Prefetch("attachments", queryset=Attachment.objects.filter(is_public=True))
    return comments.filter(is_public=True).prefetch_related(public_files)


def attachment_list_for(user: User, ticket: Ticket) -> QuerySet[Attachment]:
    attachments = ticket.attachments.select_related("uploaded_by")
    return attachments if roles.is_agent(user) else attachments.filter(is_public=True)


def timeline_for(user: User, ticket: Ticket) -> QuerySet[TicketEvent]:
    events = ticket.events.select_related("actor")
    if not roles.is_agent(user):
        events = events.filter(is_public=True)
    return events


def watchers_of(ticket: Ticket) -> list[User]:
    return list(ticket.watchers.filter(is_active=True).order_by("first_name", "last_name", "username"))


def links_of(user: User, ticket: Ticket) -> QuerySet[Ticket]:
    """Tickets linked to this one that the user may see."""
    return (
        ticket_list_for(user)
        .filter(Q(links_in__ticket=ticket) | Q(links_out__other=ticket))
        .select_related("queue")
        .distinct()
        .order_by("pk")
    )


def people_notified_per_event(ticket: Ticket) -> dict[int, int]:
    """event id → how many distinct people its notifications went to (any channel, counted once)."""
    from tickets.notifications.models import Notification

    rows = (
        Notification.objects.filter(ticket=ticket, recipient__isnull=False, event__isnull=False)
        .values("event_id")
        .annotate(people=Count("recipient", distinct=True))
        .order_by()
    )
    return {row["event_id"]: row["people"] for row in rows}
