"""Escalation reads. Every one starts from tickets.selectors.ticket_list_for(user)."""

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from tickets import roles
from tickets.models import Queue, Ticket, TicketStatus, Tier, User
from tickets.selectors import PERSON_COLUMNS, by_sla_urgency, ticket_list_with_related

from .models import HANDOFF_FIELDS, Escalation, EscalationPath, Outcome


def may_act_for_team(user: User, queue: Queue) -> bool:
    """Accept, return and rate belong to the receiving team (its lead and members); managers may act on any."""
    if not roles.is_tier2(user):
        return False
    if user.is_superuser or roles.can_view_dashboard(user):
        return True
    return queue.lead_id == user.pk or queue.members.filter(pk=user.pk).exists()


def who_can_act(queue: Queue) -> list[User]:
    """The people who can accept for a team (shown to everyone else instead of the buttons)."""
    people = [queue.lead] if queue.lead_id and queue.lead.is_active else []
    people += [
        user for user in queue.members.filter(is_active=True).order_by("first_name", "username") if user not in people
    ]
    return people


def tier2_queues_for(user: User) -> QuerySet[Queue]:
    return Queue.objects.filter(tier=Tier.TWO).filter(Q(members=user) | Q(lead=user)).distinct()


ACCEPTED_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


@dataclass(frozen=True)
class Tier2Queue:
    """What the Tier 2 queue page and GET /api/v1/tier2-queue/ both show."""

    queues: list[Queue]
    is_own_queues: bool  # False: the user leads or joins no Tier 2 team (a manager) and sees them all
    tickets: QuerySet[Ticket]  # awaiting acceptance, then accepted open work; most urgent first
    # The queues whose work the user may accept, return and rate (may_act_for_team, without a
    # query per queue: the user's own queues are those they lead or belong to).
    act_queue_ids: frozenset[int] = frozenset()

    @property
    def awaiting(self) -> QuerySet[Ticket]:
        return self.tickets.filter(status=TicketStatus.ESCALATED)

    @property
    def accepted(self) -> QuerySet[Ticket]:
        return self.tickets.filter(status__in=ACCEPTED_STATUSES)


def tier2_queue_for(user: User) -> Tier2Queue:
    """The Tier 2 queue: only escalated work (Tier 2 tickets awaiting acceptance or accepted and
    open) in the teams the user leads or belongs to, or every Tier 2 team for someone in none.

    Through ticket_list_for, so restricted tickets stay with those cleared to see them; rows
    carry their queue, category, people and handoffs, newest first (`ticket.handoffs`).
    """
    if not roles.is_tier2(user):
        return Tier2Queue(queues=[], is_own_queues=False, tickets=Ticket.objects.none())
    own = list(tier2_queues_for(user).select_related("lead").order_by("name"))
    queues = own or list(Queue.objects.filter(tier=Tier.TWO).select_related("lead").order_by("name"))
    # may_act_for_team: a manager (or admin) on any team; anyone else on the teams they lead or join.
    acts = user.is_superuser or roles.can_view_dashboard(user) or bool(own)
    tickets = with_handoffs(
        by_sla_urgency(ticket_list_with_related(user).select_related("queue__lead")).filter(
            queue__in=queues, tier=Tier.TWO, status__in=[TicketStatus.ESCALATED, *ACCEPTED_STATUSES]
        )
    )
    return Tier2Queue(
        queues=queues,
        is_own_queues=bool(own),
        tickets=tickets,
        act_queue_ids=frozenset(q.pk for q in queues) if acts else frozenset(),
    )


def _handoffs_prefetch(*, list_rows: bool = False) -> Prefetch:
    latest_first = Escalation.objects.select_related(
        "escalated_by", "returned_by", "rated_by", "rerouted_to", "to_queue"
    ).order_by("-escalated_at", "-id")
    if list_rows:
        latest_first = latest_first.select_related(None).select_related(*_ROW_PEOPLE).only(*HANDOFF_ROW_COLUMNS)
    return Prefetch("escalations", queryset=latest_first, to_attr="handoffs")


_ROW_PEOPLE = ("escalated_by", "returned_by", "rerouted_to")
# What a list row shows of its latest handoff (the desk's "returned by … because …", the Tier 2
# queue's trigger, quality and rating) and no more; the pages' query-budget tests fail if a
# template reaches for a column left out (one query per row).
HANDOFF_ROW_COLUMNS = (
    "id",
    "ticket",
    "escalated_at",
    "trigger",
    "is_automatic",
    "outcome",
    "rating",
    *HANDOFF_FIELDS,
    "affected_count",
    "return_reason",
    "return_note",
    "returned_missing_fields",
    "kb_reference",
    *(f"{who}__{name}" for who in ("escalated_by", "returned_by") for name in PERSON_COLUMNS),
    "rerouted_to__name",
)


def with_handoffs(tickets: QuerySet[Ticket], *, list_rows: bool = False) -> QuerySet[Ticket]:
    """Each row's handoffs, newest first, in one extra query (`ticket.handoffs[0]` is the latest).

    list_rows: only what a list row shows of them (HANDOFF_ROW_COLUMNS)."""
    return tickets.prefetch_related(_handoffs_prefetch(list_rows=list_rows))


def attach_handoffs(tickets: list[Ticket], *, list_rows: bool = False) -> list[Ticket]:
    """with_handoffs for rows already read (several lists of one page: one query for all of them)."""
    prefetch_related_objects(tickets, _handoffs_prefetch(list_rows=list_rows))
    return tickets


def escalations_for_ticket(user: User, ticket: Ticket) -> QuerySet[Escalation]:
    """The handoffs of one ticket (the caller fetched the ticket through ticket_list_for)."""
    if not roles.is_agent(user):
        return Escalation.objects.none()
    return (
        Escalation.objects.filter(ticket=ticket)
        .select_related(
            "from_queue", "to_queue", "path", "escalated_by", "accepted_by", "returned_by", "rated_by", "rule"
        )
        .order_by("-escalated_at", "-id")
    )


def latest_escalation(ticket: Ticket) -> Escalation | None:
    return Escalation.objects.filter(ticket=ticket).order_by("-escalated_at", "-id").first()


def current_escalation(ticket: Ticket) -> Escalation | None:
    """The escalation Tier 2 has now (awaiting or accepted) while the ticket is in Tier 2, else None."""
    if ticket.tier != Tier.TWO:
        return None
    return (
        Escalation.objects.filter(ticket=ticket, outcome__in=[Outcome.AWAITING, Outcome.ACCEPTED])
        .select_related("from_queue", "to_queue", "escalated_by", "accepted_by", "rated_by", "tier1_assignee")
        .order_by("-escalated_at", "-id")
        .first()
    )


def latest_decided_escalation(ticket: Ticket) -> Escalation | None:
    """The newest escalation Tier 2 accepted or returned: the one to rate."""
    return (
        Escalation.objects.filter(ticket=ticket, outcome__in=[Outcome.ACCEPTED, Outcome.RETURNED])
        .select_related("from_queue", "to_queue", "escalated_by", "accepted_by", "returned_by", "rerouted_to")
        .order_by("-escalated_at", "-id")
        .first()
    )


def path_list() -> QuerySet[EscalationPath]:
    return EscalationPath.objects.filter(is_active=True).select_related(
        "category", "queue", "to_queue", "after_hours_queue", "owner"
    )
