"""Batch writes as plain rows (tickets.bulk): what the sweep writes through COPY is what the ORM
and the one-statement paths write (text with tabs, newlines and backslashes, JSON, NULLs, moments),
and each event gets its id, in order."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from tests.factories import make_ticket
from tickets import bulk, events
from tickets.locks import save_tickets
from tickets.models import EventKind, Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

AWKWARD = "tab\there\nnew line\r\nback\\slash \\N and \\t, quotes ' \" and ünïcode"
AT = datetime(2026, 1, 19, 10, 0, 0, 123456, tzinfo=UTC)


def built(ticket, agent, count: int) -> list[TicketEvent]:
    timeline = []
    for index in range(count):
        event = events.record(
            ticket=ticket,
            kind=EventKind.SLA_BREACHED,
            actor=agent if index % 2 else None,
            message=f"{AWKWARD} {index}",
            data={"index": index, "text": AWKWARD, "nested": {"ids": [1, None, 3]}, "none": None},
            is_public=index % 3 == 0,
            at=AT + timedelta(seconds=index),
            save=False,
        )
        timeline.append(event)
    return timeline


def rows(ticket) -> list[tuple]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA_BREACHED)
        .order_by("id")
        .values_list("kind", "actor_id", "created_at", "message", "data", "is_public")
    )


@pytest.mark.parametrize("copy", [False, True], ids=["values", "copy"])
def test_insert_many_writes_what_bulk_create_writes(requester, category, agent, monkeypatch, copy):
    by_orm = make_ticket(requester=requester, category=category)
    by_rows = make_ticket(requester=requester, category=category)
    TicketEvent.objects.bulk_create(built(by_orm, agent, 4))
    if copy:
        monkeypatch.setattr(bulk, "COPY_FROM_ROWS", 1)

    timeline = built(by_rows, agent, 4)
    events.insert_many(timeline)

    assert rows(by_rows) == rows(by_orm)
    assert len(rows(by_rows)) == 4
    # each event has its own row's id, in the order given (the notices and firings point at them)
    assert [TicketEvent.objects.get(pk=e.pk).data["index"] for e in timeline] == [0, 1, 2, 3]
    assert all(not e._state.adding for e in timeline)


def test_insert_many_keeps_ids_taken_before_and_gives_the_others_theirs(requester, category, agent):
    ticket = make_ticket(requester=requester, category=category)
    timeline = built(ticket, agent, 3)
    (taken,) = bulk.next_ids(TicketEvent._meta.db_table, 1)
    timeline[1].pk = taken

    events.insert_many(timeline)

    assert timeline[1].pk == taken
    assert [TicketEvent.objects.get(pk=e.pk).data["index"] for e in timeline] == [0, 1, 2]


def test_update_through_copy_writes_what_values_writes(requester, category, agent, monkeypatch):
    tickets = [make_ticket(requester=requester, category=category) for _ in range(4)]
    versions = {t.pk: Ticket.objects.get(pk=t.pk).version for t in tickets}
    for index, ticket in enumerate(tickets):
        ticket.priority_override_reason = f"{AWKWARD} {index}"
        ticket.assignee = agent if index % 2 else None
    monkeypatch.setattr(bulk, "COPY_FROM_ROWS", 1)

    with transaction.atomic():
        save_tickets(tickets[:2], ["priority_override_reason", "assignee"])
        save_tickets(tickets[2:], ["priority_override_reason", "assignee"])  # the scratch table was emptied

    for index, ticket in enumerate(tickets):
        fresh = Ticket.objects.get(pk=ticket.pk)
        assert fresh.priority_override_reason == f"{AWKWARD} {index}"
        assert fresh.assignee_id == (agent.pk if index % 2 else None)
        assert fresh.version == ticket.version == versions[ticket.pk] + 1
