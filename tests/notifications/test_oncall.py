"""On-call: turns counted on the rotation's wall clock (DST-safe), overrides win, two time zones."""

from datetime import UTC, date, datetime, time

import pytest

from tests.factories import QueueFactory, UserFactory
from tickets import roles
from tickets.models import Tier
from tickets.notifications.models import OnCallMember, OnCallOverride, OnCallRotation
from tickets.notifications.oncall import on_call_for


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def new_york_rotation(identity_team, engineer, other_engineer):
    # weekly, Monday 09:00 America/New_York; US clocks go forward on Sunday 8 March 2026
    rotation = OnCallRotation.objects.create(
        queue=identity_team,
        time_zone="America/New_York",
        handover_time=time(9, 0),
        handover_weekday=0,
        rotation_length_days=7,
        starts_on=date(2026, 3, 2),
    )
    OnCallMember.objects.create(rotation=rotation, user=engineer, position=1)
    OnCallMember.objects.create(rotation=rotation, user=other_engineer, position=2)
    return rotation


@pytest.fixture
def london_team(db):
    team = QueueFactory(name="Network", slug="network", tier=Tier.TWO, time_zone="Europe/London")
    people = [UserFactory(username=name, role=roles.TIER2_ENGINEER) for name in ("ana", "ben", "cleo")]
    team.members.set(people)
    # daily, 08:00 Europe/London; UK clocks go forward on Sunday 29 March 2026
    rotation = OnCallRotation.objects.create(
        queue=team,
        time_zone="Europe/London",
        handover_time=time(8, 0),
        rotation_length_days=1,
        starts_on=date(2026, 3, 27),
    )
    for position, person in enumerate(people, start=1):
        OnCallMember.objects.create(rotation=rotation, user=person, position=position)
    return team, people


def test_weekly_hand_over_happens_at_local_time_across_the_dst_change(
    new_york_rotation, identity_team, engineer, other_engineer
):
    # first turn: Mon 2 Mar 09:00 EST = 14:00 UTC
    assert on_call_for(queue=identity_team, at=utc(2026, 3, 2, 14, 0)) == engineer
    # Sunday night (after the clocks changed) still engineer1's week
    assert on_call_for(queue=identity_team, at=utc(2026, 3, 9, 3, 0)) == engineer
    # the hand-over is 09:00 EDT = 13:00 UTC now, not 14:00 UTC
    assert on_call_for(queue=identity_team, at=utc(2026, 3, 9, 12, 59)) == engineer
    assert on_call_for(queue=identity_team, at=utc(2026, 3, 9, 13, 0)) == other_engineer
    # and the rotation wraps around
    assert on_call_for(queue=identity_team, at=utc(2026, 3, 16, 13, 0)) == engineer


def test_daily_rotation_in_london_hands_over_at_0800_local_on_both_sides_of_dst(london_team):
    team, (ana, ben, cleo) = london_team
    assert on_call_for(queue=team, at=utc(2026, 3, 27, 8, 0)) == ana
    assert on_call_for(queue=team, at=utc(2026, 3, 28, 7, 59)) == ana  # 07:59 GMT
    assert on_call_for(queue=team, at=utc(2026, 3, 28, 8, 0)) == ben
    assert on_call_for(queue=team, at=utc(2026, 3, 29, 6, 59)) == ben  # 07:59 BST, the first morning of BST
    assert on_call_for(queue=team, at=utc(2026, 3, 29, 7, 0)) == cleo
    assert on_call_for(queue=team, at=utc(2026, 3, 30, 6, 59)) == cleo  # 07:59 BST
    assert on_call_for(queue=team, at=utc(2026, 3, 30, 7, 0)) == ana  # 08:00 BST


def test_the_same_instant_has_different_people_in_two_time_zones(
    new_york_rotation, identity_team, london_team, other_engineer
):
    team, (ana, ben, cleo) = london_team
    at = utc(2026, 3, 30, 7, 30)  # 08:30 in London (ana's new turn), 03:30 Monday in New York (still last week)
    assert on_call_for(queue=team, at=at) == ana
    # New York: turns began 2, 9, 16, 23 Mar (positions 1, 2, 1, 2); Monday 30 Mar's hand-over
    # is still 5.5 hours away there, so the 23 Mar turn (position 2) runs.
    assert on_call_for(queue=identity_team, at=at) == other_engineer


def test_an_override_wins_for_its_window_only(new_york_rotation, identity_team, engineer, other_engineer):
    cover = UserFactory(username="cover", role=roles.TIER2_ENGINEER)
    OnCallOverride.objects.create(
        rotation=new_york_rotation,
        user=cover,
        starts_at=utc(2026, 3, 9, 12, 0),
        ends_at=utc(2026, 3, 9, 18, 0),
        reason="Sam at the dentist",
    )
    assert on_call_for(queue=identity_team, at=utc(2026, 3, 9, 11, 59)) == engineer
    assert on_call_for(queue=identity_team, at=utc(2026, 3, 9, 12, 0)) == cover
    assert on_call_for(queue=identity_team, at=utc(2026, 3, 9, 13, 30)) == cover  # across the hand-over
    assert on_call_for(queue=identity_team, at=utc(2026, 3, 9, 18, 0)) == other_engineer


def test_a_team_without_rotation_has_nobody_on_call(service_desk):
    assert on_call_for(queue=service_desk, at=utc(2026, 3, 9, 12, 0)) is None


def test_team_page_lists_members_lead_and_who_is_on_call(
    client, agent, new_york_rotation, identity_team, engineer, other_engineer
):
    import time_machine

    identity_team.lead = engineer
    identity_team.save()
    client.force_login(agent)
    with time_machine.travel(utc(2026, 3, 9, 13, 0), tick=False):
        response = client.get(f"/notifications/teams/{identity_team.slug}/")
    assert response.status_code == 200
    page = response.content.decode()
    on_call = page.split('id="on-call-now"')[1].split("</p>")[0]
    assert str(other_engineer) in on_call
    assert "lead" in page and str(engineer) in page


def test_team_page_is_for_staff(client, requester, identity_team):
    client.force_login(requester)
    assert client.get(f"/notifications/teams/{identity_team.slug}/").status_code == 403


def test_demo_configuration_gives_every_tier2_team_a_rotation(db):
    from tickets.demo import QUEUE_MEMBERS, seed_organization
    from tickets.notifications import demo
    from tickets.notifications.models import WebhookEndpoint

    org = seed_organization()
    demo.seed_configuration(org)

    rotations = {r.queue.slug: r for r in OnCallRotation.objects.select_related("queue")}
    assert set(rotations) == {"network", "identity-access", "applications", "security"}
    assert [m.user.username for m in rotations["network"].members.all()] == QUEUE_MEMBERS["network"]
    assert OnCallOverride.objects.count() == 1
    assert not WebhookEndpoint.objects.get().is_active
    assert on_call_for(queue=org.queues["security"], at=utc(2026, 6, 1, 12, 0)).username == "secops1"
