"""The demo organization (API.md "Demo organization").

seed_demo calls, in order: seed_organization(); each app's
demo.seed_configuration(org); seed_tickets(org); each app's
demo.seed_activity(org). Apps add their part in their own demo.py.
"""

import random
from dataclasses import dataclass, field
from datetime import timedelta

import time_machine
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from escalation import automation
from escalation import demo as escalation_demo
from escalation import services as escalation_services
from escalation.sla.demo import at, sweep_ticket_until

from . import roles, services
from .models import (
    Category,
    Channel,
    Impact,
    Queue,
    RoutingRule,
    Site,
    Ticket,
    TicketEvent,
    Tier,
    Urgency,
    User,
)

DEMO_PASSWORD = "demo"


@dataclass
class DemoOrg:
    sites: dict[str, Site] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    tickets: list[Ticket] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(20261129))


SITES = [
    ("London HQ", "london", "Europe/London", "GB"),
    ("New York", "new-york", "America/New_York", "US"),
    ("Singapore", "singapore", "Asia/Singapore", "SG"),
    ("Berlin", "berlin", "Europe/Berlin", "DE"),
]

QUEUES = [
    ("Service Desk", "service-desk", Tier.ONE, "Tier 1: every request lands here first.", "Europe/London"),
    ("VIP Desk", "vip-desk", Tier.ONE, "Tier 1 desk for executives and their assistants.", "Europe/London"),
    ("Network", "network", Tier.TWO, "LAN, Wi-Fi, VPN, firewalls and WAN links.", "Europe/London"),
    ("Identity & Access", "identity-access", Tier.TWO, "Directory, SSO, MFA, privileged access.", "America/New_York"),
    ("Applications", "applications", Tier.TWO, "Business applications, e-mail and collaboration.", "Europe/Berlin"),
    ("Security", "security", Tier.TWO, "Security incidents and compliance.", "Europe/London"),
]

# slug, name, default Tier 1 queue, security?, description
CATEGORIES = [
    ("password-reset", "Password reset", False, "Forgotten or expired passwords, self-service reset problems."),
    ("account-access", "Account access", False, "Locked accounts, MFA, missing permissions, SSO sign-in."),
    ("vpn", "VPN", False, "Remote access: VPN client, tunnels, certificates."),
    ("network-outage", "Network outage", False, "Wired, Wi-Fi or WAN connectivity lost for one or many."),
    ("email", "Email", False, "Mailboxes, delivery, calendars, shared mailboxes."),
    ("software-install", "Software install", False, "Requests to install or update approved software."),
    ("hardware", "Hardware", False, "Laptops, monitors, docks, printers and peripherals."),
    ("security-incident", "Security incident", True, "Phishing, malware, suspicious sign-ins, data exposure."),
]

# username, first, last, groups, site, extra
PEOPLE = [
    ("agent1", "Alex", "Morgan", [roles.TIER1_AGENT], "london", {}),
    ("agent2", "Priya", "Shah", [roles.TIER1_AGENT], "new-york", {}),
    ("agent3", "Tomás", "Ruiz", [roles.TIER1_AGENT], "singapore", {}),
    ("engineer1", "Jordan", "Lee", [roles.TIER2_ENGINEER], "new-york", {}),
    ("engineer2", "Sam", "Okafor", [roles.TIER2_ENGINEER], "london", {}),
    ("engineer3", "Mei", "Tan", [roles.TIER2_ENGINEER], "singapore", {}),
    ("engineer4", "Lukas", "Becker", [roles.TIER2_ENGINEER], "berlin", {}),
    ("secops1", "Riley", "Carter", [roles.SECURITY_ENGINEER], "london", {}),
    ("manager1", "Dana", "Whitfield", [roles.MANAGER], "london", {}),
    ("admin", "Ada", "Admin", [roles.ADMIN], "london", {"is_staff": True, "is_superuser": True}),
    ("requester1", "Chris", "Taylor", [roles.REQUESTER], "london", {"department": "Finance"}),
    ("requester2", "Noor", "Haddad", [roles.REQUESTER], "new-york", {"department": "Sales"}),
    ("requester3", "Kenji", "Watanabe", [roles.REQUESTER], "singapore", {"department": "Operations"}),
    ("requester4", "Elena", "Fischer", [roles.REQUESTER], "berlin", {"department": "Engineering"}),
    ("ceo", "Victoria", "Hale", [roles.REQUESTER], "london", {"department": "Executive", "is_vip": True}),
]

