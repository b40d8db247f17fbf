"""A manager opens the SLA what-if from the dashboard, tightens a target and sees the tickets that flip."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import make_ticket
from tickets import services as ticket_services

from .conftest import log_in
from .test_csp import _watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sla_policy(db):
    from escalation.sla.models import Calendar, SlaPolicy

    calendar = Calendar.objects.create(name="Around the clock", is_24x7=True, time_zone="UTC")
    return SlaPolicy.objects.create(
        name="Standard", is_default=True, calendar=calendar, first_response_minutes=30, resolution_minutes=480
    )


def test_manager_tightens_a_target_and_sees_the_flipped_ticket(
    page, live_server, shoot, sla_policy, requester, agent, manager, category
):
    # given a P4 ticket resolved in 2 h yesterday (met at 480 min) and one resolved in 30 min
    yesterday = (timezone.now() - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    with time_machine.travel(yesterday, tick=False):
        slow = make_ticket(requester=requester, category=category, title="Shared drive unreachable")
        quick = make_ticket(requester=requester, category=category, title="Mouse pointer jumps")
    with time_machine.travel(yesterday + timedelta(minutes=30), tick=False):
        ticket_services.ticket_resolve(ticket_id=quick.pk, resolution="New mouse.", acting_user=agent)
    with time_machine.travel(yesterday + timedelta(hours=2), tick=False):
        ticket_services.ticket_resolve(ticket_id=slow.pk, resolution="Remapped the drive.", acting_user=agent)
    violations = _watch_csp(page)

    # when the manager opens the what-if from the dashboard
    log_in(page, live_server, "manager1")
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_role("link", name="SLA what-if").click()
    page.wait_for_url(re.compile(r"/dashboard/what-if/"))
    cell = page.locator('input[name="P4.resolution"]')
    expect(cell).to_have_value("480")  # prefilled from the live policy

    # and tightens P4 resolution to 60 business minutes
    cell.fill("60")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_load_state("networkidle")

    # then the slow ticket flips from met to breached, the quick one does not appear
    flips = page.locator("#whatif-flips")
    expect(flips).to_contain_text(slow.reference)
    expect(flips.locator("tr", has_text=slow.reference)).to_contain_text("met")
    expect(flips.locator("tr", has_text=slow.reference)).to_contain_text("breached")
    expect(flips).not_to_contain_text(quick.reference)
    expect(page.locator("#whatif-result")).to_contain_text("Resolution breached")
    expect(page.locator("#chart-whatif")).to_be_visible()
    expect(page.locator("#whatif-apply a").first).to_have_attribute("href", re.compile(r"resolution_minutes=60"))
    shoot(page, "13-sla-what-if")
    page.locator("#whatif-flips").scroll_into_view_if_needed()
    assert not violations, violations
    sla_policy.refresh_from_db()
    assert sla_policy.resolution_minutes == 480  # nothing changed silently
