"""This app's part of the demo organization (see tickets/management/commands/seed_demo.py)."""

from datetime import date, time, timedelta

from django.utils import timezone

from tickets.demo import QUEUE_MEMBERS, DemoOrg
from tickets.models import Tier

from .models import OnCallMember, OnCallOverride, OnCallRotation, WebhookEndpoint


def seed_configuration(org: DemoOrg) -> None:
    """Weekly on-call rotations for the Tier 2 teams, one holiday override, a disabled webhook."""
    for slug, queue in org.queues.items():
        if queue.tier != Tier.TWO:
            continue
        rotation = OnCallRotation.objects.create(
            queue=queue,
            time_zone=queue.time_zone,
            handover_time=time(9, 0),
            handover_weekday=0,  # Monday 09:00 in the team's own time zone
            rotation_length_days=7,
            starts_on=date(2026, 1, 5),
        )
        for position, username in enumerate(QUEUE_MEMBERS.get(slug, []), start=1):
            OnCallMember.objects.create(rotation=rotation, user=org.users[username], position=position)
    network = OnCallRotation.objects.filter(queue=org.queues["network"]).first()
    if network is not None:
        now = timezone.now()
        OnCallOverride.objects.create(
            rotation=network,
            user=org.users["engineer2"],
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=4),
            reason="Covering for Mei (annual leave).",
        )
    WebhookEndpoint.objects.create(
        name="Security team chat (example)",
        queue=org.queues["security"],
        url="https://chat.example.invalid/hooks/security",
        secret="change-me",
        is_active=False,
        kinds=["escalated_to_team", "sla_breached"],
    )
