"""SLA reads used by ticket lists: breached / at-risk filters.

SCAFFOLD — works on the ticket's denormalised due columns; the SLA engine
(issue 4) switches it to the SLA records (ever breached, warning thresholds).
"""

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from tickets.models import OPEN_STATUSES

AT_RISK_WINDOW = timedelta(hours=1)


def filter_breached(queryset: QuerySet, value: bool) -> QuerySet:
    now = timezone.now()
    overdue = Q(status__in=OPEN_STATUSES) & (
        Q(resolution_due_at__lt=now) | Q(first_responded_at__isnull=True, first_response_due_at__lt=now)
    )
    return queryset.filter(overdue) if value else queryset.exclude(overdue)


def filter_at_risk(queryset: QuerySet, value: bool) -> QuerySet:
    now = timezone.now()
    soon = Q(status__in=OPEN_STATUSES) & (
        Q(resolution_due_at__gte=now, resolution_due_at__lt=now + AT_RISK_WINDOW)
        | Q(
            first_responded_at__isnull=True,
            first_response_due_at__gte=now,
            first_response_due_at__lt=now + AT_RISK_WINDOW,
        )
    )
    return queryset.filter(soon) if value else queryset.exclude(soon)
