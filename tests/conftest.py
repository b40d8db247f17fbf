"""Fixed personas and the building blocks every test uses."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tickets import roles
from tickets.models import Tier

from .factories import CategoryFactory, QueueFactory, SiteFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    """Skip, loudly, what needs a service this run does not have."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_redis = settings.CELERY_BROKER_URL.startswith("redis")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL is not PostgreSQL)"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis (REDIS_URL not set or not reachable)"))


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def site(db):
    return SiteFactory(name="London HQ", slug="london", time_zone="Europe/London")


@pytest.fixture
def service_desk(db):
    return QueueFactory(name="Service Desk", slug="service-desk", tier=Tier.ONE, is_default_intake=True)


@pytest.fixture
def identity_team(db):
    return QueueFactory(name="Identity & Access", slug="identity-access", tier=Tier.TWO)


@pytest.fixture
def security_team(db):
    return QueueFactory(name="Security", slug="security", tier=Tier.TWO, is_security=True)


@pytest.fixture
def category(service_desk):
    return CategoryFactory(name="Account access", slug="account-access", default_queue=service_desk)


@pytest.fixture
def security_category(service_desk):
    return CategoryFactory(
        name="Security incident", slug="security-incident", default_queue=service_desk, is_security=True
    )


@pytest.fixture
def requester(site):
    return UserFactory(username="requester1", first_name="Chris", last_name="Taylor", site=site, role=roles.REQUESTER)


@pytest.fixture
def other_requester(site):
    return UserFactory(username="requester2", first_name="Noor", last_name="Haddad", site=site, role=roles.REQUESTER)


@pytest.fixture
def agent(site, service_desk):
    user = UserFactory(username="agent1", first_name="Alex", last_name="Morgan", site=site, role=roles.TIER1_AGENT)
    service_desk.members.add(user)
    return user


@pytest.fixture
def engineer(site, identity_team):
    user = UserFactory(username="engineer1", first_name="Jordan", last_name="Lee", site=site, role=roles.TIER2_ENGINEER)
    identity_team.members.add(user)
    return user


@pytest.fixture
def other_engineer(site, identity_team):
    user = UserFactory(username="engineer2", first_name="Sam", last_name="Okafor", site=site, role=roles.TIER2_ENGINEER)
    identity_team.members.add(user)
    return user


@pytest.fixture
def secops(site, security_team):
    user = UserFactory(
        username="secops1", first_name="Riley", last_name="Carter", site=site, role=roles.SECURITY_ENGINEER
    )
    security_team.members.add(user)
    return user


@pytest.fixture
def manager(site):
    return UserFactory(username="manager1", first_name="Dana", last_name="Whitfield", site=site, role=roles.MANAGER)


@pytest.fixture
def admin_user(site):
    return UserFactory(username="admin", site=site, role=roles.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def api_for():
    """api_for(user) → an APIClient authenticated as that user."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
