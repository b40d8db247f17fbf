"""A small week of desk life, built through the real services under a travelling clock.

Policy (24×7, so business minutes are wall minutes): first response 30 min,
next response 60, resolution 480, Tier 2 accept 30; one ladder level at 50 %
of resolution (the warning). The viewer sits in New York (UTC−5 in January);
the period is 6–12 January 2025 there = [6 Jan 05:00 UTC, 13 Jan 05:00 UTC).
"Now" is 12 Jan 17:00 UTC, after the sweep ran. All times below are UTC.

  A  6 Jan 14:00 created · 14:10 reply · 15:00 resolved by agent1           (Tier 1, first contact)
  B  7 Jan 15:00 created · 15:40 reply (first response breached at 15:30)
     · 16:00 pending · 18:00 requester replies (2 h paused) · 18:20 reply
     · 19:00 resolved by agent1
  C  8 Jan 13:00 created · 13:05 reply · 13:30 escalated (manual, complexity)
     · 13:50 accepted by engineer1 · 22:00 resolved (resolution breached at
     21:00, 490 of 540 min in Tier 2) · handoff rated 4
  D 12 Jan 12:00 created · 12:10 reply · 12:20 escalated (manual, access)
     · 12:50 returned (within Tier 1 scope) · rated 2 · 13:00 escalated
     automatically (time exceeded; steps_tried and error_evidence missing)
     · 14:00 accepted (accept clock breached at 13:30) · rated 5 · still open,
     resolution warning at 16:00 → at risk now
  E 10 Jan 14:00 created · 14:05 reply · 15:00 resolved · 11 Jan 10:00 reopened
     by the requester · 19:00 resolved (cycle 2 breached at 18:00)
  F 20 Dec 10:00 created, never touched (breached long ago; open 23 days)
  G 12 Jan 16:45 created, untouched: first response due 17:15 → at risk now
  H  7 Jan 03:00 created (= 6 Jan 22:00 in New York), Paris site · 03:10 reply
     · 03:30 pending, still waiting
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import time_machine

from escalation import services as escalation_services
from escalation.models import EscalationPath, Trigger
from escalation.services import Handoff
from escalation.sla.models import Calendar, LadderLevel, OffsetKind, SlaPolicy, Target
from escalation.sla.sweep import sla_sweep
from tests.factories import SiteFactory, make_ticket
from tickets import services as ticket_services
from tickets.models import Ticket

VIEWER_ZONE = "America/New_York"
NOW = datetime(2025, 1, 12, 17, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 1, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


COMPLETE = Handoff(
    problem_summary="Single sign-on rejects the user's token after the password change.",
    steps_tried="Cleared cached credentials, re-synced the account, tried another browser: same error.",
    error_evidence="AADSTS50126: Error validating credentials due to invalid username or password.",
    affected_scope="individual",
    affected_count=1,
    urgency="stopped",
)
PARTIAL = Handoff(
    problem_summary="Single sign-on rejects the user's token after the password change.",
    affected_scope="individual",
    urgency="stopped",
)


@dataclass
class Week:
    a: Ticket
    b: Ticket
    c: Ticket
    d: Ticket
    e: Ticket
    f: Ticket
    g: Ticket
    h: Ticket
    paris: object


@pytest.fixture
def sla_policy(db):
    calendar = Calendar.objects.create(name="Around the clock", is_24x7=True, time_zone="UTC")
    policy = SlaPolicy.objects.create(
        name="Standard",
        is_default=True,
        calendar=calendar,
        first_response_minutes=30,
        next_response_minutes=60,
        resolution_minutes=480,
        tier2_accept_minutes=30,
    )
    LadderLevel.objects.create(
        policy=policy,
        target=Target.RESOLUTION,
        offset_kind=OffsetKind.PERCENT,
        offset=50,
        notify_assignee=False,
    )
    return policy


@pytest.fixture
def paths(identity_team):
    for trigger in (Trigger.COMPLEXITY_LIMIT, Trigger.ACCESS_RESTRICTION, Trigger.TIME_EXCEEDED):
        EscalationPath.objects.create(name=f"Default {trigger}", trigger=trigger, to_queue=identity_team)


@pytest.fixture
def week(sla_policy, paths, requester, agent, engineer, category, service_desk, identity_team):
    paris = SiteFactory(name="Paris", slug="paris", time_zone="Europe/Paris")

    def new(when, **extra):
        with time_machine.travel(when, tick=False):
            return make_ticket(requester=requester, category=category, **extra)

    def do(when, action, **kwargs):
        with time_machine.travel(when, tick=False):
            return action(**kwargs)

    reply = ticket_services.ticket_comment_add
    resolve = ticket_services.ticket_resolve

    f = new(at(20, 10, month=12, year=2024), title="Printer on floor 3 jams")

    a = new(at(6, 14), title="Cannot open the shared mailbox")
    do(at(6, 14, 10), reply, ticket_id=a.pk, body="Looking now.", public=True, acting_user=agent)
    do(at(6, 15), resolve, ticket_id=a.pk, resolution="Re-added the mailbox permission.", acting_user=agent)

    h = new(at(7, 3), title="Keyboard layout keeps switching", site=paris)
    do(at(7, 3, 10), reply, ticket_id=h.pk, body="Which keyboard?", public=True, acting_user=agent)
    do(at(7, 3, 30), ticket_services.ticket_set_pending, ticket_id=h.pk, reason="Model?", acting_user=agent)

    b = new(at(7, 15), title="VPN drops every ten minutes")
    do(at(7, 15, 40), reply, ticket_id=b.pk, body="On it.", public=True, acting_user=agent)
    do(at(7, 16), ticket_services.ticket_set_pending, ticket_id=b.pk, reason="Need logs.", acting_user=agent)
    do(at(7, 18), reply, ticket_id=b.pk, body="Logs attached.", public=True, acting_user=requester)
    do(at(7, 18, 20), reply, ticket_id=b.pk, body="Thanks, checking.", public=True, acting_user=agent)
    do(at(7, 19), resolve, ticket_id=b.pk, resolution="New VPN profile.", acting_user=agent)

    c = new(at(8, 13), title="Account locked after password change")
    do(at(8, 13, 5), reply, ticket_id=c.pk, body="Checking.", public=True, acting_user=agent)
    esc_c = do(
        at(8, 13, 30),
        escalation_services.ticket_escalate,
        ticket_id=c.pk,
        trigger=Trigger.COMPLEXITY_LIMIT,
        handoff=COMPLETE,
        acting_user=agent,
    )
    do(at(8, 13, 50), escalation_services.escalation_accept, ticket_id=c.pk, acting_user=engineer)
    do(at(8, 22), resolve, ticket_id=c.pk, resolution="Cleared the stale token.", acting_user=engineer)
    do(at(8, 22, 5), escalation_services.escalation_rate, escalation_id=esc_c.pk, rating=4, acting_user=engineer)

    e = new(at(10, 14), title="Teams calls drop audio")
    do(at(10, 14, 5), reply, ticket_id=e.pk, body="Checking.", public=True, acting_user=agent)
    do(at(10, 15), resolve, ticket_id=e.pk, resolution="Updated the driver.", acting_user=agent)
    do(at(11, 10), ticket_services.ticket_reopen, ticket_id=e.pk, reason="Still drops.", acting_user=requester)
    do(at(11, 19), resolve, ticket_id=e.pk, resolution="Replaced the headset.", acting_user=agent)

    d = new(at(12, 12), title="Needs access to the finance share")
    do(at(12, 12, 10), reply, ticket_id=d.pk, body="Checking.", public=True, acting_user=agent)
    esc_d1 = do(
        at(12, 12, 20),
        escalation_services.ticket_escalate,
        ticket_id=d.pk,
        trigger=Trigger.ACCESS_RESTRICTION,
        handoff=COMPLETE,
        acting_user=agent,
    )
    do(
        at(12, 12, 50),
        escalation_services.escalation_return,
        ticket_id=d.pk,
        reason="within_tier1_scope",
        note="Tier 1 can grant share access.",
        kb_reference="KB: Granting share access",
        acting_user=engineer,
    )
    do(at(12, 12, 55), escalation_services.escalation_rate, escalation_id=esc_d1.pk, rating=2, acting_user=engineer)
    esc_d2 = do(
        at(12, 13),
        escalation_services.ticket_escalate,
        ticket_id=d.pk,
        trigger=Trigger.TIME_EXCEEDED,
        handoff=PARTIAL,
        acting_user=None,
        automatic=True,
    )
    do(at(12, 14), escalation_services.escalation_accept, ticket_id=d.pk, acting_user=engineer)
    do(at(12, 14, 5), escalation_services.escalation_rate, escalation_id=esc_d2.pk, rating=5, acting_user=engineer)

    g = new(at(12, 16, 45), title="Monitor flickers on dock")

    with time_machine.travel(NOW, tick=False):
        sla_sweep(now=NOW)
    return Week(a=a, b=b, c=c, d=d, e=e, f=f, g=g, h=h, paris=paris)
