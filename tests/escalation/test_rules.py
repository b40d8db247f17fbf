"""Automatic trigger rules: fire once per cycle, escalate with what exists, flag what is missing."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalation import automation, rules
from escalation.models import Escalation, Trigger, TriggerRule, TriggerRuleFiring
from tests.factories import make_ticket
from tickets import services as ticket_services
from tickets.models import EventKind, Priority, TicketStatus, Tier
from tickets.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def ransomware_rule(paths):
    return TriggerRule.objects.create(
        name="Ransomware → security",
        keywords="ransomware, encrypted my files",
        escalate_with_trigger=Trigger.SECURITY_CONCERN,
    )


def test_a_keyword_rule_escalates_automatically_and_flags_missing_fields(
    ransomware_rule, requester, category, agent, service_desk, security_team, secops, checklist
):
    service_desk.lead = agent
    service_desk.save(update_fields=["lead"])
    ticket = make_ticket(
        requester=requester,
        category=category,
        title="Strange note on screen",
        description="A note says ransomware encrypted my files and asks for bitcoin.",
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ESCALATED
    assert ticket.tier == Tier.TWO
    assert ticket.queue == security_team
    assert ticket.is_restricted
    assert ticket.priority == Priority.P2
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.is_automatic
    assert escalation.escalated_by is None
    assert escalation.rule == ransomware_rule
    assert escalation.problem_summary == "A note says ransomware encrypted my files and asks for bitcoin."
    assert set(escalation.missing_fields) == {"steps_tried", "error_evidence", "checklist.account_lock_state"}
    assert escalation.completeness == 3
    [fired] = ticket.events.filter(kind=EventKind.RULE_FIRED)
    assert fired.data["rule"] == "Ransomware → security"
    [escalated_event] = ticket.events.filter(kind=EventKind.ESCALATED)
    assert escalated_event.data["automatic"] is True
    assert set(escalated_event.data["missing_fields"]) == set(escalation.missing_fields)
    # The Tier 1 owner (nobody assigned yet: the desk's lead) cannot open a restricted ticket, so is not sent a
    # link that would 404; Security is told what the handoff lacks.
    assert not Notification.objects.filter(ticket=ticket, kind="handoff_incomplete").exists()
    told = Notification.objects.get(ticket=ticket, kind="escalated_to_team", recipient=secops, channel="in_app")
    assert "Evidence, verbatim" in told.body


def test_an_automatic_escalation_tells_the_tier1_owner_to_complete_it(paths, requester, category, agent):
    TriggerRule.objects.create(
        name="VIP words", keywords="board meeting", escalate_with_trigger=Trigger.BUSINESS_IMPACT
    )
    service_desk = category.default_queue
    service_desk.lead = agent
    service_desk.save(update_fields=["lead"])
    ticket = make_ticket(
        requester=requester,
        category=category,
        title="Projector",
        description="The board meeting projector shows no signal from the laptop.",
    )
    task = Notification.objects.get(ticket=ticket, kind="handoff_incomplete", channel="in_app")
    assert task.recipient == agent
    assert "Evidence, verbatim" in task.body


def test_a_rule_fires_once_per_ticket_per_cycle(paths, requester, category, agent, manager):
    TriggerRule.objects.create(name="P2 on reopen", min_reopen_count=1, raise_priority_to=Priority.P2)
    ticket = make_ticket(requester=requester, category=category, acting_user=agent)
    assert ticket.priority == Priority.P4
    ticket_services.ticket_resolve(ticket_id=ticket.pk, resolution="Fixed.", acting_user=agent)
    automation.ticket_reopen(ticket_id=ticket.pk, reason="Again.", acting_user=requester)
    ticket.refresh_from_db()
    assert ticket.priority == Priority.P2
    assert TriggerRuleFiring.objects.filter(ticket=ticket).count() == 1
    # a later update in the same cycle does not fire again, even if the priority was lowered
    ticket_services.ticket_change_priority(ticket_id=ticket.pk, priority="P3", reason="Calmer", acting_user=manager)
    automation.ticket_update(ticket_id=ticket.pk, changes={"title": "Laptop will still not start"}, acting_user=agent)
    ticket.refresh_from_db()
    assert ticket.priority == Priority.P3
    assert ticket.events.filter(kind=EventKind.RULE_FIRED).count() == 1


def test_rules_that_do_not_match_do_nothing(ransomware_rule, requester, category, agent):
    ticket = make_ticket(requester=requester, category=category, acting_user=agent)
    assert ticket.status == TicketStatus.NEW
    assert not TriggerRuleFiring.objects.exists()
    assert not ticket.events.filter(kind=EventKind.RULE_FIRED).exists()


def test_time_in_tier_is_checked_at_the_sweep(paths, requester, category, agent, identity_team):
    TriggerRule.objects.create(
        name="Tier 1 budget", tier=Tier.ONE, min_minutes_in_tier=120, escalate_with_trigger=Trigger.TIME_EXCEEDED
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ticket = make_ticket(requester=requester, category=category, acting_user=agent)
    with time_machine.travel(start + timedelta(minutes=119), tick=False):
        rules.evaluate_trigger_rules(ticket_id=ticket.pk, moment=rules.Moment.SWEEP)
    ticket.refresh_from_db()
    assert ticket.tier == Tier.ONE
    with time_machine.travel(start + timedelta(minutes=121), tick=False):
        rules.evaluate_trigger_rules(ticket_id=ticket.pk, moment=rules.Moment.SWEEP)
        rules.evaluate_trigger_rules(ticket_id=ticket.pk, moment=rules.Moment.SWEEP)
    ticket.refresh_from_db()
    assert ticket.queue == identity_team
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.trigger == Trigger.TIME_EXCEEDED
    assert escalation.escalated_at == start + timedelta(minutes=121)
    assert TriggerRuleFiring.objects.get(ticket=ticket).moment == "sweep"


def test_an_org_wide_p1_and_the_lead_is_notified(paths, requester, category, agent, service_desk, identity_team):
    service_desk.lead = agent
    service_desk.save(update_fields=["lead"])
    TriggerRule.objects.create(
        name="Org-wide P1",
        impact="organization",
        min_priority=Priority.P1,
        escalate_with_trigger=Trigger.BUSINESS_IMPACT,
        notify_team_lead=True,
    )
    ticket = make_ticket(requester=requester, category=category, impact="organization", urgency="stopped")
    ticket.refresh_from_db()
    assert ticket.queue == identity_team
    assert Escalation.objects.get(ticket=ticket).trigger == Trigger.BUSINESS_IMPACT
    assert Notification.objects.filter(ticket=ticket, kind="rule_fired", recipient=agent).exists()


def test_actions_alone_never_run_the_rules(ransomware_rule, requester, category):
    # given a rule that would escalate this ticket at intake
    intake = ticket_services.TicketIntake(
        title="Strange note on screen",
        description="A note says ransomware encrypted my files and asks for bitcoin.",
        category=category,
        impact="individual",
        urgency="slowed",
        requester=requester,
    )
    # when the bare action runs (no automation around it)
    ticket = ticket_services.ticket_create(intake=intake, acting_user=requester)
    # then the ticket is logged and nothing fired: only escalation.automation composes rules with actions
    assert ticket.status == TicketStatus.NEW
    assert not TriggerRuleFiring.objects.exists()
    # and the automation entry point does fire it
    ticket = automation.ticket_create(intake=intake, acting_user=requester)
    assert ticket.status == TicketStatus.ESCALATED


def test_a_time_rule_runs_on_time_through_its_own_next_check_with_no_sla_clock_due(
    paths, requester, category, agent, identity_team
):
    from escalation.models import RuleCheck
    from escalation.sla.models import SlaRecord
    from escalation.sla.sweep import sla_sweep

    TriggerRule.objects.create(
        name="Tier 1 budget", tier=Tier.ONE, min_minutes_in_tier=120, escalate_with_trigger=Trigger.TIME_EXCEEDED
    )
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        ticket = make_ticket(requester=requester, category=category, acting_user=agent)
    # no SLA policy: no clock will ever bring the sweep to this ticket
    assert not SlaRecord.objects.filter(ticket=ticket).exists()
    assert RuleCheck.objects.get(ticket=ticket).next_check_at == start + timedelta(minutes=120)

    with time_machine.travel(start + timedelta(minutes=119), tick=False):
        sla_sweep()
    assert Escalation.objects.filter(ticket=ticket).count() == 0
    with time_machine.travel(start + timedelta(minutes=120, seconds=30), tick=False):
        sla_sweep()

    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.trigger == Trigger.TIME_EXCEEDED and escalation.rule.name == "Tier 1 budget"
    assert escalation.escalated_at == start + timedelta(minutes=120, seconds=30)
    assert not RuleCheck.objects.filter(ticket=ticket).exists()  # fired: nothing more to check


def test_a_refused_automatic_escalation_does_not_use_up_the_rule(paths, requester, category, agent, monkeypatch):
    from escalation import services as escalation_services
    from tickets.errors import InvalidTransition

    TriggerRule.objects.create(name="VPN keyword", keywords="vpn", escalate_with_trigger=Trigger.INTEGRATION_FAILURE)
    real_escalate = escalation_services.ticket_escalate

    def refuse(**kwargs):
        raise InvalidTransition("Someone else is changing this ticket.")

    monkeypatch.setattr(escalation_services, "ticket_escalate", refuse)
    ticket = make_ticket(requester=requester, category=category, title="VPN drops every hour")

    # refused: still in Tier 1, the rule not spent, the timeline says why
    ticket.refresh_from_db()
    assert ticket.tier == Tier.ONE
    assert not TriggerRuleFiring.objects.filter(ticket=ticket).exists()
    refused = ticket.events.filter(kind=EventKind.RULE_FIRED, data__refused__isnull=False).get()
    assert "Someone else is changing this ticket" in refused.message

    # the next evaluation (here an edit, through the automation entry points use) fires it again, and goes through
    monkeypatch.setattr(escalation_services, "ticket_escalate", real_escalate)
    automation.ticket_update(ticket_id=ticket.pk, changes={"urgency": "stopped"}, acting_user=agent)
    ticket.refresh_from_db()
    assert ticket.tier == Tier.TWO
    assert Escalation.objects.get(ticket=ticket).rule.name == "VPN keyword"
    assert TriggerRuleFiring.objects.filter(ticket=ticket).count() == 1
