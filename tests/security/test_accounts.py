"""Accounts: password guessing locks out (page and API), tokens expire and die at logout, `next=` stays on site."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import make_ticket
from tickets import services
from tickets.notifications.models import Notification, NotificationChannel

pytestmark = pytest.mark.django_db

LIMIT = 5  # AXES_FAILURE_LIMIT
PASSWORD = "pw"  # tests/factories.py UserFactory


def page_login(client, username, password, ip="203.0.113.7"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def api_login(username, password, ip="203.0.113.7"):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_login_page_locks_out_after_repeated_failures(client, agent):
    for _ in range(LIMIT - 1):
        assert page_login(client, "agent1", "wrong").status_code == 200
    locked = page_login(client, "agent1", "wrong")
    assert locked.status_code == 429
    # now even the right password is refused, with a message a person can act on
    refused = page_login(client, "agent1", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 15 minutes" in refused.content.decode()
    assert refused["Retry-After"] == "900"
    assert not signed_in(client)


def test_the_lockout_ends_after_the_cool_off(client, agent):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        for _ in range(LIMIT):
            page_login(client, "agent1", "wrong")
        assert page_login(client, "agent1", PASSWORD).status_code == 429
    with time_machine.travel(now + timedelta(minutes=16), tick=False):
        assert page_login(client, "agent1", PASSWORD).status_code == 302
        assert signed_in(client)


def test_the_lockout_is_per_address_so_nobody_can_lock_a_user_out_from_elsewhere(client, agent):
    for _ in range(LIMIT):
        page_login(client, "agent1", "wrong", ip="203.0.113.7")
    assert page_login(client, "agent1", PASSWORD, ip="198.51.100.20").status_code == 302


def test_the_token_endpoint_locks_out_with_a_json_429(agent):
    for _ in range(LIMIT - 1):
        wrong = api_login("agent1", "wrong")
        assert wrong.status_code == 400
        assert wrong.json() == {"detail": "Unable to log in with the provided credentials."}
    assert api_login("agent1", "wrong").status_code == 429
    refused = api_login("agent1", PASSWORD)
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["detail"].startswith("Too many failed sign-in attempts.")
    assert refused["Retry-After"] == "900"
    assert not AuthToken.objects.filter(user=agent).exists()


def test_failures_on_the_page_and_the_api_add_up(client, agent):
    for _ in range(3):
        page_login(client, "agent1", "wrong")
    for _ in range(2):
        api_login("agent1", "wrong")
    assert api_login("agent1", PASSWORD).status_code == 429


def test_a_success_resets_the_count(client, agent):
    for _ in range(LIMIT - 1):
        api_login("agent1", "wrong")
    assert api_login("agent1", PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        api_login("agent1", "wrong")
    assert api_login("agent1", PASSWORD).status_code == 200


def test_the_token_endpoint_throttles_one_address_guessing_across_usernames(monkeypatch, agent):
    """Axes locks a username+address pair; spraying many usernames from one address hits the rate limit."""
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth", "3/min")
    for name in ["alice", "bob", "carol"]:
        assert api_login(name, "guess").status_code == 400
    throttled = api_login("agent1", PASSWORD)
    assert throttled.status_code == 429
    assert "throttled" in throttled.json()["detail"]
    assert api_login("agent1", PASSWORD, ip="198.51.100.20").status_code == 200


def test_the_token_endpoint_refuses_bad_input_field_by_field():
    response = APIClient().post("/api/v1/auth/token/", {"username": ""}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def token_for(user) -> str:
    response = api_login(user.username, PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry"}
    return body["token"]


def with_token(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_token_works_and_is_stored_only_as_a_hash(agent):
    token = token_for(agent)
    assert with_token(token).get("/api/v1/tickets/").status_code == 200
    stored = AuthToken.objects.get(user=agent)
    assert token not in (stored.digest, stored.token_key)


def test_a_token_expires(agent):
    issued_at = timezone.now()
    with time_machine.travel(issued_at, tick=False):
        token = token_for(agent)
    with time_machine.travel(issued_at + timedelta(hours=9, minutes=59), tick=False):
        assert with_token(token).get("/api/v1/tickets/").status_code == 200
    with time_machine.travel(issued_at + timedelta(hours=10, minutes=1), tick=False):
        assert with_token(token).get("/api/v1/tickets/").status_code == 401


def test_a_token_is_checked_without_reading_the_users_other_tokens(agent):
    token = token_for(agent)
    for _ in range(3):
        token_for(agent)  # an integrator holding several tokens
    client = with_token(token)
    client.get("/api/v1/tickets/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/tickets/").status_code == 200
    token_reads = [q["sql"] for q in queries.captured_queries if 'FROM "knox_authtoken"' in q["sql"]]
    assert len(token_reads) == 1, token_reads  # the presented token's own row, not all four


def test_expired_tokens_are_refused_and_purged_at_the_next_sign_in(agent):
    issued_at = timezone.now()
    with time_machine.travel(issued_at, tick=False):
        expired, presented = token_for(agent), token_for(agent)
    with time_machine.travel(issued_at + timedelta(hours=10, minutes=1), tick=False):
        assert with_token(presented).get("/api/v1/tickets/").status_code == 401  # refused, and deleted
        assert AuthToken.objects.filter(user=agent).count() == 1  # the other expired one still stored
        fresh = token_for(agent)  # a sign-in purges the expired tokens
        assert AuthToken.objects.filter(user=agent).count() == 1
        assert with_token(fresh).get("/api/v1/tickets/").status_code == 200
        assert with_token(expired).get("/api/v1/tickets/").status_code == 401


def test_logging_out_of_the_web_app_revokes_api_tokens(client, agent):
    token = token_for(agent)
    client.force_login(agent)
    assert client.post("/logout/").status_code == 302
    assert with_token(token).get("/api/v1/tickets/").status_code == 401


def test_the_api_logout_revokes_the_token_it_is_sent_with(agent):
    token, other = token_for(agent), token_for(agent)
    assert with_token(token).post("/api/v1/auth/logout/").status_code == 204
    assert with_token(token).get("/api/v1/tickets/").status_code == 401
    assert with_token(other).get("/api/v1/tickets/").status_code == 200


@pytest.fixture
def notification(agent, requester, category, manager):
    ticket = make_ticket(requester=requester, category=category)
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    return Notification.objects.filter(recipient=agent, channel=NotificationChannel.IN_APP).first()


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/phish", "//evil.example/phish", "http://testserver.evil.example/", "javascript:alert(1)"],
)
def test_marking_a_notification_read_never_redirects_off_site(client, agent, notification, target):
    client.force_login(agent)
    response = client.post(f"/notifications/{notification.pk}/read/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_marking_a_notification_read_follows_a_local_next(client, agent, notification):
    client.force_login(agent)
    response = client.post(f"/notifications/{notification.pk}/read/", {"next": f"/tickets/{notification.ticket_id}/"})
    assert response["Location"] == f"/tickets/{notification.ticket_id}/"
