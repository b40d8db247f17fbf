"""Percentiles in the database: PostgreSQL's percentile_cont, and a portable fallback.

`Percentile(expression, 0.9)` is an ordinary Django aggregate, usable in
`.aggregate()`, in `.values(...).annotate()` (per group) and with `filter=`.
SQLite has no ordered-set aggregates, so `figures()` computes the same
continuous percentile there by reading only the one sorted numeric column for
that figure (`ORDER BY group, value`) and interpolating like percentile_cont:
with n sorted values, the p-th percentile sits at position p·(n−1), between
the two neighbouring values. Never ticket objects, never more than one query
per percentile expression.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import Aggregate, F, Field, FloatField, Q, QuerySet


class Percentile(Aggregate):
    """percentile_cont(fraction) WITHIN GROUP (ORDER BY expression) — PostgreSQL only."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, *, output_field: Field | None = None, **extra):
        fraction = float(fraction)
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile fraction lies between 0 and 1.")
        # A literal in the SQL (never user input: callers pass constants).
        super().__init__(expression, output_field=output_field or FloatField(), fraction=f"{fraction:.6f}", **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        raise NotSupportedError("SQLite has no percentile_cont; use escalation.metrics.aggregates.figures().")


@dataclass(frozen=True)
class Pct:
    """A percentile wanted from figures(): of `expression`, at `fraction`, over rows matching `filter`."""

    expression: Any
    fraction: float
    filter: Q | None = None
    output_field: Field | None = None


def native_percentiles() -> bool:
    return connection.vendor == "postgresql"


def percentile_of_sorted(values: list, fraction: float):
    """percentile_cont over an ascending list: linear interpolation at position fraction·(n−1)."""
    if not values:
        return None
    position = (len(values) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    low = values[lower]
    if lower == upper:
        return float(low) if isinstance(low, int | float) else low
    result = low + (values[upper] - low) * (position - lower)
    return float(result) if isinstance(result, int | float) else result


def figures(
    queryset: QuerySet,
    *,
    group_by: tuple[str, ...] | list[str] = (),
    aggregates: dict[str, Aggregate] | None = None,
    percentiles: dict[str, Pct] | None = None,
    native: bool | None = None,
) -> list[dict]:
    """Grouped (or, with no group_by, one-row) aggregates including percentiles.

    On PostgreSQL (native) everything is one query. Elsewhere: the plain
    aggregates in one query, plus one `ORDER BY` query per distinct percentile
    expression. Returns a list of dicts keyed by the group fields and names.
    """
    native = native_percentiles() if native is None else native
    aggregates = dict(aggregates or {})
    percentiles = dict(percentiles or {})
    group_by = list(group_by)
    if native:
        for name, spec in percentiles.items():
            aggregates[name] = Percentile(
                spec.expression, spec.fraction, filter=spec.filter, output_field=spec.output_field
            )
        percentiles = {}
    if group_by:
        rows = list(queryset.values(*group_by).annotate(**aggregates).order_by(*group_by))
    else:
        rows = [queryset.aggregate(**aggregates)] if aggregates else [{}]
    if not percentiles:
        return rows
    # Fallback: one sorted column per (expression, filter), interpolated per group.
    by_column: dict[tuple[str, str], list[tuple[str, Pct]]] = defaultdict(list)
    for name, spec in percentiles.items():
        by_column[(str(spec.expression), str(spec.filter))].append((name, spec))
    values: dict[str, dict[tuple, Any]] = {}
    for specs in by_column.values():
        spec = specs[0][1]
        expression = F(spec.expression) if isinstance(spec.expression, str) else spec.expression
        column = queryset.filter(spec.filter) if spec.filter is not None else queryset
        column = (
            column.annotate(_value=expression)
            .filter(_value__isnull=False)
            .order_by(*group_by, "_value")
            .values_list(*group_by, "_value")
        )
        sorted_by_group: dict[tuple, list] = defaultdict(list)
        for row in column:
            sorted_by_group[tuple(row[:-1])].append(row[-1])
        for name, each in specs:
            values[name] = {key: percentile_of_sorted(vals, each.fraction) for key, vals in sorted_by_group.items()}
    for row in rows:
        key = tuple(row[field] for field in group_by)
        for name in percentiles:
            row[name] = values[name].get(key)
    return rows
