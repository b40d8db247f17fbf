"""Playbooks: ticking steps on a ticket, the handoff's 'what was tried', required playbooks."""

import pytest

from knowledgebase import selectors, services
from knowledgebase.models import TicketPlaybookStep
from tickets.errors import InvalidInput, InvalidTransition
from tickets.models import EventKind, TicketEvent

from ..factories import CategoryFactory, make_playbook, make_ticket

pytestmark = pytest.mark.django_db

STEPS = [
    ("Check the account lock state in the directory", "Lock state and lockout source known"),
    ("Confirm MFA methods are registered", "At least one working method"),
    ("Reset the password and sign in together", "User signs in"),
]


@pytest.fixture
def playbook(category):
    return make_playbook(
        category=category, name="Account access checks", steps=STEPS, required_for_triggers=["complexity_limit"]
    )


@pytest.fixture
def ticket(requester, category):
    return make_ticket(requester=requester, category=category, title="Cannot sign in since this morning")


def step(playbook, position):
    return playbook.steps.get(position=position)


def test_ticking_a_step_records_it_and_writes_the_timeline(ticket, playbook, agent):
    record = services.playbook_step_record(
        ticket_id=ticket.pk,
        step_id=step(playbook, 1).pk,
        outcome="succeeded",
        result="Locked by Outlook on old phone",
        acting_user=agent,
    )

    record.refresh_from_db()
    assert (record.outcome, record.result, record.done_by) == ("succeeded", "Locked by Outlook on old phone", agent)
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.PLAYBOOK_STEP)
    assert event.actor == agent
    assert event.data == {
        "playbook": "Account access checks",
        "step": "Check the account lock state in the directory",
        "old": None,
        "new": "succeeded",
        "result": "Locked by Outlook on old phone",
    }


def test_ticking_again_updates_the_step_and_records_old_and_new(ticket, playbook, agent):
    target = step(playbook, 3).pk
    services.playbook_step_record(
        ticket_id=ticket.pk, step_id=target, outcome="failed", result="Sign-in still refused", acting_user=agent
    )

    services.playbook_step_record(
        ticket_id=ticket.pk, step_id=target, outcome="succeeded", result="Worked after cache clear", acting_user=agent
    )

    assert TicketPlaybookStep.objects.get(ticket=ticket).outcome == "succeeded"
    events = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.PLAYBOOK_STEP).order_by("id")
    assert [(e.data["old"], e.data["new"]) for e in events] == [(None, "failed"), ("failed", "succeeded")]


def test_steps_tried_text_lists_ticked_steps_in_playbook_order(ticket, playbook, agent):
    services.playbook_step_record(
        ticket_id=ticket.pk,
        step_id=step(playbook, 3).pk,
        outcome="failed",
        result="AADSTS50126 invalid password",
        acting_user=agent,
    )
    services.playbook_step_record(
        ticket_id=ticket.pk,
        step_id=step(playbook, 1).pk,
        outcome="succeeded",
        result="Unlocked; source was the old phone",
        acting_user=agent,
    )
    services.playbook_step_record(
        ticket_id=ticket.pk,
        step_id=step(playbook, 2).pk,
        outcome="skipped",
        result="User has no MFA yet",
        acting_user=agent,
    )

    assert selectors.steps_tried_text(ticket=ticket) == (
        "✔ Check the account lock state in the directory — Unlocked; source was the old phone\n"
        "– Confirm MFA methods are registered — skipped: User has no MFA yet\n"
        "✘ Reset the password and sign in together — AADSTS50126 invalid password"
    )


def test_steps_tried_text_is_empty_without_ticks(ticket, playbook):
    assert selectors.steps_tried_text(ticket=ticket) == ""


