"""Row locks, always taken in primary-key order so two actions never deadlock; and the
one way a service saves a locked ticket (bumping its version)."""

from collections.abc import Iterable

from django.db.models import F, QuerySet

from . import bulk
from .models import Ticket


def tickets_for_update(ids: Iterable[int] | None = None) -> QuerySet[Ticket]:
    queryset = Ticket.objects.select_for_update(of=("self",)).order_by("pk")
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset


def lock_ticket(ticket_id: int) -> Ticket:
    """Lock one ticket row for the rest of the transaction and return it fresh.

    Lock first without joins, then read with them. PostgreSQL re-checks a FOR UPDATE
    row that a concurrent transaction changed against the *old* joined rows, so a join
    on a foreign key the winner just changed (queue, assignee) would make the row vanish
    for the loser (DoesNotExist → 500) instead of showing it the new state (→ 409).
    """
    if not tickets_for_update([ticket_id]).values_list("pk", flat=True):
        raise Ticket.DoesNotExist(f"No ticket {ticket_id}.")
    # the lock is held: this read sees the latest committed version
    return Ticket.objects.select_related("queue", "category", "requester", "assignee").get(pk=ticket_id)


def lock_tickets(ids: Iterable[int]) -> list[Ticket]:
    """lock_ticket for many: lock the rows in pk order (no joins, as lock_ticket), then read them
    with what the actions use, in pk order. Ids that do not exist are left out."""
    locked = list(tickets_for_update(ids).values_list("pk", flat=True))
    related = ("queue", "queue__lead", "category", "requester", "assignee", "site")
    return list(Ticket.objects.select_related(*related).filter(pk__in=locked).order_by("pk"))


def save_ticket(ticket: Ticket, fields: Iterable[str]) -> None:
    """Save the named fields of a ticket the caller holds locked, and bump its version
    (optimistic-locking readers see the change; updated_at follows)."""
    ticket.version = F("version") + 1
    ticket.save(update_fields=[*fields, "version", "updated_at"])
    ticket.refresh_from_db(fields=["version"])


def db_value(value):
    """A parameter for raw SQL as the ORM would write it. On SQLite a datetime is stored as text, and
    the driver's own adapter would add "+00:00", which no ORM comparison (`next_check_at <= now`)
    would ever match again: the record would never come due."""
    from datetime import datetime

    from django.db import connection

    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def update_from_values(
    table: str, key: str, columns: list[tuple[str, str]], rows: list[tuple], *, also: str = "", returning: str = ""
) -> list[tuple]:
    """UPDATE table SET col = v.col … FROM (VALUES …) v WHERE table.key = v.key, in one statement.

    `columns`: (name, SQL type) of what each row sets after its key; the type is needed on
    PostgreSQL when a column holds only NULLs. `also`: more assignments ("version = version + 1");
    `returning`: columns to return (the rows come back, in no particular order).
    """
    if not rows:
        return []
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    if postgres and len(rows) >= bulk.COPY_FROM_ROWS:  # thousands: a VALUES list that long parses slowly
        return bulk.update_rows(table, key, [name for name, _ in columns], rows, also=also, returning=returning)

    def value(index: int, sql_type: str) -> str:
        # VALUES columns are named column1, column2 … on both PostgreSQL and SQLite.
        return f"v.column{index}::{sql_type}" if postgres else f"v.column{index}"

    assignments = ", ".join(f"{name} = {value(i + 2, sql_type)}" for i, (name, sql_type) in enumerate(columns))
    if also:
        assignments += f", {also}"
    placeholders = ", ".join(["(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"] * len(rows))
    sql = (
        f"UPDATE {table} SET {assignments} FROM (VALUES {placeholders}) AS v WHERE {table}.{key} = {value(1, 'bigint')}"
    )
    if returning:
        sql += f" RETURNING {returning}"
    # PostgreSQL's driver adapts datetimes as the ORM would: only SQLite needs db_value (a sweep
    # batch passes tens of thousands of values).
    params = [item for row in rows for item in row] if postgres else [db_value(item) for row in rows for item in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


# Column types of the ticket fields a batch action saves (save_tickets).
_TICKET_COLUMN_TYPES = {
    "status": "text",
    "tier": "integer",
    "priority": "text",
    "priority_override_reason": "text",
    "queue_id": "bigint",
    "tier1_queue_id": "bigint",
    "assignee_id": "bigint",
    "is_restricted": "boolean",
}


def save_tickets(tickets: list[Ticket], fields: list[str]) -> None:
    """save_ticket for many locked tickets at once: the named fields, version bumped and
    updated_at set, in one UPDATE … FROM (VALUES …) (the versions read back in one query)."""
    if not tickets:
        return
    from django.utils import timezone

    now = timezone.now()
    columns = [Ticket._meta.get_field(name).column for name in fields]
    rows = [(t.pk, *(getattr(t, Ticket._meta.get_field(name).attname) for name in fields), now) for t in tickets]
    typed = [(column, _TICKET_COLUMN_TYPES[column]) for column in columns] + [("updated_at", "timestamptz")]
    table = Ticket._meta.db_table
    returned = update_from_values(table, "id", typed, rows, also="version = version + 1", returning="id, version")
    versions = dict(returned)
    for ticket in tickets:
        ticket.version = versions[ticket.pk]
        ticket.updated_at = now
