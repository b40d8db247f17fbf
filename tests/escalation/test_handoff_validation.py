"""A manual escalation with anything missing or insubstantial is refused, field by field, and nothing changes."""

import pytest

from escalation.models import Escalation, Trigger
from escalation.services import ticket_escalate
from tickets.errors import InvalidInput
from tickets.models import EventKind, TicketStatus, Tier
from tickets.notifications.models import Notification

from .conftest import good_handoff

pytestmark = pytest.mark.django_db


def assert_nothing_changed(ticket, before):
    ticket.refresh_from_db()
    assert (ticket.status, ticket.tier, ticket.queue_id, ticket.version, ticket.assignee_id) == before
    assert not ticket.events.filter(kind=EventKind.ESCALATED).exists()
    assert not Escalation.objects.filter(ticket=ticket).exists()
    assert not Notification.objects.filter(ticket=ticket, kind="escalated_to_team").exists()


def snapshot(ticket):
    return (ticket.status, ticket.tier, ticket.queue_id, ticket.version, ticket.assignee_id)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("problem_summary", "", "What is wrong is required"),
        ("problem_summary", "   \n ", "What is wrong is required"),
        ("problem_summary", "n/a", "placeholder"),
        ("problem_summary", "N/A.", "placeholder"),
        ("problem_summary", "TBD", "placeholder"),
        ("problem_summary", "see above", "placeholder"),
        ("problem_summary", "-", "What is wrong is required"),
        ("problem_summary", "?", "What is wrong is required"),
        ("problem_summary", "laptop will NOT start!", "repeats the ticket title"),
        ("problem_summary", "The laptop will not start", "repeats the ticket title"),
        ("problem_summary", "It is broken", "not a symptom"),
        ("problem_summary", "User can't log in. Please check.", "does not name the system"),
        ("problem_summary", "Issue with laptop, please assist ASAP", "not a symptom"),
        ("steps_tried", "none", "placeholder"),
        ("steps_tried", "na", "placeholder"),
        ("steps_tried", "rebooted", "names no concrete step"),
        ("steps_tried", "Tried the usual things, nothing.", "the usual"),
        ("steps_tried", "Basic troubleshooting done as per process.", "Basic troubleshooting"),
        ("steps_tried", "Checked everything, all fine", "Checked everything"),
        ("steps_tried", "Restarted the laptop.", "only one concrete step"),
        ("steps_tried", "", "What was already tried is required"),
        ("error_evidence", "", "Evidence, verbatim is required"),
        ("error_evidence", "see above", "placeholder"),
        ("error_evidence", "Laptop will not start", "repeats the ticket title"),
        ("error_evidence", "error", "bare word"),
        ("error_evidence", "see the ticket description", "points elsewhere"),
        ("error_evidence", "User says there is an error message", "hearsay"),
        ("error_evidence", "see attached screenshot", "nothing is attached"),
        ("error_evidence", "No error shown", "not what is seen instead"),
        ("affected_scope", "", "Who is affected is required"),
        ("affected_scope", "everyone", "Who is affected is required"),
        ("urgency", "", "How urgent is required"),
        ("urgency", "asap", "How urgent is required"),
    ],
)
def test_each_insubstantial_field_is_refused_with_its_own_message(ticket, agent, field, value, says):
    before = snapshot(ticket)
    with pytest.raises(InvalidInput) as refused:
        ticket_escalate(
            ticket_id=ticket.pk,
            trigger=Trigger.ACCESS_RESTRICTION,
            handoff=good_handoff(**{field: value}),
            acting_user=agent,
        )
    assert list(refused.value.errors) == [field]
    assert says in refused.value.errors[field][0]
    assert_nothing_changed(ticket, before)


