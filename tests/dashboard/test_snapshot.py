"""The figures run side by side on extra PostgreSQL connections, all on the page transaction's snapshot.

These tests commit their data (transaction=True): another connection cannot see a test's own
uncommitted transaction, which is also why the figures run one after the other inside it.
"""

import threading
from contextlib import contextmanager

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.db.backends.signals import connection_created
from django.test.utils import CaptureQueriesContext

from escalation.metrics import figures, snapshot
from escalation.metrics.filters import parse_filters
from tests.factories import make_ticket
from tickets.models import Ticket

from .conftest import NOW, VIEWER_ZONE

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="snapshots are shared on PostgreSQL only"),
    pytest.mark.django_db(transaction=True),
]

WEEK = {"from": "2025-01-06", "to": "2025-01-12"}


@contextmanager
def every_connection_counted():
    """Statements run on the page's connection and on every connection opened meanwhile, and which backends ran them."""
    counted = {"extra_connections": 0, "extra_statements": [], "backends": set()}
    lock = threading.Lock()

    def count(execute, sql, params, many, context):
        with lock:
            counted["extra_statements"].append(sql)
        return execute(sql, params, many, context)

    def opened(sender, connection, **kwargs):
        with lock:
            counted["extra_connections"] += 1
        connection.execute_wrappers.append(count)

    connection_created.connect(opened)
    try:
        with CaptureQueriesContext(connection) as captured:
            yield counted
    finally:
        connection_created.disconnect(opened)
    counted["page_statements"] = [query["sql"] for query in captured]


def week_figures():
    filters = parse_filters(WEEK, time_zone=VIEWER_ZONE)
    return figures.dashboard_and_tickets_behind(
        tickets=Ticket.objects.filter(is_restricted=False), filters=filters, now=NOW
    )


def test_the_figures_on_extra_connections_equal_the_figures_run_one_after_the_other(week):
    # given: the week, committed; the figures one after the other (a transaction of the caller's own)
    # (not the outermost transaction: sequential)
    with transaction.atomic(), snapshot.without_jit(), every_connection_counted() as sequential:
        expected = week_figures()
    assert sequential["extra_connections"] == 0

    # when: the page's transaction is the outermost one
    with snapshot.without_jit(), every_connection_counted() as together:
        result = week_figures()

    # then: the same figures, read on 1 + EXTRA_CONNECTIONS connections
    assert result == expected
    assert together["extra_connections"] == snapshot.EXTRA_CONNECTIONS == 2
    assert result[0]["tickets"]["created"] == 7 and result[0]["breaches"]["total"] > 0
    # every figure query ran once, on one connection or another: the budget counts them all, plus
    # the snapshot's export and each extra connection's one setup statement
    figure_queries = len(sequential["page_statements"])
    assert len(together["page_statements"]) + len(together["extra_statements"]) == figure_queries + 1 + 2
    assert sum("SET TRANSACTION SNAPSHOT" in sql for sql in together["extra_statements"]) == 2


def test_the_page_runs_its_figures_on_extra_connections_and_counts_the_same(client, manager, week):
    manager.time_zone = VIEWER_ZONE
    manager.save(update_fields=["time_zone"])
    client.force_login(manager)
    url = "/dashboard/?from=2025-01-06&to=2025-01-12"
    with time_machine.travel(NOW, tick=False):
        client.get(url)  # a warm process: the viewer's permissions are cached (tickets.access)
    with time_machine.travel(NOW, tick=False), every_connection_counted() as together:
        page = client.get(url)
    snapshot_was = snapshot.EXTRA_CONNECTIONS
    snapshot.EXTRA_CONNECTIONS = 0
    try:
        with time_machine.travel(NOW, tick=False), every_connection_counted() as sequential:
            alone = client.get(url)
    finally:
        snapshot.EXTRA_CONNECTIONS = snapshot_was
    assert page.status_code == alone.status_code == 200
    assert together["extra_connections"] == 2 and sequential["extra_connections"] == 0
    assert page.context["figures"] == alone.context["figures"]
    assert [(t.key, t.value, t.tickets) for t in page.context["tiles"]] == [
        (t.key, t.value, t.tickets) for t in alone.context["tiles"]
    ]
    # the query budget, counted across connections: the sequential page's, plus the export and two setups
    total = len(together["page_statements"]) + len(together["extra_statements"])
    assert total == len(sequential["page_statements"]) + 3


