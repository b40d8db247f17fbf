"""The what-if page: prefilled from live policies, compare, flips, CSV, runs, and the policy admin prefill."""

import csv
import io

import pytest
import time_machine

from escalation.sla.models import SlaPolicy
from escalation.whatif import tasks
from escalation.whatif.models import WhatIfRun
from tests.dashboard.conftest import NOW

PAGE = "/dashboard/what-if/"
TIGHTER = {"go": "1", "from": "2025-01-06", "to": "2025-01-12", "P4.resolution": "60"}


@pytest.fixture
def page(viewer, client):
    client.force_login(viewer)
    return client


def get(client, params=None):
    with time_machine.travel(NOW, tick=False):
        return client.get(PAGE, params or {})


def test_the_targets_table_is_prefilled_from_the_live_policies(sla_policy, page):
    response = get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="P4.resolution" value="480"' in html
    assert 'name="P1.first_response" value="30"' in html
    assert 'name="P2.tier1_budget" value=""' in html  # the policy sets no Tier 1 budget
    assert "Standard" in html


def test_the_dashboard_links_to_it(sla_policy, page):
    with time_machine.travel(NOW, tick=False):
        assert PAGE in page.get("/dashboard/").content.decode()


def test_compare_shows_both_sides_and_the_flipped_tickets(week, page):
    response = get(page, TIGHTER)
    assert response.status_code == 200
    html = response.content.decode()
    assert week.b.reference in html and week.d.reference in html
    assert week.a.reference not in html
    assert "Knock-on effects are counted, not replayed." in html  # said plainly, next to the figures
    assert 'id="whatif-data"' in html  # the chart's data
    assert "<script>" not in html.replace('<script src="', "")  # no inline script (CSP)
    # "Apply this policy": the default policy covers P4, so a new P4 policy based on it, prefilled.
    assert "/admin/sla/slapolicy/add/?" in html and "resolution_minutes=60" in html
    assert SlaPolicy.objects.get().resolution_minutes == 480


def test_csv_of_the_flipped_tickets_and_the_figures(week, page):
    response = get(page, {**TIGHTER, "format": "csv", "table": "tickets"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:7] == ["Reference", "Title", "Priority", "Target", "Cycle", "Current", "Proposed"]
    assert sorted((r[0], r[5], r[6]) for r in rows[1:]) == sorted(
        [(week.b.reference, "met", "breached"), (week.d.reference, "running", "breached")]
    )
    figures = list(
        csv.reader(io.StringIO(get(page, {**TIGHTER, "format": "csv", "table": "figures"}).content.decode()))
    )
    assert ["Resolution breached", "2", "3"] in figures


@pytest.mark.parametrize(
    "params, field",
    [
        ({"P4.resolution": "abc"}, "P4.resolution"),
        ({"P2.first_response": "0"}, "P2.first_response"),
        ({"P2.first_response": "-5"}, "P2.first_response"),
        ({"from": "2025-01-12", "to": "2025-01-01"}, "to"),
        ({"team": "nope"}, "team"),
    ],
)
def test_bad_input_shows_field_errors_and_computes_nothing(sla_policy, page, params, field):
    response = get(page, {"go": "1", "from": "2025-01-06", "to": "2025-01-12", **params})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "whatif-result" not in html
    assert WhatIfRun.objects.count() == 0


def test_not_for_agents(sla_policy, client, agent):
    client.force_login(agent)
    assert client.get(PAGE).status_code == 403


def test_a_long_period_becomes_a_run_the_page_polls(
    week, page, settings, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks.whatif_run_task, "delay", lambda run_id: sent.append(run_id))
    settings.WHATIF_INLINE_TICKETS = 3
    with django_capture_on_commit_callbacks(execute=True):
        response = get(page, TIGHTER)
    run = WhatIfRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"?run={run.pk}")
    assert sent == [str(run.pk)]
    waiting = get(page, {"run": str(run.pk)}).content.decode()
    assert f"/api/v1/metrics/sla/what-if/runs/{run.pk}/" in waiting  # data-poll-url
    assert 'name="P4.resolution" value="60"' in waiting  # the draft stays on screen
    with time_machine.travel(NOW, tick=False):
        tasks.whatif_run_task.apply(args=[str(run.pk)])
    done = get(page, {"run": str(run.pk)}).content.decode()
    assert week.b.reference in done and "whatif-progress" not in done
    exported = get(page, {"run": str(run.pk), "format": "csv", "table": "tickets"}).content.decode()
    assert week.d.reference in exported


def test_another_managers_run_is_404(sla_policy, page, admin_user):
    run = WhatIfRun.objects.create(requested_by=admin_user, params={"from": "2025-01-06", "to": "2025-01-12"})
    assert get(page, {"run": str(run.pk)}).status_code == 404
    assert get(page, {"run": "not-a-uuid"}).status_code == 404


def test_the_policy_admin_shows_the_draft_filled_in_and_saves_nothing(sla_policy, client, admin_user):
    client.force_login(admin_user)
    url = f"/admin/sla/slapolicy/{sla_policy.pk}/change/?resolution_minutes=240&first_response_minutes=45"
    html = client.get(url).content.decode()
    assert 'name="resolution_minutes" value="240"' in html
    assert 'name="first_response_minutes" value="45"' in html
    assert "Nothing is saved until you press Save" in html
    sla_policy.refresh_from_db()
    assert (sla_policy.resolution_minutes, sla_policy.first_response_minutes) == (480, 30)
