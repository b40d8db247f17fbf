"""This app's part of the demo organization (see tickets/management/commands/seed_demo.py)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tickets.models import Impact, Priority, Ticket, TicketStatus, Tier, Urgency

from . import services
from .models import ChecklistItem, EscalationPath, ReturnReason, Trigger, TriggerRule
from .sla import demo as sla_demo

# category → the Tier 2 team that owns its escalations
CATEGORY_TEAMS = {
    "password-reset": "identity-access",
    "account-access": "identity-access",
    "vpn": "network",
    "network-outage": "network",
    "email": "applications",
    "software-install": "applications",
    "hardware": "applications",
    "security-incident": "security",
}

CHECKLISTS = {
    "password-reset": [("identity_verified", "Caller identity verified (how)", True)],
    "account-access": [
        ("account_lock_state", "Account lock state checked", True),
        ("mfa_methods", "MFA methods registered on the account", True),
    ],
    "vpn": [
        ("vpn_client_version", "VPN client version recorded", True),
        ("network_type", "Network the user connects from (home, hotel, office)", False),
    ],
    "network-outage": [("locations", "Locations / floors affected", True)],
    "email": [("message_trace", "Message trace run (result)", True)],
    "security-incident": [("contained", "Containment done so far (password reset, device isolated…)", True)],
}

# category → (trigger, what is wrong, what was tried, evidence, checklist answers)
HANDOFFS = {
    "password-reset": (
        Trigger.ACCESS_RESTRICTION,
        "Self-service reset refuses the account as 'not eligible'; the account sits in an OU Tier 1 cannot manage.",
        "1. Verified identity by callback.\n2. Tried SSPR twice: 'not eligible'.\n3. Checked group: not in SSPR-Users.",
        "SSPR error: Your account is not eligible for password reset (code 0x80048823)\r\n",
        {"identity_verified": "Callback to the number in HR records"},
    ),
    "account-access": (
        Trigger.ACCESS_RESTRICTION,
        "Account locked after a burst of MFA prompts the user did not start; unlock needs directory admin rights.",
        "Checked sign-in logs (12 failed MFA in 5 min), confirmed with user it was not them, asked them to deny all.",
        "AADSTS50053: The account is locked, you've tried to sign in too many times with an incorrect user ID or "
        "password.\n\tCorrelation ID: 4f1c2a9e-77b1-4c1e-9d6a-0a3f5e2b8c11\n\tTimestamp: 2026-03-02 08:14:55Z  ",
        {"account_lock_state": "Locked (smart lockout), since 08:14 UTC", "mfa_methods": "Authenticator app only"},
    ),
    "vpn": (
        Trigger.INTEGRATION_FAILURE,
        "GlobalProtect tunnel drops every ~10 minutes; gateway logs show the session being torn down server-side.",
        "Reinstalled the client, switched from Wi-Fi to tethering (same), cleared the portal cache, rebooted.",
        "PanGPS: tunnel is down due to keep-alive timeout\nPanGPS: Gateway gp-lon-01 → disconnected (reason 0x1d)",
        {"vpn_client_version": "GlobalProtect 6.2.1-47", "network_type": "Home broadband"},
    ),
    "network-outage": (
        Trigger.COMPLEXITY_LIMIT,
        "No Wi-Fi on floor 3 since 09:00; wired ports work, so the access points or their controller are suspect.",
        "Power-cycled the floor switch closet PoE injector, confirmed 4 APs dark on the dashboard, wired test OK.",
        "Controller: AP-3F-01..04 state=DISCONNECTED last_seen=08:57:12 uplink=Gi1/0/24 err-disabled (bpduguard)",
        {"locations": "London HQ floor 3, east and west wings"},
    ),
    "email": (
        Trigger.INTEGRATION_FAILURE,
        "Every mail to the logistics partner bounces; their domain rejects our relay since the certificate change.",
        "Ran a message trace, re-sent from OWA (same bounce), checked partner's MX and SPF from outside.",
        "550 5.7.1 Service unavailable; Client host [203.0.113.25] blocked using partner-rbl; see NDR for details",
        {"message_trace": "All 14 messages since Monday: FAILED at partner MX"},
    ),
    "software-install": (
        Trigger.ACCESS_RESTRICTION,
        "Power BI Desktop install is blocked by the application allow-list; Tier 1 cannot change the policy.",
        "Tried the Company Portal package (not listed), checked licence (assigned), tried the MSI (blocked).",
        "This app has been blocked by your system administrator.\nPolicy: AppLocker EXE rule 'Default deny'",
        {},
    ),
    "hardware": (
        Trigger.COMPLEXITY_LIMIT,
        "Laptop will not charge with two known-good chargers; the firmware reports the battery as not present.",
        "Tested two chargers and another dock, hard reset (hold power 30 s), ran vendor diagnostics from boot menu.",
        "Diagnostics: Battery — Not detected (error 2000-0131)\nValidation code: 78564",
        {},
    ),
    "security-incident": (
        Trigger.SECURITY_CONCERN,
        "User entered their password on a phishing page impersonating IT; possible credential compromise.",
        "Reset the password, revoked sessions, confirmed MFA was approved once at 10:42 from an unknown device.",
        "Sign-in: 2026-03-02T10:42:07Z  IP 198.51.100.77 (NL)  App: Office 365  MFA: approved — résumé.pdf.exe",
        {"contained": "Password reset and sessions revoked at 10:55"},
    ),
}

# What a caller says when it is a security matter, whatever category they picked (admins edit the rule).
SECURITY_KEYWORDS = [
    "ransomware",
    "encrypted my files",
    "data breach",
    "exfiltration",
    "phishing",
    "clicked a link",
    "clicked the link",
    "clicked on a link",
    "typed my password",
    "entered my password",
    "gave my password",
    "malware",
    "virus",
    "trojan",
    "keylogger",
    "credential leak",
    "leaked credentials",
    "password leaked",
    "suspicious login",
    "suspicious sign-in",
    "suspicious sign in",
    "hacked",
    "account compromised",
]

RETURN_NOTES = {
    ReturnReason.HANDOFF_INCOMPLETE: ("The evidence is a paraphrase; paste the exact error.", ["error_evidence"]),
    ReturnReason.WITHIN_TIER1_SCOPE: ("Clearing the cached credentials fixes this; see the article.", []),
}


@transaction.atomic
def seed_configuration(org) -> None:
    """Paths for every category and trigger (owners = team leads, on-call after hours), checklists, rules."""
    teams = {slug: org.queues[slug] for slug in set(CATEGORY_TEAMS.values())}
    for category_slug, team_slug in CATEGORY_TEAMS.items():
        team = teams[team_slug]
        category = org.categories[category_slug]
        for trigger in Trigger.values:
            if trigger == Trigger.SECURITY_CONCERN:
                continue  # one security path for every category, below
            target = team
            EscalationPath.objects.create(
                name=f"{category.name}: {Trigger(trigger).label} → {target.name}",
                category=category,
                trigger=trigger,
                to_queue=target,
                owner=target.lead,
                after_hours_queue=target,
                after_hours_notify_on_call=True,
                position=10,
            )
    for trigger in Trigger.values:
        target = org.queues["security"] if trigger == Trigger.SECURITY_CONCERN else org.queues["applications"]
        EscalationPath.objects.create(
            name=f"Default: {Trigger(trigger).label} → {target.name}",
            trigger=trigger,
            to_queue=target,
            owner=target.lead,
            after_hours_queue=target,
            after_hours_notify_on_call=True,
            position=100,
        )
    for category_slug, items in CHECKLISTS.items():
        for position, (key, question, required) in enumerate(items, start=1):
            ChecklistItem.objects.create(
                category=org.categories[category_slug],
                key=key,
                question=question,
                required=required,
                position=position * 10,
            )
    TriggerRule.objects.create(
        name="Security keywords go to Security",
        position=10,
        keywords=", ".join(SECURITY_KEYWORDS),
        escalate_with_trigger=Trigger.SECURITY_CONCERN,
        notify_team_lead=True,
    )
    TriggerRule.objects.create(
        name="Organization-wide P1 is a business-impact escalation",
        position=20,
        impact=Impact.ORGANIZATION,
        min_priority=Priority.P1,
        escalate_with_trigger=Trigger.BUSINESS_IMPACT,
    )
    TriggerRule.objects.create(
        name="Reopened twice: raise to P2 and tell the lead",
        position=30,
        min_reopen_count=2,
        raise_priority_to=Priority.P2,
        notify_team_lead=True,
    )


def seed_activity(org) -> None:
    """Escalate about a quarter of the tickets still open in Tier 1, with complete handoffs;
    Tier 2 accepts most, returns a few (both reasons), and rates several."""
    rng = org.rng
    now = timezone.now()
    ids = [ticket.pk for ticket in org.tickets]
    open_tier1 = list(
        Ticket.objects.filter(
            pk__in=ids, tier=Tier.ONE, status__in=[TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING]
        )
        .select_related("category", "assignee", "requester")
        .order_by("pk")
    )
    agents = [org.users[name] for name in ("agent1", "agent2", "agent3")]
    returns = 0
    for ticket in open_tier1:
        if rng.random() >= 0.25:
            continue
        last = ticket.events.order_by("-created_at").values_list("created_at", flat=True).first() or ticket.created_at
        escalated_at = last + timedelta(minutes=rng.randint(15, 180))
        if escalated_at >= now - timedelta(minutes=2):
            escalated_at = max(last + timedelta(seconds=30), now - timedelta(minutes=2))
            if escalated_at >= now:
                continue
        trigger, summary, steps, evidence, checklist = HANDOFFS[ticket.category.slug]
        handoff = services.Handoff(
            problem_summary=summary,
            steps_tried=steps,
            error_evidence=evidence,
            affected_scope=ticket.impact,
            affected_count={Impact.INDIVIDUAL: 1, Impact.TEAM: 12, Impact.SITE: 140, Impact.ORGANIZATION: 2400}.get(
                ticket.impact
            ),
            urgency=ticket.urgency or Urgency.SLOWED,
            checklist=checklist,
        )
        actor = ticket.assignee or rng.choice(agents)
        with sla_demo.at(escalated_at, ticket) as escalated:  # Tier 1's budget may have run out first
            if escalated:
                escalation = ticket.escalations.order_by("-escalated_at", "-pk").first()
                escalated_at = escalation.escalated_at
            else:
                escalation = services.ticket_escalate(
                    ticket_id=ticket.pk, trigger=trigger, handoff=handoff, acting_user=actor
                )
        decided_at = escalated_at + timedelta(minutes=rng.randint(5, 150))
        if decided_at >= now:
            continue  # still awaiting Tier 2
        team = escalation.to_queue
        engineer = rng.choice(list(team.members.all()) or [team.lead])
        roll = rng.random()
        if returns < 2 or (roll < 0.12 and returns < 8):  # the first two show both reasons
            reason = ReturnReason.HANDOFF_INCOMPLETE if returns % 2 == 0 else ReturnReason.WITHIN_TIER1_SCOPE
            note, missing = RETURN_NOTES[reason]
            returns += 1
            with sla_demo.at(decided_at, ticket):
                services.escalation_return(
                    ticket_id=ticket.pk,
                    reason=reason,
                    note=note,
                    missing_fields=missing,
                    kb_reference="KB: Clear cached credentials in Windows Credential Manager"
                    if reason == ReturnReason.WITHIN_TIER1_SCOPE
                    else "",
                    acting_user=engineer,
                )
        elif roll < 0.85:
            with sla_demo.at(decided_at, ticket):
                services.escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
        else:
            continue  # still awaiting Tier 2
        escalation.refresh_from_db(fields=["outcome"])
        if rng.random() < 0.6 and decided_at + timedelta(minutes=5) < now:
            with sla_demo.at(decided_at + timedelta(minutes=5), ticket):
                services.escalation_rate(
                    escalation_id=escalation.pk,
                    rating=rng.choice([3, 4, 4, 5, 5]) if escalation.outcome != "returned" else rng.choice([1, 2, 3]),
                    comment="Clear evidence, saved us the first hour."
                    if escalation.outcome != "returned"
                    else "Needed more before escalating.",
                    acting_user=engineer,
                )


def seed_bulk(*, count: int, batch_size: int = 5000) -> int:
    """Escalations for bulk historical tickets (benchmarks, dashboards at scale): bulk_create, no services.

    About a fifth of the resolved bulk tickets were escalated with a complete handoff and
    accepted by the category's Tier 2 team, which then resolved them; a few were automatic
    (time exceeded) with fields missing. Tickets move to Tier 2 to match.
    """
    import random

    from django.db.models import Q

    from tickets.models import Queue, User

    from .models import Escalation, Outcome

    rng = random.Random(count + 1)
    teams = {queue.slug: queue for queue in Queue.objects.filter(tier=Tier.TWO).prefetch_related("members")}
    engineers = {slug: list(team.members.all()) or [team.lead] for slug, team in teams.items()}
    agents = list(User.objects.filter(groups__name="Tier 1 agent"))
    bulk = Ticket.objects.filter(
        Q(routing_reason="Bulk demo data."), status=TicketStatus.RESOLVED, escalations__isnull=True
    ).select_related("category", "queue")
    made = 0
    last_pk = 0
    while True:
        batch = list(bulk.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
        if not batch:
            break
        last_pk = batch[-1].pk
        rows, moved = [], []
        for ticket in batch:
            if rng.random() >= 0.2 or ticket.category.slug not in HANDOFFS:
                continue
            team = teams.get(CATEGORY_TEAMS.get(ticket.category.slug, ""))
            if team is None:
                continue
            trigger, summary, steps, evidence, checklist = HANDOFFS[ticket.category.slug]
            automatic = rng.random() < 0.15
            span = ticket.resolved_at - ticket.created_at
            escalated_at = ticket.created_at + span * rng.uniform(0.1, 0.4)
            accepted_at = escalated_at + (ticket.resolved_at - escalated_at) * rng.uniform(0.05, 0.3)
            engineer = rng.choice(engineers[team.slug])
            rows.append(
                Escalation(
                    ticket=ticket,
                    trigger=Trigger.TIME_EXCEEDED if automatic else trigger,
                    problem_summary=summary,
                    steps_tried="" if automatic else steps,
                    error_evidence="" if automatic else evidence,
                    affected_scope=ticket.impact,
                    urgency=ticket.urgency,
                    checklist={} if automatic else checklist,
                    from_queue=ticket.queue,
                    to_queue=team,
                    escalated_by=None if automatic else rng.choice(agents),
                    tier1_assignee=ticket.assignee,
                    escalated_at=escalated_at,
                    is_automatic=automatic,
                    missing_fields=["steps_tried", "error_evidence"] if automatic else [],
                    outcome=Outcome.ACCEPTED,
                    accepted_by=engineer,
                    accepted_at=accepted_at,
                    rating=rng.choice([2, 3, 3]) if automatic else rng.choice([3, 4, 4, 5, 5]),
                    rated_by=engineer,
                    rated_at=accepted_at,
                )
            )
            ticket.tier, ticket.queue, ticket.assignee = Tier.TWO, team, engineer
            moved.append(ticket)
        with transaction.atomic():
            Escalation.objects.bulk_create(rows, batch_size=batch_size)
            Ticket.objects.bulk_update(moved, ["tier", "queue", "assignee"], batch_size=batch_size)
        made += len(rows)
    return made