def _commit_a_ticket_elsewhere(**fields) -> None:
    """Create and commit a ticket on a connection of its own (another thread), as another request would."""

    def create():
        try:
            make_ticket(**fields)
        finally:
            connections.close_all()

    writer = threading.Thread(target=create)
    writer.start()
    writer.join()


def test_a_ticket_committed_while_the_figures_run_is_seen_by_none_of_them(requester, category):
    make_ticket(requester=requester, category=category)
    waiting, written = threading.Event(), threading.Event()
    backends = set()
    lock = threading.Lock()

    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        with lock:
            backends.add(pid)
        return Ticket.objects.count()

    def count_then_commit_another() -> int:
        before = count()
        assert waiting.wait(timeout=30)  # another connection holds a figure: the write lands between them
        _commit_a_ticket_elsewhere(requester=requester, category=category)
        written.set()
        return before

    def count_after_the_commit() -> int:
        waiting.set()
        assert written.wait(timeout=30)
        return count()

    tasks = {"first": count_then_commit_another, **{f"after_{n}": count_after_the_commit for n in range(6)}}
    with snapshot.without_jit():
        counts = snapshot.run_together(tasks)
        assert Ticket.objects.count() == 1  # the page's own connection too: the transaction's snapshot

    assert set(counts.values()) == {1}  # none of them saw the second ticket
    assert len(backends) >= 2  # counted on more than one connection
    assert Ticket.objects.count() == 2  # committed all the same: the next page sees it


def test_the_dashboard_ignores_a_ticket_committed_while_it_runs(week, requester, category, monkeypatch):
    filters = parse_filters(WEEK, time_zone=VIEWER_ZONE)
    visible = Ticket.objects.filter(is_restricted=False)
    with snapshot.without_jit():
        before = figures.dashboard(tickets=visible, filters=filters, now=NOW)

    def a_ticket_committed_after_the_first_figure(tasks):
        # the first figure commits a new ticket in the period (another request's), then the others run
        written = threading.Event()
        first, *others = tasks

        def commit_then(task):
            with time_machine.travel(NOW, tick=False):
                _commit_a_ticket_elsewhere(requester=requester, category=category)
            written.set()
            return task()

        def after(task):
            assert written.wait(timeout=30)
            return task()

        wrapped = {first: lambda: commit_then(tasks[first])} | {
            name: (lambda task=tasks[name]: after(task)) for name in others
        }
        return snapshot.run_together(wrapped)

    monkeypatch.setattr(figures, "run_together", a_ticket_committed_after_the_first_figure)
    with snapshot.without_jit():
        during = figures.dashboard(tickets=visible, filters=filters, now=NOW)
    monkeypatch.undo()
    with snapshot.without_jit():
        after = figures.dashboard(tickets=visible, filters=filters, now=NOW)

    assert during == before
    assert after["tickets"]["created"] == before["tickets"]["created"] + 1
    assert after["tickets"]["backlog"] == before["tickets"]["backlog"] + 1


def test_a_failing_extra_connection_leaves_its_figures_to_the_page_connection(week, monkeypatch):
    filters = parse_filters(WEEK, time_zone=VIEWER_ZONE)
    visible = Ticket.objects.filter(is_restricted=False)
    with snapshot.without_jit():
        expected = figures.dashboard(tickets=visible, filters=filters, now=NOW)

    # an extra connection whose setup fails (a snapshot id PostgreSQL does not know)
    monkeypatch.setattr(snapshot, "_snapshot", lambda: "00000000-00000000-1")
    with snapshot.without_jit():
        assert figures.dashboard(tickets=visible, filters=filters, now=NOW) == expected
