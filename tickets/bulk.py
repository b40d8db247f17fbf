"""Plain-row inserts for batch writes (the SLA sweep's thousands of rows), on PostgreSQL.

`insert_rows` writes tuples, not model instances: no `Model.__init__`, no compiler per value.
Below `COPY_FROM_ROWS` rows it is one `INSERT … VALUES` (psycopg2's execute_values); from it,
the rows go through COPY into a scratch table (dropped at commit) and one `INSERT … SELECT`
from there, because PostgreSQL parses a VALUES list of thousands of rows slowly (14,000
outbox rows of a sweep catch-up: ~1.3 s as VALUES, ~0.5 s through COPY). Small batches keep
the one statement (their query budgets count it).
"""

from __future__ import annotations

import io
import json
import zlib
from datetime import datetime

from django.db import connection, models, transaction

COPY_FROM_ROWS = 1000

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(rows: list[tuple]) -> str:
    """The rows in COPY's text format: None is \\N, text escaped, a datetime in ISO form (each
    distinct moment formatted once: a batch's rows share a handful), anything else str()."""
    moments: dict[datetime, str] = {}
    lines = []
    for row in rows:
        fields = []
        add = fields.append
        for value in row:
            if value is None:
                add("\\N")
            elif isinstance(value, str):
                # translate() looks every character up: ten times the cost of these scans, and few values need it
                if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
                    value = value.translate(_COPY_ESCAPES)
                add(str(value))  # a choices member: its value
            elif isinstance(value, datetime):
                text = moments.get(value)
                if text is None:
                    text = moments[value] = value.isoformat()
                add(text)
            else:
                add(str(value))  # numbers, booleans: nothing to escape
        lines.append("\t".join(fields))
    lines.append("")
    return "\n".join(lines)


def insert_rows(
    table: str, columns: tuple[str, ...], rows: list[tuple], *, suffix: str = "", returning: str = ""
) -> list[tuple]:
    """INSERT the rows (in `columns` order) into `table`, PostgreSQL only; `suffix` goes after the
    rows ("ON CONFLICT DO NOTHING"). With `returning`, the returned rows (in no promised order)."""
    from psycopg2.extras import execute_values  # PostgreSQL's driver: imported where only PostgreSQL runs

    if not rows:
        return []
    names = ", ".join(columns)
    tail = f" {suffix}" if suffix else ""
    if returning:
        tail += f" RETURNING {returning}"
    with connection.cursor() as cursor:
        if len(rows) < COPY_FROM_ROWS:
            # through Django's cursor: the statement is logged and counted like any other
            result = execute_values(
                cursor,
                f"INSERT INTO {table} ({names}) VALUES %s{tail}",
                rows,
                page_size=len(rows),
                fetch=bool(returning),
            )
            return result if returning else []
        with transaction.atomic():  # ON COMMIT DROP needs a transaction; a savepoint inside the caller's
            scratch, loaded = _load(cursor, table, columns, rows)
            # Emptied by the same statement: a second call in the transaction finds it empty.
            cursor.execute(
                f"WITH loaded AS (DELETE FROM {scratch} RETURNING {', '.join(loaded)}) "
                f"INSERT INTO {table} ({names}) SELECT {', '.join(loaded)} FROM loaded{tail}"
            )
            return cursor.fetchall() if returning else []


def update_rows(
    table: str, key: str, columns: list[str], rows: list[tuple], *, also: str = "", returning: str = ""
) -> list[tuple]:
    """tickets.locks.update_from_values for thousands of rows (PostgreSQL): the rows (key first,
    then `columns`) through COPY into a scratch table typed as `table`, then one UPDATE … FROM it."""
    tail = f" RETURNING {returning}" if returning else ""
    with transaction.atomic(), connection.cursor() as cursor:
        scratch, loaded = _load(cursor, table, (key, *columns), rows)
        assignments = ", ".join(f"{name} = loaded.{alias}" for name, alias in zip(columns, loaded[1:], strict=True))
        if also:
            assignments += f", {also}"
        cursor.execute(
            f"WITH loaded AS (DELETE FROM {scratch} RETURNING *) "
            f"UPDATE {table} SET {assignments} FROM loaded WHERE {table}.{key} = loaded.{loaded[0]}{tail}"
        )
        return cursor.fetchall() if returning else []


def _load(cursor, table: str, columns: tuple[str, ...], rows: list[tuple]) -> tuple[str, list[str]]:
    """COPY the rows into a scratch table with `table`'s types for `columns` (one per table and
    column list, dropped at commit). Returns its name and its columns' names, c0, c1 … (never
    the same as a column of `table`: the statement reading it may name those unqualified)."""
    names = ", ".join(columns)
    aliases = [f"c{index}" for index in range(len(columns))]
    scratch = f"load_{table}_{zlib.crc32(names.encode()):08x}"
    select = ", ".join(f"{name} AS {alias}" for name, alias in zip(columns, aliases, strict=True))
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {scratch} ON COMMIT DROP AS SELECT {select} FROM {table} WITH NO DATA"
    )
    cursor.copy_expert(f"COPY {scratch} FROM STDIN", io.StringIO(copy_text(rows)))
    return scratch, aliases


def next_ids(table: str, count: int) -> list[int]:
    """`count` ids from the table's id sequence (PostgreSQL), for rows written with their ids."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
        return [pk for (pk,) in cursor.fetchall()]


def insert_objects(objs: list[models.Model]) -> None:
    """bulk_create for new instances of one model, in order, each getting its pk; on PostgreSQL as
    plain rows through insert_rows (not the ORM's compiler: a sweep batch writes thousands). For
    models whose fields hold plain values (no auto_now, no expressions): what __init__ set is what
    is written. An instance that already has its pk (taken from the sequence) is written with it.
    """
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    meta = model._meta
    table, pk = meta.db_table, meta.pk
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    missing = [obj for obj in objs if obj.pk is None]
    if missing and (len(missing) < len(objs) or len(objs) >= COPY_FROM_ROWS):
        # ids first: COPY returns nothing in a promised order, and one statement writes them all
        for obj, value in zip(missing, next_ids(table, len(missing)), strict=True):
            obj.pk = value
        missing = []
    converters = [_converter(f) for f in fields]
    rows = [
        tuple(value if convert is None else convert(value) for convert, value in zip(converters, values, strict=True))
        for values in ([getattr(obj, f.attname) for f in fields] for obj in objs)
    ]
    columns = tuple(f.column for f in fields)
    if missing:  # none has a pk: the database gives them, returned in the VALUES' order (as bulk_create relies on)
        for obj, (value,) in zip(objs, insert_rows(table, columns, rows, returning=pk.column), strict=True):
            obj.pk = value
    else:
        insert_rows(table, (pk.column, *columns), [(obj.pk, *row) for obj, row in zip(objs, rows, strict=True)])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def _converter(field: models.Field):
    """What turns an attribute into a driver value, where the attribute itself will not do."""
    if isinstance(field, models.JSONField):
        return lambda value: json.dumps(value, cls=field.encoder)
    if isinstance(field, models.CharField | models.TextField):
        return lambda value: value if value is None or value.__class__ is str else str(value)  # choices' members
    return None
