"""GET /api/v1/tickets/?cursor=: keyset pages, every ticket exactly once while tickets keep arriving."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.factories import make_ticket
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _tickets(requester, category, count, *, at, prefix):
    made = []
    for n in range(count):
        with time_machine.travel(at + timedelta(minutes=n // 3), tick=False):  # three at a time share created_at
            made.append(make_ticket(requester=requester, category=category, title=f"{prefix} {n}").pk)
    return made


def _walk(client, url, *, between=None):
    """Follow `next` to the end; `between(n)` runs before the n-th request after the first."""
    seen, pages = [], 0
    while url:
        if between and pages:
            between(pages)
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert "count" not in body and body["previous"] is None
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
    return seen, pages


def test_cursor_pages_by_created_at_yield_every_ticket_once_while_tickets_arrive(api_for, agent, requester, category):
    original = _tickets(requester, category, 11, at=START, prefix="Before")
    client = api_for(agent)
    made_later = []

    def arrive(page):
        with time_machine.travel(START + timedelta(hours=page), tick=False):
            made_later.append(make_ticket(requester=requester, category=category, title=f"During {page}").pk)

    seen, pages = _walk(client, "/api/v1/tickets/?cursor=&page_size=4", between=arrive)

    assert pages == 3  # 4 + 4 + 3 (newer tickets sort before the cursor: not in later pages)
    assert len(seen) == len(set(seen)) == 11
    assert set(seen) == set(original)
    # newest first, ties on created_at by id, newest id first
    expected = sorted(original, key=lambda pk: (Ticket.objects.get(pk=pk).created_at, pk), reverse=True)
    assert seen == expected
    assert len(made_later) == 2


def test_cursor_pages_by_due_time_with_ties_and_no_due_time(api_for, agent, requester, category):
    original = _tickets(requester, category, 10, at=START, prefix="Due")
    # due times: pairs share one, the last two have none
    for index, pk in enumerate(original):
        due = START + timedelta(hours=index // 2) if index < 8 else None
        Ticket.objects.filter(pk=pk).update(resolution_due_at=due)
    client = api_for(agent)
    arrived = []

    def arrive(page):
        # one due earlier than anything seen, one later than everything, one with none
        at = START + timedelta(days=1, minutes=page)
        with time_machine.travel(at, tick=False):
            for due in (START - timedelta(hours=1), START + timedelta(days=9), None):
                pk = make_ticket(requester=requester, category=category, title=f"Arrived {page}").pk
                Ticket.objects.filter(pk=pk).update(resolution_due_at=due)
                arrived.append(pk)

    seen, _ = _walk(client, "/api/v1/tickets/?cursor=&page_size=3&ordering=resolution_due_at", between=arrive)

    assert len(seen) == len(set(seen))  # nobody twice
    assert set(original) <= set(seen)  # nobody lost
    # the originals in due order, ties by id, no due time last
    originals = [pk for pk in seen if pk in original]
    assert originals == sorted(original[:8], key=lambda pk: (original.index(pk) // 2, pk)) + sorted(original[8:])
    # an arrival due earlier than the cursor is behind it; one due later or never is still ahead
    assert not {arrived[0], arrived[3]} & set(seen)
    assert arrived[1] in seen and arrived[2] in seen


def test_descending_due_time_and_bad_cursors(api_for, agent, requester, category):
    original = _tickets(requester, category, 5, at=START, prefix="Desc")
    for index, pk in enumerate(original):
        Ticket.objects.filter(pk=pk).update(resolution_due_at=START + timedelta(hours=index) if index else None)
    client = api_for(agent)

    seen, pages = _walk(client, "/api/v1/tickets/?cursor=&page_size=2&ordering=-resolution_due_at")

    assert (seen, pages) == ([*reversed(original[1:]), original[0]], 3)
    assert client.get("/api/v1/tickets/?cursor=not-a-cursor").status_code == 400
    first = client.get("/api/v1/tickets/?cursor=&page_size=2").json()["next"]
    # a cursor from one ordering is refused under another
    assert client.get(first + "&ordering=resolution_due_at").status_code == 400
    assert client.get("/api/v1/tickets/?cursor=&ordering=priority").status_code == 400


def test_page_numbers_still_work(api_for, agent, requester, category):
    _tickets(requester, category, 3, at=START, prefix="Paged")

    body = api_for(agent).get("/api/v1/tickets/?page=1").json()

    assert body["count"] == 3 and len(body["results"]) == 3 and body["next"] is None
