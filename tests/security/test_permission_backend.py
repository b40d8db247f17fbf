"""Permissions in one query (helpdesk.backends.PermissionsInOneQuery), with every session still valid."""

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from helpdesk.backends import PermissionsInOneQuery
from tests.factories import UserFactory, make_ticket
from tickets import roles
from tickets.models import ConfigStamp, User

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _fresh(user):
    return User.objects.get(pk=user.pk)  # no permission caches


def _permission(codename):
    return Permission.objects.get(codename=codename, content_type__app_label="tickets")


def test_model_backend_still_signs_in_and_answers_after_the_one_query_backend():
    backends = settings.AUTHENTICATION_BACKENDS
    assert backends.index("helpdesk.backends.PermissionsInOneQuery") < backends.index(MODEL_BACKEND)


def test_a_users_and_their_groups_permissions_are_read_in_one_query_and_equal_model_backends(site):
    user = UserFactory(username="agent7", site=site, role=roles.TIER1_AGENT)  # group permissions
    user.user_permissions.add(_permission("view_dashboard"))  # and one of the user's own

    expected = ModelBackend()
    want_user = expected.get_user_permissions(_fresh(user))
    want_group = expected.get_group_permissions(_fresh(user))
    assert "tickets.view_dashboard" in want_user and "tickets.work_tickets" in want_group

    fresh = _fresh(user)
    with CaptureQueriesContext(connection) as queries:
        assert fresh.has_perm("tickets.work_tickets")
        assert fresh.has_perm("tickets.view_dashboard")
        assert not fresh.has_perm("tickets.work_tier2")  # ModelBackend is asked too, from the same caches
        everything = fresh.get_all_permissions()
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    assert everything == want_user | want_group
    assert fresh.get_user_permissions() == want_user
    assert fresh.get_group_permissions() == want_group


def test_superusers_inactive_users_and_object_permissions_answer_as_model_backend_does(site):
    admin = UserFactory(username="root2", site=site, is_superuser=True)
    inactive = UserFactory(username="gone", site=site, role=roles.TIER1_AGENT, is_active=False)
    backend, model = PermissionsInOneQuery(), ModelBackend()

    assert backend.get_all_permissions(_fresh(admin)) == model.get_all_permissions(_fresh(admin))
    assert len(backend.get_all_permissions(_fresh(admin))) == Permission.objects.count()
    assert backend.get_all_permissions(_fresh(inactive)) == set()
    assert not _fresh(inactive).has_perm("tickets.work_tickets")
    assert backend.get_all_permissions(_fresh(admin), obj=object()) == set()


def test_the_backend_checks_no_password(site):
    user = UserFactory(username="agent8", site=site, role=roles.TIER1_AGENT)
    assert PermissionsInOneQuery().authenticate(None, username="agent8", password="pw") is None
    assert user.check_password("pw")


def _session_cookie(client, user, backend):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = backend
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key


def test_a_session_signed_in_before_the_backend_existed_stays_signed_in(client, agent):
    _session_cookie(client, agent, MODEL_BACKEND)  # what every session made by ModelBackend holds
    response = client.get("/desk/")
    assert response.status_code == 200
    assert response.wsgi_request.user == agent


def test_signing_in_names_model_backend_and_the_session_works(client, agent, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    agent.set_password("pw")
    agent.save()
    response = client.post("/login/", {"username": "agent1", "password": "pw"})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == MODEL_BACKEND
    assert client.get("/desk/").status_code == 200


def test_a_session_naming_the_new_backend_also_works(client, agent):
    _session_cookie(client, agent, "helpdesk.backends.PermissionsInOneQuery")  # force_login's choice
    assert client.get("/desk/").status_code == 200


def test_a_wrong_password_still_fails(client, agent):
    response = client.post("/login/", {"username": "agent1", "password": "nope"})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


# In a request, a user's permissions come from a per-process copy kept under the configuration stamp.


def _token_client(user) -> APIClient:
    """As integrators call: each request loads the user afresh (force_authenticate would hand every
    request the same user object, with the permissions Django cached on it)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def _visible_ids(client) -> set[int]:
    response = client.get("/api/v1/tickets/")
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_a_warm_request_reads_no_permissions(agent):
    client = _token_client(agent)
    client.get("/api/v1/tickets/")  # this process now holds the agent's permissions

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/tickets/").status_code == 200

    assert not [q["sql"] for q in queries.captured_queries if "auth_permission" in q["sql"]]


def test_revoking_a_role_takes_effect_at_the_next_request(agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    client = _token_client(agent)
    assert _visible_ids(client) == {ticket.pk}  # an agent sees every unrestricted ticket

    agent.groups.clear()

    assert _visible_ids(client) == set()


def test_a_permission_taken_from_a_group_takes_effect_at_the_next_request(agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    client = _token_client(agent)
    assert _visible_ids(client) == {ticket.pk}

    Group.objects.get(name=roles.TIER1_AGENT).permissions.remove(_permission("work_tickets"))

    assert _visible_ids(client) == set()


def test_a_permission_given_to_a_user_takes_effect_at_the_next_request(requester, other_requester, category):
    theirs = make_ticket(requester=other_requester, category=category)
    client = _token_client(requester)
    assert _visible_ids(client) == set()

    requester.user_permissions.add(_permission("work_tickets"))

    assert _visible_ids(client) == {theirs.pk}


def test_a_role_revoked_by_another_process_takes_effect_at_the_next_request(agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    client = _token_client(agent)
    assert _visible_ids(client) == {ticket.pk}

    # another process: its write and its new stamp reach the database; this process's signals never fire
    User.groups.through.objects.filter(user=agent).delete()
    ConfigStamp.objects.update_or_create(pk=1, defaults={"token": "from-another-process"})

    assert _visible_ids(client) == set()
