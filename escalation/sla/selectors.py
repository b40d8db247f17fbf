"""SLA reads: breached / at-risk filters for ticket lists, and a ticket's clocks for its page."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from tickets.models import Ticket, User

from .models import SlaPolicy, SlaRecord, Stage, SweepState

AT_RISK_WINDOW = timedelta(hours=1)


def swept_until(now: datetime) -> datetime:
    """How far the live records are swept: the last sweep's moment (never after `now`), else `now`.

    A clock that fell due since then is still running in the records, and on the dashboard,
    until the next beat marks it breached. With no sweep on record, `now`.
    """
    last = SweepState.objects.filter(pk=1).values_list("last_swept_at", flat=True).first()
    return min(last, now) if last is not None else now


def filter_breached(queryset: QuerySet, value: bool, *, ever: bool = False) -> QuerySet:
    """Tickets with a breached SLA record in the current cycle (ever=True: in any cycle)."""
    records = SlaRecord.objects.filter(ticket=OuterRef("pk"), ever_breached=True)
    if not ever:
        records = records.filter(is_current=True)
    condition = Exists(records)
    return queryset.filter(condition) if value else queryset.exclude(condition)


def filter_at_risk(queryset: QuerySet, value: bool, *, window: timedelta = AT_RISK_WINDOW) -> QuerySet:
    """Tickets with a running clock past its first warning level, or due within `window`, not yet breached."""
    now = timezone.now()
    records = SlaRecord.objects.filter(
        Q(warn_at__lte=now) | Q(due_at__lte=now + window),
        ticket=OuterRef("pk"),
        stopped_at__isnull=True,
        stage=Stage.RUNNING,
    )
    condition = Exists(records)
    return queryset.filter(condition) if value else queryset.exclude(condition)


def filter_paused(queryset: QuerySet, value: bool) -> QuerySet:
    condition = Exists(SlaRecord.objects.filter(ticket=OuterRef("pk"), stopped_at__isnull=True, stage=Stage.PAUSED))
    return queryset.filter(condition) if value else queryset.exclude(condition)


def sla_records_for_ticket(*, ticket: Ticket) -> list[SlaRecord]:
    """The ticket's clocks for its page and API (countdowns): one query, current cycle first."""
    return list(
        SlaRecord.objects.filter(ticket_id=ticket.pk)
        .select_related("policy", "calendar")
        .order_by("-is_current", "-cycle", "started_at", "id")
    )


def sla_records_for(user: User, ticket_id: int) -> list[SlaRecord]:
    """A ticket's records if the user may see the ticket (else Http404, like every ticket read)."""
    from tickets.selectors import ticket_get_for

    return sla_records_for_ticket(ticket=ticket_get_for(user, ticket_id))


def policy_list() -> QuerySet[SlaPolicy]:
    return (
        SlaPolicy.objects.filter(is_active=True)
        .select_related("calendar", "category", "site")
        .prefetch_related("ladder")
        .order_by("position", "id")
    )
