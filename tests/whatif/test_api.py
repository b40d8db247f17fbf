"""POST /api/v1/metrics/sla/what-if/ on the dashboard's week (tests/dashboard/conftest.py).

The week's one policy is 24×7 (business minutes are wall minutes): first response 30,
next response 60, resolution 480, Tier 2 accept 30. Every week ticket is P4. The
period is 6–12 January 2025 in New York; now is 12 Jan 17:00 UTC. Expected figures
below are worked out from the timeline by hand.
"""

import pytest
import time_machine

from escalation.sla.models import SlaPolicy
from escalation.whatif.models import WhatIfRun
from tests.dashboard.conftest import NOW, VIEWER_ZONE

URL = "/api/v1/metrics/sla/what-if/"
PERIOD = {"from": "2025-01-06", "to": "2025-01-12"}


def post(client, body):
    with time_machine.travel(NOW, tick=False):
        return client.post(URL, body, format="json")


def by_target(block, target):
    return next(row for row in block["sla"] if row["target"] == target)


def breaches_of(block, target):
    return next(row["breaches"] for row in block["breaches"]["by_target"] if row["target"] == target)


def test_no_change_reproduces_the_dashboard(week, viewer, api_for):
    client = api_for(viewer)
    response = post(client, {**PERIOD, "changes": []})
    assert response.status_code == 200, response.content
    body = response.json()
    with time_machine.travel(NOW, tick=False):
        dashboard = client.get("/api/v1/metrics/sla/", PERIOD).json()
    assert body["current"]["sla"] == dashboard["sla"]
    assert body["current"]["breaches"] == dashboard["breaches"]
    assert body["proposed"] == body["current"]
    assert body["tickets"] == []
    # Seven tickets had a clock running in the week (F's first response breached in December, still open).
    assert body["replayed_tickets"] == 8