QUEUE_MEMBERS = {
    "service-desk": ["agent1", "agent2", "agent3"],
    "vip-desk": ["agent1"],
    "network": ["engineer2", "engineer3"],
    "identity-access": ["engineer1", "engineer2"],
    "applications": ["engineer3", "engineer4"],
    "security": ["secops1"],
}
QUEUE_LEADS = {
    "service-desk": "agent1",
    "vip-desk": "agent1",
    "network": "engineer2",
    "identity-access": "engineer1",
    "applications": "engineer4",
    "security": "secops1",
}

# category → realistic (title, description, impact, urgency) samples
SAMPLES = {
    "password-reset": [
        (
            "Password expired, cannot sign in",
            "My password expired over the weekend and the reset page says my account is not eligible.",
            Impact.INDIVIDUAL,
            Urgency.STOPPED,
        ),
        (
            "Self-service reset email never arrives",
            "Tried the reset link three times, no email in inbox or junk.",
            Impact.INDIVIDUAL,
            Urgency.SLOWED,
        ),
    ],
    "account-access": [
        (
            "Account locked after MFA prompts",
            "I got many MFA prompts I did not start and now my account is locked.",
            Impact.INDIVIDUAL,
            Urgency.STOPPED,
        ),
        (
            "Need access to the Finance shared drive",
            "New role in Finance, need read/write on the month-end close folder.",
            Impact.INDIVIDUAL,
            Urgency.MINOR,
        ),
        (
            "SSO loop on the HR portal",
            "The HR portal keeps redirecting between login and the dashboard for our whole team.",
            Impact.TEAM,
            Urgency.SLOWED,
        ),
    ],
    "vpn": [
        (
            "VPN disconnects every 10 minutes",
            "GlobalProtect drops the tunnel roughly every 10 minutes since Monday.",
            Impact.INDIVIDUAL,
            Urgency.SLOWED,
        ),
        (
            "VPN certificate error at the Singapore office",
            "Everyone at the site sees 'certificate not trusted' when connecting.",
            Impact.SITE,
            Urgency.STOPPED,
        ),
    ],
    "network-outage": [
        ("Wi-Fi down on floor 3", "No Wi-Fi on the third floor, wired ports still work.", Impact.TEAM, Urgency.STOPPED),
        (
            "WAN link to New York is slow",
            "File transfers to New York crawl, video calls drop.",
            Impact.SITE,
            Urgency.SLOWED,
        ),
    ],
    "email": [
        (
            "Shared mailbox missing in Outlook",
            "The support@ shared mailbox disappeared from my Outlook folder list.",
            Impact.INDIVIDUAL,
            Urgency.SLOWED,
        ),
        (
            "Emails to a partner bounce",
            "Every mail to the logistics partner bounces with 550 5.7.1.",
            Impact.TEAM,
            Urgency.SLOWED,
        ),
    ],
    "software-install": [
        (
            "Install Power BI Desktop",
            "Please install Power BI Desktop for the quarterly reporting.",
            Impact.INDIVIDUAL,
            Urgency.MINOR,
        ),
        ("Update Zoom client", "Zoom says my version is no longer supported.", Impact.INDIVIDUAL, Urgency.MINOR),
    ],
    "hardware": [
        (
            "Laptop will not charge",
            "Charging light is off with two different chargers.",
            Impact.INDIVIDUAL,
            Urgency.STOPPED,
        ),
        (
            "Printer on floor 2 jams constantly",
            "The HP on floor 2 jams on every double-sided job.",
            Impact.TEAM,
            Urgency.MINOR,
        ),
    ],
    "security-incident": [
        (
            "Suspicious email asking for credentials",
            "Got an email pretending to be IT asking me to confirm my password; I clicked the link.",
            Impact.INDIVIDUAL,
            Urgency.STOPPED,
        ),
        (
            "Unknown sign-in from abroad",
            "Sign-in alert from a country I have never visited.",
            Impact.INDIVIDUAL,
            Urgency.STOPPED,
        ),
    ],
}


