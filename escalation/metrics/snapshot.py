"""The dashboard's independent figure queries, run side by side on PostgreSQL, all on one snapshot.

The page's figures are ~20 independent reads, each one pass over the period's rows (at 1M tickets
most take 70–220 ms, and one connection runs them one after the other). `without_jit()`
opens the dashboard's transaction as REPEATABLE READ, READ ONLY; `run_together()` then exports its
snapshot (`pg_export_snapshot()`) and hands the figures to `EXTRA_CONNECTIONS` more connections
(threads, each importing it with `SET TRANSACTION SNAPSHOT` and the same `jit`/`work_mem`), the
page's own connection taking its share too. Every figure therefore reads exactly the data the
sequential page would have read at the transaction's start: a ticket committed meanwhile is seen by
none of them, so no tile can disagree with another.

Sequential, as before, when the snapshot cannot be shared: SQLite; a transaction the caller already
had open (a test's, a management command's: its isolation level is not ours to set, and its
uncommitted rows are invisible to other connections); `EXTRA_CONNECTIONS = 0`. A connection that
cannot be opened or a figure that fails on an extra connection leaves its figure to the page's own
connection, which runs it on the same snapshot (a real error is raised there). The extra
connections are closed before `run_together()` returns.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

logger = logging.getLogger(__name__)

# Connections besides the page's own. The machine of issue 14 has two cores; three connections keep
# both busy while one waits on the network or on Python.
EXTRA_CONNECTIONS = 2

# Per dashboard transaction (SET LOCAL): enough for the sorts and hashes of a 90-day period at 1M tickets.
FIGURES_WORK_MEM = "64MB"

_SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")
# Whether this thread's connection is in the REPEATABLE READ transaction without_jit() opened.
_shareable = threading.local()


@contextmanager
def without_jit() -> Iterator[None]:
    """Run the figures with PostgreSQL's JIT compiler off (set locally: this transaction only).

    The planner switches JIT on above a cost of 100,000, which the period's counts pass at a
    few hundred thousand tickets; compiling then took 1.08 s of the 1.35 s the ticket counts
    cost at 200k (EXPLAIN ANALYZE: "JIT … Optimization 628 ms, Emission 389 ms") to run a
    query that needs about 0.3 s. The dashboard's queries are many and each runs once, so
    compiling never pays. Elsewhere (SQLite) nothing changes.

    work_mem is raised for the same transaction: the percentiles sort the period's values
    (60k SLA records at 200k tickets spilled to disk: "Sort Method: external merge Disk: 5024kB"),
    and "ticket never escalated" is a hashed list of every escalated ticket, which PostgreSQL
    only hashes when it fits in work_mem (else it probes the escalation index once per ticket).

    Opened as the outermost transaction, it is also REPEATABLE READ, READ ONLY: one snapshot for
    every figure, which run_together() shares with its extra connections.
    """
    if connection.vendor != "postgresql":
        yield
        return
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            if outermost:  # before the transaction's first query, or PostgreSQL refuses it
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # SET LOCAL lasts to the end of the outermost transaction: put back what was there for
            # a caller that already had one open (a test, a management command).
            cursor.execute(
                "SELECT current_setting('jit'), current_setting('work_mem'),"
                " set_config('jit', 'off', true), set_config('work_mem', %s, true)",
                [FIGURES_WORK_MEM],
            )
            (jit, work_mem, _jit, _work_mem) = cursor.fetchone()
        previous = getattr(_shareable, "active", False)
        _shareable.active = outermost
        try:
            yield
        finally:
            _shareable.active = previous
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('jit', %s, true), set_config('work_mem', %s, true)", [jit, work_mem])


def _snapshot() -> str | None:
    """The snapshot of the figures' transaction, exported, if it can be shared (see the module's docstring)."""
    if connection.vendor != "postgresql" or EXTRA_CONNECTIONS < 1:
        return None
    # Inside the transaction without_jit() opened as the outermost one (on this thread's connection).
    if not (getattr(_shareable, "active", False) and connection.in_atomic_block):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
    return snapshot if _SNAPSHOT_ID.match(snapshot) else None


def run_together(tasks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Each task's result, by name; the tasks are independent reads (no task may write).

    Inside without_jit() on PostgreSQL they run on up to 1 + EXTRA_CONNECTIONS connections
    on the transaction's snapshot; otherwise one after the other on this connection. Put the
    slowest first: the connections take them in order.
    """
    snapshot = _snapshot()
    if snapshot is None:
        return {name: task() for name, task in tasks.items()}
    pending: queue.SimpleQueue[str] = queue.SimpleQueue()
    for name in tasks:
        pending.put(name)
    results: dict[str, Any] = {}
    workers = [
        threading.Thread(target=_extra_connection, args=(snapshot, tasks, pending, results), daemon=True)
        for _ in range(min(EXTRA_CONNECTIONS, len(tasks) - 1))
    ]
    for worker in workers:
        worker.start()
    try:
        _take(tasks, pending, results)
    finally:
        for worker in workers:
            worker.join()
    # A task an extra connection could not finish (no connection, an error) runs here, on the same snapshot.
    for name, task in tasks.items():
        if name not in results:
            results[name] = task()
    return {name: results[name] for name in tasks}


def _take(tasks: dict[str, Callable[[], Any]], pending: queue.SimpleQueue[str], results: dict[str, Any]) -> None:
    while True:
        try:
            name = pending.get_nowait()
        except queue.Empty:
            return
        results[name] = tasks[name]()


def _extra_connection(
    snapshot: str, tasks: dict[str, Callable[[], Any]], pending: queue.SimpleQueue[str], results: dict[str, Any]
) -> None:
    # A thread of its own has a connection of its own (Django's connections are per thread).
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # One round trip; the snapshot id is checked against _SNAPSHOT_ID (a utility statement takes no parameters).
            cursor.execute(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;"
                f" SET TRANSACTION SNAPSHOT '{snapshot}';"
                f" SET LOCAL jit = off; SET LOCAL work_mem = '{FIGURES_WORK_MEM}'"
            )
            _take(tasks, pending, results)
    except Exception:
        logger.warning("A dashboard connection failed; its figures run on the page's connection.", exc_info=True)
    finally:
        connection.close()