def test_required_playbook_blocks_escalation_naming_unticked_steps(ticket, playbook, agent):
    services.playbook_step_record(
        ticket_id=ticket.pk, step_id=step(playbook, 1).pk, outcome="succeeded", acting_user=agent
    )

    message = selectors.playbook_missing_for_escalation(ticket=ticket, trigger="complexity_limit")

    assert message == (
        "Work the “Account access checks” playbook before escalating for this reason; steps not yet done: "
        "2. Confirm MFA methods are registered; 3. Reset the password and sign in together."
    )


def test_required_playbook_is_satisfied_once_every_step_is_worked(ticket, playbook, agent):
    for position in (1, 2, 3):
        services.playbook_step_record(
            ticket_id=ticket.pk,
            step_id=step(playbook, position).pk,
            outcome="skipped",
            result="n/a here",
            acting_user=agent,
        )

    assert selectors.playbook_missing_for_escalation(ticket=ticket, trigger="complexity_limit") is None


def test_other_triggers_and_inactive_playbooks_do_not_block(ticket, playbook):
    assert selectors.playbook_missing_for_escalation(ticket=ticket, trigger="security_concern") is None
    playbook.is_active = False
    playbook.save()
    assert selectors.playbook_missing_for_escalation(ticket=ticket, trigger="complexity_limit") is None


def test_failed_step_needs_a_result_and_nothing_changes(ticket, playbook, agent):
    with pytest.raises(InvalidInput) as refused:
        services.playbook_step_record(
            ticket_id=ticket.pk, step_id=step(playbook, 1).pk, outcome="failed", result=" ", acting_user=agent
        )

    assert set(refused.value.errors) == {"result"}
    assert not TicketPlaybookStep.objects.exists()
    assert not TicketEvent.objects.filter(kind=EventKind.PLAYBOOK_STEP).exists()


def test_step_from_another_categorys_playbook_is_refused(ticket, agent, service_desk):
    other = make_playbook(
        category=CategoryFactory(slug="vpn", name="VPN", default_queue=service_desk),
        steps=[("Reinstall the client", "")],
    )

    with pytest.raises(InvalidInput) as refused:
        services.playbook_step_record(
            ticket_id=ticket.pk, step_id=other.steps.get().pk, outcome="succeeded", acting_user=agent
        )

    assert "step" in refused.value.errors


def test_steps_cannot_be_ticked_on_a_resolved_ticket(ticket, playbook, agent):
    from tickets import services as ticket_services

    ticket_services.ticket_resolve(ticket_id=ticket.pk, resolution="Fixed it together.", acting_user=agent)

    with pytest.raises(InvalidTransition):
        services.playbook_step_record(
            ticket_id=ticket.pk, step_id=step(playbook, 1).pk, outcome="succeeded", acting_user=agent
        )


# ---- API


def test_agent_ticks_a_step_through_the_api(api_for, ticket, playbook, agent):
    response = api_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/playbook-steps/",
        {"step": step(playbook, 2).pk, "outcome": "succeeded", "result": "Authenticator app registered"},
    )

    assert response.status_code == 201
    assert response.json()["outcome"] == "succeeded"
    assert response.json()["step"]["instruction"] == "Confirm MFA methods are registered"
    listed = api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/playbook-steps/").json()
    assert [row["result"] for row in listed] == ["Authenticator app registered"]


def test_api_refuses_bad_outcome_field_by_field(api_for, ticket, playbook, agent):
    response = api_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/playbook-steps/", {"step": step(playbook, 1).pk, "outcome": "maybe"}
    )

    assert response.status_code == 400
    assert "outcome" in response.json()
    assert not TicketPlaybookStep.objects.exists()


def test_requester_cannot_tick_steps_even_on_their_own_ticket(api_for, ticket, playbook, requester):
    response = api_for(requester).post(f"/api/v1/tickets/{ticket.pk}/playbook-steps/", {"step": step(playbook, 1).pk})

    assert response.status_code == 403
    assert not TicketPlaybookStep.objects.exists()