def database_has_real_data() -> bool:
    """Anything beyond an empty schema means someone's data: refuse to touch it."""
    return Ticket.objects.exists() or User.objects.exists()


@transaction.atomic
def seed_organization() -> DemoOrg:
    org = DemoOrg()
    for name, slug, tz, country in SITES:
        org.sites[slug] = Site.objects.create(name=name, slug=slug, time_zone=tz, country=country)
    for name, slug, tier, description, tz in QUEUES:
        org.queues[slug] = Queue.objects.create(
            name=name,
            slug=slug,
            tier=tier,
            description=description,
            time_zone=tz,
            is_security=slug == "security",
            is_default_intake=slug == "service-desk",
        )
    roles.ensure_role_groups()
    groups = {group.name: group for group in Group.objects.all()}
    for username, first, last, group_names, site_slug, extra in PEOPLE:
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@handoff.example",
            site=org.sites[site_slug],
            **extra,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([groups[name] for name in group_names])
        org.users[username] = user
    for slug, members in QUEUE_MEMBERS.items():
        queue = org.queues[slug]
        queue.members.set([org.users[name] for name in members])
        queue.lead = org.users[QUEUE_LEADS[slug]]
        queue.save(update_fields=["lead"])
    for slug, name, is_security, description in CATEGORIES:
        org.categories[slug] = Category.objects.create(
            slug=slug,
            name=name,
            description=description,
            default_queue=org.queues["service-desk"],
            is_security=is_security,
        )
    RoutingRule.objects.create(
        name="VIP requesters go to the VIP desk",
        position=10,
        requester_is_vip=True,
        target_queue=org.queues["vip-desk"],
        raise_priority_to="P2",
    )
    RoutingRule.objects.create(
        name="Outage keywords raise priority",
        position=20,
        keywords="outage, everyone, whole office, all users",
        raise_priority_to="P2",
    )
    return org


def seed_tickets(org: DemoOrg, *, count: int) -> None:
    """Create `count` tickets through the real services, spread over the last 30 days."""
    rng = org.rng
    requesters = [user for name, user in org.users.items() if name.startswith("requester") or name == "ceo"]
    agents = [org.users[name] for name in ("agent1", "agent2", "agent3")]
    now = timezone.now()
    for index in range(count):
        slug = rng.choice(list(SAMPLES))
        title, description, impact, urgency = rng.choice(SAMPLES[slug])
        requester = rng.choice(requesters)
        # Skewed towards recent days, as a real backlog is.
        created_at = now - timedelta(minutes=int(rng.triangular(5, 30 * 24 * 60, 12 * 60)))
        if index % 20 == 0:  # a few arrived in the last hours and nobody has touched them yet
            created_at = now - timedelta(minutes=rng.randint(5, 180))
        with time_machine.travel(created_at, tick=False):
            channel = rng.choice([Channel.PHONE, Channel.PORTAL, Channel.EMAIL, Channel.WALK_UP])
            actor = requester if channel == Channel.PORTAL else rng.choice(agents)
            ticket = automation.ticket_create(
                intake=services.TicketIntake(
                    title=title,
                    description=description,
                    category=org.categories[slug],
                    impact=impact,
                    urgency=urgency,
                    requester=requester,
                    channel=channel,
                ),
                acting_user=actor,
            )
        org.tickets.append(ticket)
        _advance(org, ticket, created_at=created_at, now=now, agents=agents, index=index)


