"""What `make bench` times. Each scenario is a function run several times; apps add theirs."""

from django.test import Client

from tickets.models import User


def _client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def ticket_list_api():
    response = _client_for("agent1").get("/api/v1/tickets/?status=new&ordering=resolution_due_at")
    assert response.status_code == 200


def ticket_search_api():
    response = _client_for("agent1").get("/api/v1/tickets/?search=vpn")
    assert response.status_code == 200


def ticket_create_api():
    response = _client_for("agent1").post(
        "/api/v1/tickets/",
        {
            "title": "Bench: VPN drops every few minutes",
            "description": "The tunnel drops roughly every ten minutes since the update.",
            "category": "vpn",
            "impact": "individual",
            "urgency": "slowed",
            "requester": "requester1",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


ALL = [
    ("GET /api/v1/tickets/ (new, by resolution due)", ticket_list_api),
    ("GET /api/v1/tickets/?search=vpn", ticket_search_api),
    ("POST /api/v1/tickets/ (intake + routing + SLA start)", ticket_create_api),
]


def _dashboard_window(days: int = 90) -> str:
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.now().date()
    return f"from={today - timedelta(days=days - 1)}&to={today}"


def dashboard_page():
    response = _client_for("manager1").get(f"/dashboard/?{_dashboard_window()}")
    assert response.status_code == 200


def metrics_api():
    response = _client_for("manager1").get(f"/api/v1/metrics/sla/?{_dashboard_window()}")
    assert response.status_code == 200, response.content


ALL += [
    ("GET /dashboard/ (90 days, manager)", dashboard_page),
    ("GET /api/v1/metrics/sla/ (90 days)", metrics_api),
]


def sla_sweep_nothing_due():
    """The steady state: a sweep a minute later finds (almost) nothing due, whatever the backlog."""
    from escalation.sla.sweep import sla_sweep

    sla_sweep()


def tier1_desk_page():
    response = _client_for("agent1").get("/desk/")
    assert response.status_code == 200


def tier2_queue_page():
    response = _client_for("engineer1").get("/tier2/")
    assert response.status_code == 200


def ticket_page():
    from tickets.models import Ticket

    ticket = Ticket.objects.filter(is_restricted=False).order_by("-id").values_list("pk", flat=True).first()
    response = _client_for("agent1").get(f"/tickets/{ticket}/")
    assert response.status_code == 200


ALL += [
    ("sla_sweep (steady state)", sla_sweep_nothing_due),
    ("GET /desk/ (Tier 1 desk)", tier1_desk_page),
    ("GET /tier2/ (Tier 2 queue)", tier2_queue_page),
    ("GET /tickets/<id>/ (ticket page)", ticket_page),
]

# The SLA what-if's scenario lives in its own file (bench/whatif.py).
from bench.whatif import SCENARIOS as WHATIF_SCENARIOS  # noqa: E402

ALL += WHATIF_SCENARIOS
