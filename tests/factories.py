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
    """Create a ticket through the real intake service (routing, timeline, SLA)."""
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
    return services.ticket_create(intake=intake, acting_user=acting_user or requester)