def _advance(org: DemoOrg, ticket: Ticket, *, created_at, now, agents, index: int) -> None:
    """Move tickets along as a real desk would: old ones are mostly resolved, recent ones in flight.

    Each step happens at(): the SLA sweep has run for the ticket up to then, so a Tier 1
    budget that ran out has escalated it automatically; Tier 2 then takes it from there.
    """
    rng = org.rng
    age = now - created_at
    if ticket.tier == Tier.TWO:
        return _advance_with_security(org, ticket, created_at=created_at, now=now)
    agent = rng.choice(agents)
    if ticket.is_restricted and not roles.can_see_restricted(agent):
        agent = org.users["secops1"]  # only cleared people work security tickets
    step = created_at + timedelta(minutes=rng.randint(3, 45))
    if step >= now or age < timedelta(hours=3) or (age < timedelta(hours=24) and rng.random() < 0.35):
        return  # still new
    with at(step, ticket) as escalated:
        if escalated:
            return _tier2_takes_over(org, ticket, now=now)
        services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=agent)
        services.ticket_comment_add(
            ticket_id=ticket.pk,
            body=f"Hi {ticket.requester.first_name}, thanks for reporting this. I'm looking into it now.",
            public=True,
            acting_user=agent,
        )
    step += timedelta(minutes=rng.randint(10, 180))
    if step >= now:
        return
    if age > timedelta(days=3):
        resolve_chance = 0.93
    elif age > timedelta(hours=8):
        resolve_chance = 0.55
    else:
        resolve_chance = 0.15
    roll = rng.random()
    if roll >= resolve_chance:
        if roll < resolve_chance + 0.25:
            with at(step, ticket) as escalated:
                if escalated:
                    return _tier2_takes_over(org, ticket, now=now)
                services.ticket_set_pending(
                    ticket_id=ticket.pk, reason="Asked the requester for a screenshot of the error.", acting_user=agent
                )
        return
    if rng.random() < 0.2:
        with at(step, ticket) as escalated:
            if escalated:
                return _tier2_takes_over(org, ticket, now=now)
            services.ticket_set_pending(
                ticket_id=ticket.pk, reason="Waiting for the requester to try the fix.", acting_user=agent
            )
        step += timedelta(minutes=rng.randint(20, 600))
        if step >= now:
            return
        with at(step, ticket):
            services.ticket_comment_add(
                ticket_id=ticket.pk, body="Tried it, looks better now.", public=True, acting_user=ticket.requester
            )
        step += timedelta(minutes=rng.randint(5, 60))
    resolver = agent
    if rng.random() < 0.22:
        escalated = _escalate_in_history(org, ticket, at_=step, agent=agent, now=now)
        if escalated is None:
            return  # still with Tier 2
        resolver, step = escalated
    with at(step, ticket) as escalated:
        if escalated:
            return _tier2_takes_over(org, ticket, now=now)
        services.ticket_resolve(
            ticket_id=ticket.pk,
            resolution=rng.choice(RESOLUTIONS.get(ticket.category.slug, RESOLUTIONS["default"])),
            acting_user=resolver,
        )
    reopen_at = step + timedelta(hours=rng.randint(2, 30))
    if rng.random() < 0.06 and reopen_at < now:
        with at(reopen_at, ticket):
            automation.ticket_reopen(
                ticket_id=ticket.pk, reason="It happened again this morning.", acting_user=ticket.requester
            )


