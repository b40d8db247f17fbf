"""Percentiles: PostgreSQL's percentile_cont and the portable fallback agree, to the minute."""

from datetime import date, timedelta

import pytest
from django.db import NotSupportedError, connection
from django.db.models import Count, Q

from escalation.metrics import aggregates
from escalation.metrics.aggregates import Pct, Percentile, figures, percentile_of_sorted
from escalation.metrics.figures import dashboard
from escalation.metrics.filters import parse_filters
from escalation.sla.models import SlaRecord
from tickets.models import Ticket

from .conftest import NOW, VIEWER_ZONE


def test_fallback_interpolates_like_percentile_cont():
    # position p·(n−1): 0.5 × 3 = 1.5 → between 2 and 3; 0.9 × 3 = 2.7 → 3 + 0.7 × (10 − 3)
    assert percentile_of_sorted([1, 2, 3, 10], 0.5) == 2.5
    assert percentile_of_sorted([1, 2, 3, 10], 0.9) == pytest.approx(7.9)
    assert percentile_of_sorted([7], 0.9) == 7.0
    assert percentile_of_sorted([], 0.5) is None
    assert percentile_of_sorted([timedelta(minutes=20), timedelta(minutes=60)], 0.9) == timedelta(minutes=56)


def test_a_fraction_outside_0_1_is_refused():
    with pytest.raises(ValueError):
        Percentile("tier1_seconds", 1.5)


@pytest.mark.django_db
def test_sqlite_has_no_native_percentile_and_says_so(week):
    if connection.vendor == "postgresql":
        pytest.skip("checks the SQLite refusal")
    with pytest.raises(NotSupportedError):
        SlaRecord.objects.aggregate(p=Percentile("tier1_seconds", 0.5))


@pytest.mark.postgres
@pytest.mark.django_db
def test_percentile_cont_and_the_fallback_agree_grouped_and_filtered(week):
    queryset = SlaRecord.objects.all()
    spec = {
        "p50": Pct("tier1_seconds", 0.5),
        "p90": Pct("tier1_seconds", 0.9),
        "p90_met": Pct("awaiting_tier2_seconds", 0.9, filter=Q(stage="met")),
    }
    for group_by in ((), ("target",), ("target", "cycle")):
        native = figures(queryset, group_by=group_by, aggregates={"n": Count("pk")}, percentiles=spec, native=True)
        fallback = figures(queryset, group_by=group_by, aggregates={"n": Count("pk")}, percentiles=spec, native=False)
        assert len(native) == len(fallback)
        for left, right in zip(native, fallback, strict=True):
            assert left.keys() == right.keys()
            for key in left:
                assert left[key] == pytest.approx(right[key]), (group_by, key)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_whole_dashboard_is_the_same_with_the_fallback(week, monkeypatch):
    filters = parse_filters({"from": "2025-01-06", "to": "2025-01-12"}, time_zone=VIEWER_ZONE, today=date(2025, 1, 12))
    native = dashboard(tickets=Ticket.objects.all(), filters=filters, now=NOW)
    monkeypatch.setattr(aggregates, "native_percentiles", lambda: False)
    fallback = dashboard(tickets=Ticket.objects.all(), filters=filters, now=NOW)
    assert fallback == native
