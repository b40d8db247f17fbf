"""`make bench` scenario of the SLA what-if (issue 15): 90 days at the bench's scale in ≤ 10 s.

Times what a worker does for a long period (escalation.whatif.services.what_if): the
dashboard's current figures, every ticket with a clock in the period replayed
through the SLA engine under a draft (P3 resolution halved), proposed figures and
flips. admin is cleared for restricted tickets, so nothing is scoped out.
"""

BUDGET_SECONDS = 10


def what_if_90_days():
    from datetime import timedelta

    from django.utils import timezone

    from escalation.metrics.filters import parse_filters
    from escalation.sla.models import SlaPolicy
    from escalation.whatif.replay import Draft
    from escalation.whatif.services import what_if
    from tickets.models import User
    from tickets.selectors import ticket_list_for

    user = User.objects.get(username="admin")
    today = timezone.now().date()
    filters = parse_filters(
        {"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()}, time_zone="UTC"
    )
    p3 = SlaPolicy.objects.filter(priority="P3", is_active=True).first() or SlaPolicy.objects.get(is_default=True)
    draft = Draft(changes={("P3", "resolution"): max(1, (p3.resolution_minutes or 480) // 2)})
    result = what_if(tickets=ticket_list_for(user), filters=filters, draft=draft)
    assert result["replayed_tickets"] > 0


SCENARIOS = [(f"what-if 90 days, P3 resolution halved (budget {BUDGET_SECONDS} s)", what_if_90_days)]