def _advance_with_security(org: DemoOrg, ticket: Ticket, *, created_at, now) -> None:
    """A security ticket went to Security at intake: secops accepts it, answers, and closes the old ones."""
    rng = org.rng
    secops = org.users["secops1"]
    accepted_at = created_at + timedelta(minutes=rng.randint(4, 40))
    if accepted_at >= now:
        return
    with at(accepted_at, ticket):
        escalation_services.escalation_accept(ticket_id=ticket.pk, acting_user=secops)
        services.ticket_comment_add(
            ticket_id=ticket.pk,
            body="Security here: we have your report. Don't delete anything; we'll call you shortly.",
            public=True,
            acting_user=secops,
        )
    resolve_at = accepted_at + timedelta(hours=rng.randint(2, 20))
    if resolve_at >= now or rng.random() < 0.2:
        return
    with at(resolve_at, ticket):
        services.ticket_resolve(
            ticket_id=ticket.pk,
            resolution="Contained: password reset, sessions revoked, the message purged from all mailboxes.",
            acting_user=secops,
        )


def _escalate_in_history(org: DemoOrg, ticket: Ticket, *, at_, agent: User, now):
    """Escalate with a complete handoff, let Tier 2 accept; return (engineer, when to resolve) or None."""
    trigger, summary, steps, evidence, checklist = escalation_demo.HANDOFFS[ticket.category.slug]
    handoff = escalation_services.Handoff(
        problem_summary=summary,
        steps_tried=steps,
        error_evidence=evidence,
        affected_scope=ticket.impact,
        affected_count={Impact.INDIVIDUAL: 1, Impact.TEAM: 12, Impact.SITE: 140, Impact.ORGANIZATION: 2400}.get(
            ticket.impact
        ),
        urgency=ticket.urgency,
        checklist=checklist,
    )
    with at(at_, ticket) as escalated:
        if escalated:
            escalation = ticket.escalations.order_by("-escalated_at", "-pk").first()
        else:
            escalation = escalation_services.ticket_escalate(
                ticket_id=ticket.pk, trigger=trigger, handoff=handoff, acting_user=agent
            )
    return _tier2_accepts(org, ticket, escalation, now=now)


def _tier2_accepts(org: DemoOrg, ticket: Ticket, escalation, *, now):
    """The receiving team accepts a while after the escalation (and often rates the handoff).

    Returns (engineer, when they resolve it), or None if it is still with Tier 2 at `now`.
    """
    rng = org.rng
    accepted_at = escalation.escalated_at + timedelta(minutes=rng.choice([4, 9, 15, 22, 35, 50, 95]))
    if accepted_at >= now:
        return None
    team = escalation.to_queue
    engineer = rng.choice(list(team.members.all()) or [team.lead])
    with at(accepted_at, ticket):
        escalation_services.escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
    if rng.random() < 0.7:
        with at(accepted_at + timedelta(minutes=2), ticket):
            escalation_services.escalation_rate(
                escalation_id=escalation.pk,
                rating=rng.choice([3, 4, 4, 5, 5, 5]),
                comment=rng.choice(["Clear evidence, saved us the first hour.", "", "Good handoff."]),
                acting_user=engineer,
            )
    resolve_at = accepted_at + timedelta(minutes=rng.randint(30, 8 * 60))
    if resolve_at >= now:
        return None
    return engineer, resolve_at


def _tier2_takes_over(org: DemoOrg, ticket: Ticket, *, now) -> None:
    """The sweep escalated the ticket (Tier 1's budget ran out): Tier 2 accepts it and resolves it."""
    escalation = ticket.escalations.order_by("-escalated_at", "-pk").first()
    taken = _tier2_accepts(org, ticket, escalation, now=now)
    if taken is None:
        return
    engineer, resolve_at = taken
    with at(resolve_at, ticket):
        services.ticket_resolve(
            ticket_id=ticket.pk,
            resolution=org.rng.choice(RESOLUTIONS.get(ticket.category.slug, RESOLUTIONS["default"])),
            acting_user=engineer,
        )


# ---------------------------------------------------------------- the SLA sweep, played to the end


