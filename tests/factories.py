"""factory_boy factories: the one place tests build data."""

import factory
from django.contrib.auth.models import Group

from tickets import roles
from tickets.models import Category, Impact, Queue, Site, Ticket, Tier, Urgency, User


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Site {n}")
    slug = factory.Sequence(lambda n: f"site-{n}")
    time_zone = "Europe/London"
    country = "GB"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            roles.ensure_role_groups()
            self.groups.add(Group.objects.get(name=extracted))


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Queue {n}")
    slug = factory.Sequence(lambda n: f"queue-{n}")
    tier = Tier.ONE


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    default_queue = factory.SubFactory(QueueFactory, slug="service-desk", name="Service Desk", is_default_intake=True)


def make_ticket(
    *,
    requester,
    category,
    acting_user=None,
    title="Laptop will not start",
    description=None,
    impact=Impact.INDIVIDUAL,
    urgency=Urgency.SLOWED,
    **extra,
) -> Ticket:
    """Create a ticket as an entry point does: intake (routing, timeline, SLA), then the trigger rules."""
    from escalation import automation
    from tickets import services

    intake = services.TicketIntake(
        title=title,
        description=description or "The power light blinks twice and nothing else happens.",
        category=category,
        impact=impact,
        urgency=urgency,
        requester=requester,
        **extra,
    )
    return automation.ticket_create(intake=intake, acting_user=acting_user or requester)


def make_escalated_tickets(count, *, requester, category, team, agent, accepted_by=None) -> list[Ticket]:
    """`count` tickets escalated by `agent` to `team` (an "Access" path) with complete handoffs;
    every other one accepted by `accepted_by` when given."""
    from escalation import services as escalation_services
    from escalation.models import EscalationPath

    EscalationPath.objects.create(name="Access", trigger="access_restriction", to_queue=team)
    tickets = []
    for n in range(count):
        ticket = make_ticket(requester=requester, category=category, title=f"Escalated {n}", acting_user=agent)
        escalation_services.ticket_escalate(
            ticket_id=ticket.pk,
            trigger="access_restriction",
            handoff=escalation_services.Handoff(
                problem_summary=f"Shared drive refuses access for the finance team, case {n}.",
                steps_tried="Checked group membership in AD; remapped the drive; rebooted the laptop.",
                error_evidence="Access is denied. (0x80070005)",
                affected_scope="team",
                affected_count=4,
                urgency="slowed",
                checklist={},
            ),
            acting_user=agent,
        )
        if accepted_by is not None and n % 2:
            escalation_services.escalation_accept(ticket_id=ticket.pk, acting_user=accepted_by)
        tickets.append(ticket)
    return tickets


def make_article(
    *,
    author,
    title="How to reset your password",
    body="Open the self-service portal and follow the reset steps for your account.",
    category=None,
    tags="",
    public=False,
    publish=True,
):
    """An article created through the knowledge-base service (revision 1, search vector)."""
    from knowledgebase import services as kb_services

    return kb_services.article_create(
        title=title,
        body_markdown=body,
        category=category,
        tags=tags,
        is_public=public,
        publish=publish,
        acting_user=author,
    )


def make_playbook(*, category, name="Account access checks", steps=(), required_for_triggers=()):
    """A playbook with steps given as (instruction, expected_outcome) pairs, in order."""
    from knowledgebase.models import Playbook, PlaybookStep

    playbook = Playbook.objects.create(
        category=category, name=name, required_for_triggers=list(required_for_triggers), is_active=True
    )
    for position, (instruction, expected) in enumerate(steps, start=1):
        PlaybookStep.objects.create(
            playbook=playbook, position=position, instruction=instruction, expected_outcome=expected
        )
    return playbook