def test_an_empty_handoff_lists_every_field_once(ticket, agent):
    before = snapshot(ticket)
    with pytest.raises(InvalidInput) as refused:
        ticket_escalate(
            ticket_id=ticket.pk,
            trigger="",
            handoff=good_handoff(
                problem_summary="", steps_tried="", error_evidence="", affected_scope="", urgency="", checklist={}
            ),
            acting_user=agent,
        )
    errors = refused.value.errors
    assert set(errors) == {
        "trigger",
        "problem_summary",
        "steps_tried",
        "error_evidence",
        "affected_scope",
        "urgency",
        "checklist.account_lock_state",
    }
    assert all(len(messages) == 1 for messages in errors.values())
    assert "Account lock state checked" in errors["checklist.account_lock_state"][0]
    assert_nothing_changed(ticket, before)


@pytest.mark.parametrize("answer", ["", "  ", "n/a", "tbd", "?"])
def test_a_required_checklist_item_must_be_answered(ticket, agent, answer):
    before = snapshot(ticket)
    with pytest.raises(InvalidInput) as refused:
        ticket_escalate(
            ticket_id=ticket.pk,
            trigger=Trigger.ACCESS_RESTRICTION,
            handoff=good_handoff(checklist={"account_lock_state": answer}),
            acting_user=agent,
        )
    assert list(refused.value.errors) == ["checklist.account_lock_state"]
    assert_nothing_changed(ticket, before)


def test_a_short_yes_is_a_checklist_answer(ticket, agent):
    escalation = ticket_escalate(
        ticket_id=ticket.pk,
        trigger=Trigger.ACCESS_RESTRICTION,
        handoff=good_handoff(checklist={"account_lock_state": "yes"}),
        acting_user=agent,
    )
    assert escalation.checklist == {"account_lock_state": "yes"}


def test_an_unknown_checklist_key_is_refused(ticket, agent):
    with pytest.raises(InvalidInput) as refused:
        ticket_escalate(
            ticket_id=ticket.pk,
            trigger=Trigger.ACCESS_RESTRICTION,
            handoff=good_handoff(checklist={"account_lock_state": "Locked", "colour": "blue"}),
            acting_user=agent,
        )
    assert list(refused.value.errors) == ["checklist.colour"]


def test_an_affected_count_must_fit_the_scope(ticket, agent):
    with pytest.raises(InvalidInput) as refused:
        ticket_escalate(
            ticket_id=ticket.pk,
            trigger=Trigger.ACCESS_RESTRICTION,
            handoff=good_handoff(affected_scope="individual", affected_count=40),
            acting_user=agent,
        )
    assert list(refused.value.errors) == ["affected_count"]


@pytest.mark.parametrize(
    ("scope", "count", "says"),
    [
        ("team", 1, "counts 1 person"),
        ("site", 1, "counts 1 person"),
        ("team", None, "say how many people"),
        ("organization", None, "say how many people"),
        ("individual", 0, "at least 1"),
    ],
)
def test_scope_and_count_must_agree(ticket, agent, scope, count, says):
    before = snapshot(ticket)
    with pytest.raises(InvalidInput) as refused:
        ticket_escalate(
            ticket_id=ticket.pk,
            trigger=Trigger.ACCESS_RESTRICTION,
            handoff=good_handoff(affected_scope=scope, affected_count=count),
            acting_user=agent,
        )
    assert list(refused.value.errors) == ["affected_count"]
    assert says in refused.value.errors["affected_count"][0]
    assert_nothing_changed(ticket, before)


def test_each_refusal_shows_a_good_example_for_the_category(ticket, agent):
    with pytest.raises(InvalidInput) as refused:
        ticket_escalate(
            ticket_id=ticket.pk,
            trigger=Trigger.ACCESS_RESTRICTION,
            handoff=good_handoff(problem_summary="VPN broken", steps_tried="restarted", error_evidence="fails"),
            acting_user=agent,
        )
    errors = refused.value.errors
    # the ticket is in account-access: the examples are that category's
    assert "For example: “Account locked after repeated MFA prompts" in errors["problem_summary"][0]
    assert "For example: “Checked sign-in logs" in errors["steps_tried"][0]
    assert "AADSTS50053" in errors["error_evidence"][0]
    assert "No error is shown" in errors["error_evidence"][0]


