"""Outbound: webhooks never reach private addresses (at save, at send, after a DNS change), secrets are
write-only in the admin, CSV cells cannot become spreadsheet formulas."""

import csv
import io
import socket

import pytest
from django.core.exceptions import ValidationError

from escalation.sla.models import LadderLevel
from tests.factories import make_ticket
from tests.notifications.test_webhooks import SECRET, ChatTool
from tickets import services
from tickets.csv_export import csv_response, safe_cell
from tickets.notifications import delivery
from tickets.notifications.models import DeliveryStatus, Notification, WebhookEndpoint
from tickets.notifications.targets import validate_webhook_url

pytestmark = pytest.mark.django_db

REFUSED_URLS = [
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",
    "http://api.localhost/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.9/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[fe80::1]/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_private_webhook_url_is_refused_when_saved(url, service_desk):
    endpoint = WebhookEndpoint(name="Probe", queue=service_desk, url=url, secret=SECRET)
    with pytest.raises(ValidationError) as refused:
        endpoint.full_clean()
    assert "url" in refused.value.message_dict
    assert "loopback, link-local or private" in refused.value.message_dict["url"][0]


@pytest.mark.parametrize("url", ["https://hooks.example.com/services/T0/B0", "https://93.184.215.14/hook"])
def test_a_public_webhook_url_is_accepted(url, service_desk):
    WebhookEndpoint(name="Chat", queue=service_desk, url=url, secret=SECRET).full_clean()


def test_a_name_that_resolves_to_a_private_address_is_refused_when_saved(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"chat.internal.example": "10.0.0.7"}))
    with pytest.raises(ValidationError, match="chat.internal.example is 10.0.0.7"):
        validate_webhook_url("https://chat.internal.example/hook")


def test_only_http_and_https_are_accepted():
    for url in ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/x"]:
        with pytest.raises(ValidationError):
            validate_webhook_url(url)


def test_the_sla_ladder_webhook_url_is_checked_too():
    with pytest.raises(ValidationError) as refused:
        LadderLevel(webhook_url="http://169.254.169.254/").clean()
    assert "webhook_url" in refused.value.message_dict


def test_the_setting_allows_private_targets(settings, service_desk):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    WebhookEndpoint(name="LAN chat", queue=service_desk, url="http://10.1.2.3/hook", secret=SECRET).full_clean()


def fake_dns(answers: dict[str, str]):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    return getaddrinfo


@pytest.fixture
def chat_tool():
    with ChatTool() as tool:
        yield tool


@pytest.fixture
def assigned(requester, category, agent, manager):
    def assign():
        ticket = make_ticket(requester=requester, category=category)
        services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
        return ticket

    return assign


def test_a_private_target_saved_before_the_check_is_refused_at_send(assigned, service_desk, chat_tool):
    # e.g. a row from before this check existed, or written around the admin
    endpoint = WebhookEndpoint.objects.create(name="Old", queue=service_desk, url=chat_tool.url, secret=SECRET)
    assigned()
    row = Notification.objects.get(webhook=endpoint)
    # refused for good (no retry will make it acceptable), and nothing reached the address
    assert delivery.delivery_attempt(row.pk) == DeliveryStatus.FAILED
    row.refresh_from_db()
    assert "loopback, link-local or private" in row.last_error
    assert chat_tool.requests == []


def test_a_name_that_turns_private_after_saving_is_refused_at_send(assigned, service_desk, chat_tool, monkeypatch):
    """DNS rebinding: public when saved, 127.0.0.1 when sent."""
    port = chat_tool.server.server_port
    endpoint = WebhookEndpoint(name="Chat", queue=service_desk, url=f"http://chat.example.com:{port}/h", secret=SECRET)
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"chat.example.com": "93.184.215.14"}))
    endpoint.full_clean()
    endpoint.save()
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"chat.example.com": "127.0.0.1"}))
    assigned()
    row = Notification.objects.get(webhook=endpoint)
    assert delivery.delivery_attempt(row.pk) == DeliveryStatus.FAILED
    assert chat_tool.requests == []


def test_with_the_setting_a_name_is_sent_to_the_address_that_was_checked(
    settings, assigned, service_desk, chat_tool, monkeypatch
):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    port = chat_tool.server.server_port
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"chat.lan.example": "127.0.0.1"}))
    endpoint = WebhookEndpoint.objects.create(
        name="LAN chat", queue=service_desk, url=f"http://chat.lan.example:{port}/hook", secret=SECRET
    )
    assigned()
    row = Notification.objects.get(webhook=endpoint)
    assert delivery.delivery_attempt(row.pk) == DeliveryStatus.SENT
    [request] = chat_tool.requests
    assert request["headers"]["Host"] == f"chat.lan.example:{port}"


# -- the admin: the secret is write-only


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_admin_never_shows_a_webhook_secret(admin_client, service_desk):
    endpoint = WebhookEndpoint.objects.create(
        name="Chat", queue=service_desk, url="https://hooks.example.com/x", secret=SECRET
    )
    page = admin_client.get(f"/admin/notifications/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert 'name="secret"' in page
    assert SECRET not in page
    assert SECRET not in admin_client.get("/admin/notifications/webhookendpoint/").content.decode()


def _form(endpoint_url, secret):
    return {
        "name": "Chat",
        "url": endpoint_url,
        "secret": secret,
        "is_active": "on",
        "kinds": "[]",
        "timeout_seconds": "5",
    }


def test_saving_the_admin_form_without_a_secret_keeps_the_current_one(admin_client, service_desk):
    endpoint = WebhookEndpoint.objects.create(
        name="Chat", queue=service_desk, url="https://hooks.example.com/x", secret=SECRET
    )
    url = f"/admin/notifications/webhookendpoint/{endpoint.pk}/change/"
    assert admin_client.post(url, _form("https://hooks.example.com/y", "")).status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.secret) == ("https://hooks.example.com/y", SECRET)
    assert admin_client.post(url, _form("https://hooks.example.com/y", "rotated-secret")).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret == "rotated-secret"


def test_the_admin_refuses_a_new_webhook_without_a_secret_or_with_a_private_url(admin_client):
    add = "/admin/notifications/webhookendpoint/add/"
    response = admin_client.post(add, _form("https://hooks.example.com/x", ""))
    assert response.status_code == 200
    assert "A new webhook needs a shared secret." in response.content.decode()
    response = admin_client.post(add, _form("http://169.254.169.254/", "s"))
    assert response.status_code == 200
    assert "loopback, link-local or private" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


# -- CSV


@pytest.mark.parametrize(
    "typed", ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_a_text_cell_that_a_spreadsheet_would_evaluate_is_escaped(typed):
    assert safe_cell(typed) == "'" + typed


def test_numbers_and_ordinary_text_are_left_alone():
    assert [safe_cell(v) for v in (-5, 3.5, 0, None, "VPN team", "a=b")] == [-5, 3.5, 0, "", "VPN team", "a=b"]


def test_the_csv_response_escapes_every_cell_header_included():
    response = csv_response(filename="x.csv", header=["=Team"], rows=[["=1+1", -3], ["Desk", 2]])
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [["'=Team"], ["'=1+1", "-3"], ["Desk", "2"]]
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