def sweep_history(org: DemoOrg) -> int:
    """After every app's activity: the sweep played for each demo ticket up to now (seed_demo's last step).

    A ticket the sweep escalates on the way is taken over by Tier 2, as during the walk.
    Returns how many tickets were escalated automatically in this last stretch.
    """
    now = timezone.now()
    escalated = 0
    for ticket in org.tickets:
        while sweep_ticket_until(ticket.pk, now):
            escalated += 1
            ticket.refresh_from_db(fields=["status", "tier", "queue", "priority"])
            _tier2_takes_over(org, ticket, now=now)
    return escalated


RESOLUTIONS = {
    "password-reset": [
        "Reset the password and confirmed sign-in with the requester.",
        "Cleared the stale cached credentials; sign-in works.",
    ],
    "account-access": [
        "Unlocked the account and re-registered MFA.",
        "Added the requester to the correct access group.",
    ],
    "vpn": [
        "Reinstalled the VPN client and renewed the certificate.",
        "Switched the client to the nearest gateway; stable now.",
    ],
    "network-outage": ["Access point rebooted; floor confirmed back online.", "Replaced the faulty patch cable."],
    "email": [
        "Re-added the shared mailbox permission; it reappeared after restart.",
        "Partner's SPF record fixed on their side; mail flows.",
    ],
    "software-install": [
        "Installed via Software Center and verified it launches.",
        "Updated to the supported version.",
    ],
    "hardware": ["Replaced the charger; battery charging normally.", "Cleared the jam and replaced the worn roller."],
    "default": ["Walked the requester through the fix; confirmed working."],
}


def bulk_tickets(org_or_none, *, count: int, batch_size: int = 5000, stdout=None) -> int:
    """Bulk-create `count` tickets fast (benchmarks, 100k+): one created event each, no per-row services.

    Tickets are historical: most resolved, spread over 180 days. The SLA and
    escalation apps add their records in their own bulk hooks.
    """
    rng = random.Random(count)
    categories = list(Category.objects.all())
    requesters = list(User.objects.filter(groups__name=roles.REQUESTER))
    queue = Queue.objects.get(is_default_intake=True)
    agents = list(User.objects.filter(groups__name=roles.TIER1_AGENT))
    now = timezone.now()
    made = 0
    while made < count:
        size = min(batch_size, count - made)
        rows = []
        for _ in range(size):
            category = rng.choice(categories)
            title, description, impact, urgency = rng.choice(SAMPLES.get(category.slug, SAMPLES["hardware"]))
            created_at = now - timedelta(minutes=rng.randint(1, 180 * 24 * 60))
            resolved = rng.random() < 0.85 and created_at < now - timedelta(hours=4)
            rows.append(
                Ticket(
                    title=title,
                    description=description,
                    category=category,
                    impact=impact,
                    urgency=urgency,
                    priority=rng.choice(["P2", "P3", "P3", "P4", "P4"]),
                    requester=rng.choice(requesters),
                    channel=Channel.EMAIL,
                    queue=queue,
                    tier1_queue=queue,
                    assignee=rng.choice(agents) if resolved else None,
                    status="resolved" if resolved else "new",
                    created_at=created_at,
                    first_responded_at=created_at + timedelta(minutes=rng.randint(5, 120)) if resolved else None,
                    resolved_at=created_at + timedelta(minutes=rng.randint(30, 3000)) if resolved else None,
                    routing_reason="Bulk demo data.",
                )
            )
        with transaction.atomic():
            created = Ticket.objects.bulk_create(rows, batch_size=batch_size)
            TicketEvent.objects.bulk_create(
                [
                    TicketEvent(
                        ticket=t, kind="created", created_at=t.created_at, message="Bulk demo data", is_public=True
                    )
                    for t in created
                ],
                batch_size=batch_size,
            )
        made += size
        if stdout:
            stdout.write(f"  … {made}/{count} tickets")
    return made