def test_restricted_ticket_is_404_for_an_agent_who_cannot_see_it(
    api_for, requester, security_category, agent, service_desk
):
    secret = make_ticket(requester=requester, category=security_category, title="Phishing mail clicked")
    playbook = make_playbook(category=security_category, steps=[("Isolate the device", "")])

    response = api_for(agent).post(f"/api/v1/tickets/{secret.pk}/playbook-steps/", {"step": playbook.steps.get().pk})

    assert response.status_code == 404


def test_playbooks_api_filters_by_category_and_is_for_agents(api_for, playbook, agent, requester):
    listed = api_for(agent).get("/api/v1/playbooks/", {"category": "account-access"})

    assert [p["name"] for p in listed.json()] == ["Account access checks"]
    assert [s["position"] for s in listed.json()[0]["steps"]] == [1, 2, 3]
    assert api_for(agent).get("/api/v1/playbooks/", {"category": "nope"}).json() == []
    assert api_for(requester).get("/api/v1/playbooks/").status_code == 403


# ---- pages


def test_htmx_tick_returns_the_panel(client, ticket, playbook, agent):
    client.force_login(agent)

    response = client.post(
        f"/kb/tickets/{ticket.pk}/playbook/steps/{step(playbook, 1).pk}/",
        {"outcome": "succeeded", "result": "Unlocked"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "1/3 done" in html and "Unlocked" in html
    assert "<html" not in html


def test_htmx_tick_with_error_shows_it_beside_the_step(client, ticket, playbook, agent):
    client.force_login(agent)

    response = client.post(
        f"/kb/tickets/{ticket.pk}/playbook/steps/{step(playbook, 1).pk}/",
        {"outcome": "failed", "result": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400
    assert "Say what happened" in response.content.decode()


def test_ticket_playbook_page_for_agents(client, ticket, playbook, agent, requester):
    client.force_login(agent)
    assert "Check the account lock state" in client.get(f"/kb/tickets/{ticket.pk}/playbook/").content.decode()
    client.force_login(requester)
    assert client.get(f"/kb/tickets/{ticket.pk}/playbook/").status_code == 403


def test_escalation_is_refused_until_the_required_playbook_is_worked(ticket, playbook, agent, identity_team):
    from escalation import services as escalation_services
    from escalation.handoff import Handoff
    from escalation.models import EscalationPath

    EscalationPath.objects.create(
        name="Account access to Identity", category=ticket.category, trigger="complexity_limit", to_queue=identity_team
    )
    handoff = Handoff(
        problem_summary="Sign-in fails with AADSTS50126 after the password reset this morning.",
        steps_tried="Reset the password twice and cleared cached credentials on the laptop.",
        error_evidence="AADSTS50126: Error validating credentials due to invalid username or password.",
        affected_scope="individual",
        affected_count=1,
        urgency="stopped",
    )

    with pytest.raises(InvalidInput) as refused:
        escalation_services.ticket_escalate(
            ticket_id=ticket.pk, trigger="complexity_limit", handoff=handoff, acting_user=agent
        )

    assert "Check the account lock state in the directory" in refused.value.errors["playbook"][0]
    ticket.refresh_from_db()
    assert ticket.status == "new" and ticket.tier == 1


def test_demo_configuration_has_articles_and_playbooks_for_every_demo_category(db):
    from knowledgebase import demo
    from knowledgebase.models import Article, Playbook
    from tickets import demo as tickets_demo

    org = tickets_demo.seed_organization()
    demo.seed_configuration(org)

    assert Article.objects.filter(status="published").count() >= 12
    assert Article.objects.filter(status="published", is_public=True).count() >= 5
    slugs = set(Playbook.objects.values_list("category__slug", flat=True))
    assert {
        "password-reset",
        "account-access",
        "vpn",
        "email",
        "hardware",
        "software-install",
        "security-incident",
    } <= slugs
    for playbook in Playbook.objects.all():
        assert 3 <= playbook.steps.count() <= 6
    assert Playbook.objects.get(category__slug="account-access").required_for_triggers == ["complexity_limit"]
