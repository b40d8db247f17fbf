"""Escalation reads. Every one starts from tickets.selectors.ticket_list_for(user)."""

from django.db.models import F, Q, QuerySet

from tickets import roles
from tickets.models import Queue, Ticket, TicketStatus, Tier, User
from tickets.selectors import ticket_list_for

from .models import Escalation, EscalationPath, Outcome


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


def tier2_queue_for(user: User) -> QuerySet[Escalation]:
    """Escalations awaiting acceptance in the user's Tier 2 queues, most urgent SLA first.

    Rows carry the ticket, its category and requester, both queues and the
    escalator (no N+1); `completeness` and `trigger` come from the row itself.
    """
    if not roles.is_tier2(user):
        return Escalation.objects.none()
    queue_ids = list(tier2_queues_for(user).values_list("pk", flat=True))
    return (
        Escalation.objects.filter(
            outcome=Outcome.AWAITING,
            to_queue_id__in=queue_ids,
            ticket__in=ticket_list_for(user).filter(status=TicketStatus.ESCALATED),
        )
        .select_related(
            "ticket",
            "ticket__category",
            "ticket__requester",
            "ticket__site",
            "from_queue",
            "to_queue",
            "escalated_by",
            "path",
        )
        .order_by(F("ticket__resolution_due_at").asc(nulls_last=True), "escalated_at", "id")
    )


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