def test_evidence_pointing_at_a_real_attachment_is_evidence(ticket, agent):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tickets import services as ticket_services

    ticket_services.attachment_add(
        ticket_id=ticket.pk,
        upload=SimpleUploadedFile("error.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png"),
        acting_user=agent,
        public=False,
    )
    escalation = ticket_escalate(
        ticket_id=ticket.pk,
        trigger=Trigger.ACCESS_RESTRICTION,
        handoff=good_handoff(error_evidence="See the attached screenshot of the sign-in page"),
        acting_user=agent,
    )
    assert escalation.missing_fields == []


def test_an_unworked_playbook_is_reported_under_playbook(ticket, agent, monkeypatch):
    from knowledgebase import selectors as kb_selectors

    monkeypatch.setattr(
        kb_selectors,
        "playbook_missing_for_escalation",
        lambda *, ticket, trigger: "Work the Account access playbook first (3 steps left).",
    )
    before = snapshot(ticket)
    with pytest.raises(InvalidInput) as refused:
        ticket_escalate(
            ticket_id=ticket.pk, trigger=Trigger.ACCESS_RESTRICTION, handoff=good_handoff(), acting_user=agent
        )
    assert refused.value.errors == {"playbook": ["Work the Account access playbook first (3 steps left)."]}
    assert_nothing_changed(ticket, before)


def test_evidence_is_stored_byte_for_byte(ticket, agent):
    evidence = (
        "Traceback (most recent call last):\r\n"
        '  File "/srv/app/sync.py", line 42, in run\r\n'
        "\tclient.push(batch)   \r\n"
        "ConnectionResetError: [Errno 104] Connexion réinitialisée — 接続がリセットされました\n"
        "\n\n   trailing spaces and a tab\t"
    )
    escalation = ticket_escalate(
        ticket_id=ticket.pk,
        trigger=Trigger.INTEGRATION_FAILURE,
        handoff=good_handoff(error_evidence=evidence),
        acting_user=agent,
    )
    escalation.refresh_from_db()
    assert escalation.error_evidence == evidence
    assert escalation.error_evidence.encode("utf-8") == evidence.encode("utf-8")


def test_a_complete_handoff_escalates(ticket, agent, identity_team, engineer, service_desk):
    old_version = ticket.version
    escalation = ticket_escalate(
        ticket_id=ticket.pk, trigger=Trigger.ACCESS_RESTRICTION, handoff=good_handoff(), acting_user=agent
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ESCALATED
    assert ticket.tier == Tier.TWO
    assert ticket.queue == identity_team
    assert ticket.tier1_queue == service_desk
    assert ticket.assignee is None
    assert ticket.version == old_version + 1
    assert escalation.escalated_by == agent
    assert escalation.tier1_assignee == agent
    assert escalation.is_automatic is False
    assert escalation.missing_fields == []
    assert escalation.completeness == 5
    [event] = ticket.events.filter(kind=EventKind.ESCALATED)
    assert event.actor == agent
    assert event.data["trigger"] == "access_restriction"
    assert event.data["from_queue"] == "service-desk"
    assert event.data["to_queue"] == "identity-access"
    assert event.data["automatic"] is False
    assert event.data["old_status"] == "open"
    assert event.data["new_status"] == "escalated"
    notified = set(
        Notification.objects.filter(ticket=ticket, kind="escalated_to_team").values_list(
            "recipient__username", flat=True
        )
    )
    assert notified == {"engineer1"}


def test_a_requester_cannot_escalate(ticket, requester):
    from tickets.errors import NotAllowed

    with pytest.raises(NotAllowed):
        ticket_escalate(
            ticket_id=ticket.pk, trigger=Trigger.ACCESS_RESTRICTION, handoff=good_handoff(), acting_user=requester
        )