def test_tighter_resolution_flips_b_and_d(week, viewer, api_for):
    # given P4 resolution 60 min instead of 480:
    #   A 14:00→15:00 = 60 min: met (on time at the due instant); E cycle 1 the same.
    #   B 15:00→19:00 with 2 h paused = 120 min used: met → breached (due 18:00 after the pause).
    #   C and E cycle 2 were breached already; D (open since 12:00) is past 13:00 now: running → breached.
    response = post(
        api_for(viewer), {**PERIOD, "changes": [{"priority": "P4", "target": "resolution", "business_minutes": 60}]}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    flips = {
        (row["reference"], row["target"], row["cycle"]): (row["current"], row["proposed"]) for row in body["tickets"]
    }
    assert flips == {
        (week.b.reference, "resolution", 1): ("met", "breached"),
        (week.d.reference, "resolution", 1): ("running", "breached"),
    }
    now, new = body["current"], body["proposed"]
    assert (by_target(now, "resolution")["met"], by_target(now, "resolution")["breached"]) == (3, 2)
    assert (by_target(new, "resolution")["met"], by_target(new, "resolution")["breached"]) == (2, 3)
    assert by_target(new, "resolution")["met_pct"] == 40.0
    assert by_target(new, "resolution")["median_target_minutes"] == 60.0
    assert breaches_of(new, "resolution") == breaches_of(now, "resolution") + 2
    assert new["breaches"]["total"] == now["breaches"]["total"] + 2
    # B (first response) and D (Tier 2 accept) had breached already: no new ticket ever breached.
    assert new["breaches"]["tickets_ever_breached"] == now["breaches"]["tickets_ever_breached"]
    assert by_target(new, "first_response") == by_target(now, "first_response")
    # B's resolution was met on 7 Jan; proposed, nothing on 7 Jan was met.
    day7 = next(row for row in new["trend"] if row["day"] == "2025-01-07")
    assert day7["resolution_met_pct"] == 0.0
    # Nothing was written: the live policy and records are as they were.
    assert SlaPolicy.objects.get().resolution_minutes == 480


def test_looser_first_response_clears_b(week, viewer, api_for):
    # B answered after 40 min: breached at 30, met at 60. B had no other breach, so one ticket fewer.
    response = post(
        api_for(viewer), {**PERIOD, "changes": [{"priority": "P4", "target": "first_response", "business_minutes": 60}]}
    )
    body = response.json()
    assert [(r["reference"], r["target"], r["current"], r["proposed"]) for r in body["tickets"]] == [
        (week.b.reference, "first_response", "breached", "met")
    ]
    now, new = body["current"], body["proposed"]
    assert by_target(new, "first_response")["breached"] == by_target(now, "first_response")["breached"] - 1
    assert new["breaches"]["tickets_ever_breached"] == now["breaches"]["tickets_ever_breached"] - 1


def test_a_change_to_another_priority_changes_nothing(week, viewer, api_for):
    body = post(
        api_for(viewer), {**PERIOD, "changes": [{"priority": "P1", "target": "resolution", "business_minutes": 5}]}
    ).json()
    assert body["tickets"] == []
    assert body["proposed"] == body["current"]


def test_filters_scope_both_sides(week, viewer, api_for):
    body = post(
        api_for(viewer),
        {
            **PERIOD,
            "changes": [{"priority": "P4", "target": "resolution", "business_minutes": 60}],
            "filters": {"site": "paris"},
        },
    ).json()
    # Only H is in Paris: pending since 03:30 on 7 Jan after 30 min, its resolution clock is paused.
    assert body["tickets"] == []
    assert body["replayed_tickets"] == 1
    assert by_target(body["proposed"], "resolution")["total"] == 0


@pytest.mark.parametrize(
    "body, path",
    [
        (
            {"changes": [{"priority": "P9", "target": "resolution", "business_minutes": 60}]},
            ("changes", "0", "priority"),
        ),
        ({"changes": [{"priority": "P2", "target": "lunch", "business_minutes": 60}]}, ("changes", "0", "target")),
        (
            {"changes": [{"priority": "P2", "target": "resolution", "business_minutes": 0}]},
            ("changes", "0", "business_minutes"),
        ),
        (
            {"changes": [{"priority": "P2", "target": "resolution", "business_minutes": -30}]},
            ("changes", "0", "business_minutes"),
        ),
        (
            {"changes": [{"priority": "P2", "target": "resolution", "business_minutes": 10**9}]},
            ("changes", "0", "business_minutes"),
        ),
        (
            {"changes": [{"priority": "P2", "target": "resolution", "business_minutes": "4h"}]},
            ("changes", "0", "business_minutes"),
        ),
        (
            {"changes": [{"priority": "P2", "target": "resolution", "business_minutes": 12.5}]},
            ("changes", "0", "business_minutes"),
        ),
        (
            {"changes": [{"priority": "P2", "target": "resolution", "business_minutes": True}]},
            ("changes", "0", "business_minutes"),
        ),
        ({"changes": [{"priority": "P2", "target": "resolution"}]}, ("changes", "0", "business_minutes")),
        (
            {
                "changes": [
                    {"priority": "P2", "target": "resolution", "business_minutes": 60},
                    {"priority": "P2", "target": "resolution", "business_minutes": 90},
                ]
            },
            ("changes", "1", "target"),
        ),
        ({"changes": "P2=60"}, ("changes",)),
        ({"from": "2025-01-12", "to": "2025-01-06"}, ("to",)),
        ({"from": "2024-01-01", "to": "2025-01-06"}, ("to",)),
        ({"from": "2025-13-01"}, ("from",)),
        ({"filters": {"team": "no-such-team"}}, ("filters", "team")),
        ({"filters": {"priority": "P7"}}, ("filters", "priority")),
        ({"calendar": "No such calendar"}, ("calendar",)),
        ({"calendar": 99999}, ("calendar",)),
    ],
)
def test_bad_drafts_answer_400_field_by_field(sla_policy, viewer, api_for, body, path):
    response = post(api_for(viewer), {**PERIOD, **body})
    assert response.status_code == 400, response.content
    errors = response.json()
    for key in path:
        errors = errors[key]
    assert errors and all(isinstance(message, str) for message in errors)
    assert WhatIfRun.objects.count() == 0
    assert SlaPolicy.objects.get().resolution_minutes == 480


def test_a_body_that_is_not_an_object_is_a_400(viewer, api_for):
    response = post(api_for(viewer), ["P2", 60])
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_managers_only(week, agent, engineer, requester, api_for):
    for user in (agent, engineer, requester):
        assert post(api_for(user), PERIOD).status_code == 403
    from rest_framework.test import APIClient

    assert post(APIClient(), PERIOD).status_code in (401, 403)


def test_a_calendar_instead_changes_due_times(week, viewer, api_for, office_hours_calendar):
    # On Mon–Fri 09:00–17:00 New York time, A (created Mon 6 Jan 09:00 NY, resolved 10:00 NY) still
    # meets a 60-minute resolution; D (created Sun 12 Jan 07:00 NY) has used no business time at all.
    body = post(
        api_for(viewer),
        {
            **PERIOD,
            "calendar": office_hours_calendar.name,
            "changes": [{"priority": "P4", "target": "resolution", "business_minutes": 60}],
        },
    ).json()
    flips = {(row["reference"], row["target"]): (row["current"], row["proposed"]) for row in body["tickets"]}
    assert (week.a.reference, "resolution") not in flips
    assert (week.d.reference, "resolution") not in flips
    assert body["draft"]["calendar"] == {"id": office_hours_calendar.pk, "name": office_hours_calendar.name}


def test_restricted_tickets_only_for_cleared_managers(week, viewer, admin_user, api_for, security_category, agent):
    from escalation.sla.sweep import sla_sweep
    from tests.factories import make_ticket

    # A security ticket logged on 9 Jan 14:00, fast-tracked to Security and untouched since: by now
    # its resolution (480 min) breached at 22:00. At 10 000 minutes it would still be running.
    with time_machine.travel(week.a.created_at.replace(day=9), tick=False):
        secret = make_ticket(
            requester=agent, category=security_category, title="Phishing mail opened", acting_user=agent
        )
    assert secret.is_restricted
    with time_machine.travel(NOW, tick=False):
        sla_sweep(now=NOW)
    secret.refresh_from_db()
    change = {"priority": secret.priority, "target": "resolution", "business_minutes": 10_000}

    mine = post(api_for(viewer), {**PERIOD, "changes": [change]}).json()
    assert secret.reference not in {row["reference"] for row in mine["tickets"]}
    admin_user.time_zone = VIEWER_ZONE
    admin_user.save(update_fields=["time_zone"])
    cleared = post(api_for(admin_user), {**PERIOD, "changes": [change]}).json()
    assert (secret.reference, "resolution", "breached", "running") in {
        (row["reference"], row["target"], row["current"], row["proposed"]) for row in cleared["tickets"]
    }
    assert breaches_of(cleared["current"], "resolution") == breaches_of(mine["current"], "resolution") + 1
