"""`make bench` scenarios of the SLA what-if (issue 15): 90 days at the bench's scale in ≤ 10 s.

Times what a worker does for a long period (escalation.whatif.services.what_if): the
dashboard's current figures, the tickets with a clock in the period replayed through
the SLA engine under a draft, proposed figures and flips. admin is cleared for
restricted tickets, so nothing is scoped out.

- P3 resolution halved: the tickets of one priority are replayed (the usual draft);
- a calendar instead: every ticket with a clock in the period is replayed (the worst case);
- fidelity: a replay of every ticket with no change must give the dashboard's figures back
  and flip nothing (counted: figures that differ plus flipped clocks, budget 0).

    python bench/run.py --only whatif --keep    # these alone, on an already-seeded database
"""

import time

BUDGET_SECONDS = 10
DAYS = 90


def _inputs():
    from datetime import timedelta

    from django.utils import timezone

    from escalation.metrics.filters import parse_filters
    from tickets.models import User
    from tickets.selectors import ticket_list_for

    user = User.objects.get(username="admin")
    today = timezone.now().date()
    filters = parse_filters(
        {"from": (today - timedelta(days=DAYS - 1)).isoformat(), "to": today.isoformat()}, time_zone="UTC"
    )
    return ticket_list_for(user), filters


def _timed(draft, **options) -> tuple[float, float, dict]:
    from escalation.whatif.services import what_if

    tickets, filters = _inputs()
    started, cpu = time.perf_counter(), time.process_time()
    result = what_if(tickets=tickets, filters=filters, draft=draft, **options)
    return time.perf_counter() - started, time.process_time() - cpu, result


def scenarios() -> list[tuple[str, float, str, float]]:
    """(name, value, unit, budget) rows; bench/run.py records them."""
    from escalation.sla.models import Calendar, SlaPolicy
    from escalation.sla.sweep import sla_sweep
    from escalation.whatif.replay import Draft

    # Beat catches up first: clocks of a kept database have fallen due since it was seeded, and
    # live figures count a breach once the sweep has marked it (the replay plays the sweep to now).
    sla_sweep()
    rows = []
    p3 = SlaPolicy.objects.filter(priority="P3", is_active=True).first() or SlaPolicy.objects.get(is_default=True)
    halved = Draft(changes={("P3", "resolution"): max(1, (p3.resolution_minutes or 480) // 2)})
    seconds, cpu, result = _timed(halved)
    print(f"  what-if P3 halved: {result['replayed_tickets']} tickets with a clock in the period, CPU {cpu:.2f} s")
    rows.append((f"what-if {DAYS} days, P3 resolution halved", seconds, "s", BUDGET_SECONDS))

    calendar = Calendar.objects.filter(is_24x7=False).order_by("pk").first() or Calendar.objects.first()
    seconds, cpu, result = _timed(Draft(calendar=calendar))
    print(f"  what-if calendar instead: every one of {result['replayed_tickets']} replayed, CPU {cpu:.2f} s")
    rows.append((f"what-if {DAYS} days, another calendar (every ticket replayed)", seconds, "s", BUDGET_SECONDS))

    _seconds, _cpu, same = _timed(Draft(), replay_all=True)
    differing = [key for key in ("sla", "breaches", "automatic_escalations", "trend")
                 if same["proposed"][key] != same["current"][key]]  # fmt: skip
    if differing or same["tickets"]:
        flipped = sorted({f"{row['reference']} {row['target']}" for row in same["tickets"]})
        print(f"  what-if fidelity: {differing or 'no figures'} differ; flipped: {flipped[:8]}")
    rows.append(
        (f"what-if fidelity: no-change replay of {DAYS} days vs the dashboard (differences)",
         len(differing) + len(same["tickets"]), "differences", 0)
    )  # fmt: skip
    return rows
