"""notify_many's large batches (a sweep catch-up: thousands of outbox rows) go through COPY into a
scratch table and one INSERT … ON CONFLICT DO NOTHING from it: the same rows as the one-statement
path, text as written (tabs, newlines, backslashes), a repeat a no-op, twice in a transaction fine."""

import json

import pytest
from django.db import transaction

from tests.factories import UserFactory, make_ticket
from tickets import bulk, roles
from tickets.models import EventKind
from tickets.notifications.models import Notification
from tickets.notifications.services import Notice, notify_many

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

AWKWARD = "tab\there\nnew line\r\nback\\slash \\N and \\t, quotes ' \" and ünïcode"


@pytest.fixture
def colleague(site, service_desk):
    user = UserFactory(username="agent2", site=site, role=roles.TIER1_AGENT, email="agent2@example.com")
    service_desk.members.add(user)
    return user


def outbox(event):
    """The event's outbox rows, the ticket and the event aside (its reference, its id in a webhook body)."""
    ref = event.ticket.reference

    def body(n):
        if n.channel == "webhook" and n.webhook_id is None:
            return {k: v for k, v in json.loads(n.body).items() if k not in ("ticket", "event")}
        return n.body

    return sorted(
        (
            (
                n.recipient_id,
                n.webhook_id,
                n.kind,
                n.channel,
                n.subject.replace(ref, "REF"),
                body(n),
                n.status,
                n.attempts,
                n.last_error,
                n.next_attempt_at == n.created_at,
                n.claimed_at,
                n.message_id != "",
                n.sent_at == (n.created_at if n.status == "sent" else None),
                n.read_at,
            )
            for n in Notification.objects.filter(event=event)
        ),
        key=repr,
    )


def notices(event, agent, colleague):
    return [
        Notice(event=event, kind="sla_breached", recipients=[agent, colleague], body=AWKWARD),
        Notice(event=event, kind="on_call_page", recipients=[colleague], team_webhooks=False),
        Notice(event=event, kind="sla_warning", webhook_urls=["https://chat.example/hook"], team_webhooks=False),
    ]


def test_the_copy_path_writes_what_the_one_statement_path_writes(requester, category, agent, colleague, monkeypatch):
    one = make_ticket(requester=requester, category=category).events.get(kind=EventKind.CREATED)
    other = make_ticket(requester=requester, category=category).events.get(kind=EventKind.CREATED)
    notify_many(notices(one, agent, colleague), returning=False)  # 5 rows: one VALUES statement

    monkeypatch.setattr(bulk, "COPY_FROM_ROWS", 1)
    notify_many(notices(other, agent, colleague), returning=False)

    written = outbox(other)
    # in-app and email for each person named (the page names one of them again: told once), the level's webhook
    assert len(written) == 5
    assert written == outbox(one)
    assert Notification.objects.filter(event=other, body=AWKWARD).count() == 4
    assert all(n.message_id for n in Notification.objects.filter(event=other, channel="email"))
    webhook = Notification.objects.get(event=other, channel="webhook")
    assert json.loads(webhook.body) == {"url": "https://chat.example/hook", "ticket": other.ticket.reference,
                                        "event": other.pk}  # fmt: skip


def test_the_copy_path_skips_rows_already_there_and_serves_two_calls_in_a_transaction(
    requester, category, agent, colleague, monkeypatch
):
    monkeypatch.setattr(bulk, "COPY_FROM_ROWS", 1)
    first = make_ticket(requester=requester, category=category).events.get(kind=EventKind.CREATED)
    second = make_ticket(requester=requester, category=category).events.get(kind=EventKind.CREATED)

    # (a ladder level's bare webhook URL has no unique key: the sweep's firings guard those)
    people = [notice for notice in notices(first, agent, colleague) if not notice.webhook_urls]
    with transaction.atomic():
        notify_many(people, returning=False)
        notify_many(people, returning=False)  # a repeat: nothing new
        notify_many(notices(second, agent, colleague), returning=False)  # the scratch table was emptied

    assert Notification.objects.filter(event=first).count() == 4
    assert Notification.objects.filter(event=second).count() == 5
