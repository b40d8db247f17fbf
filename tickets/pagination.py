"""Pagination of GET /api/v1/tickets/: page numbers (the contract), or a keyset cursor for deep pages.

`?page=N` (the default) counts and offsets: fine near the top, a scan at page 20,000, and
rows shift when tickets arrive between requests. `?cursor=` (empty for the first page) walks
by keyset instead: each page continues after the last row of the one before, on the ordering
(`created_at` or `resolution_due_at`, either direction; `-created_at` by default) with the
primary key as tie-break, through the partial indexes on open tickets. No count, no offset:
page 20,000 costs what page 1 costs, and a ticket created or changed between requests is
never shown twice nor pushes another one out. Follow `next` until it is null. Due times that
are not set come last in both directions.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from django.db.models import F, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

# ordering → (field, descending)
CURSOR_ORDERINGS = {
    "created_at": ("created_at", False),
    "-created_at": ("created_at", True),
    "resolution_due_at": ("resolution_due_at", False),
    "-resolution_due_at": ("resolution_due_at", True),
}
DEFAULT_CURSOR_ORDERING = "-created_at"
MAX_PAGE_SIZE = 200


class TicketPagination(PageNumberPagination):
    """Page numbers as before; `?cursor=` switches to keyset pages (see the module's doc)."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self.keyset = self.cursor_query_param in request.query_params
        if not self.keyset:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        ordering = request.query_params.get("ordering") or DEFAULT_CURSOR_ORDERING
        if ordering not in CURSOR_ORDERINGS:
            raise ValidationError(
                {"ordering": [f"With a cursor, order by one of: {', '.join(CURSOR_ORDERINGS)} (or leave it out)."]}
            )
        field, descending = CURSOR_ORDERINGS[ordering]
        size = self.get_page_size(request)
        after = _decode(request.query_params[self.cursor_query_param], ordering=ordering)
        rows = list(_after(_ordered(queryset, field, descending), field, descending, after)[: size + 1])
        self.next_cursor = None
        if len(rows) > size:
            rows = rows[:size]
            last = rows[-1]
            self.next_cursor = _encode(ordering, getattr(last, field), last.pk)
        return rows

    def get_paginated_response(self, data):
        if not self.keyset:
            return super().get_paginated_response(data)
        url = self.request.build_absolute_uri()
        next_url = replace_query_param(url, self.cursor_query_param, self.next_cursor) if self.next_cursor else None
        return Response({"next": next_url, "previous": None, "results": data})

    def get_paginated_response_schema(self, schema):
        paged = super().get_paginated_response_schema(schema)
        paged["required"] = ["results"]  # a cursor page has no count
        paged["properties"]["count"]["description"] = "Absent on a cursor page."
        return paged

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Keyset pages for deep lists: empty for the first page, then follow `next`. "
                f"Ordering: {', '.join(CURSOR_ORDERINGS)}.",
                "schema": {"type": "string"},
            },
        ]

    def get_page_size(self, request):
        size = super().get_page_size(request)
        return size or self.page_size


def _ordered(queryset: QuerySet, field: str, descending: bool) -> QuerySet:
    if descending:
        return queryset.order_by(F(field).desc(nulls_last=True), "-pk")
    return queryset.order_by(F(field).asc(nulls_last=True), "pk")


def _after(queryset: QuerySet, field: str, descending: bool, after: tuple[datetime | None, int] | None) -> QuerySet:
    """The rows after (value, pk) in that order (NULL values last)."""
    if after is None:
        return queryset
    value, pk = after
    beyond, tie = ("lt", "lt") if descending else ("gt", "gt")
    if value is None:
        return queryset.filter(**{f"{field}__isnull": True, f"pk__{tie}": pk})
    return queryset.filter(
        Q(**{f"{field}__{beyond}": value}) | Q(**{field: value, f"pk__{tie}": pk}) | Q(**{f"{field}__isnull": True})
    )


def _encode(ordering: str, value: datetime | None, pk: int) -> str:
    raw = json.dumps({"o": ordering, "v": value.isoformat() if value is not None else None, "pk": pk})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(token: str, *, ordering: str) -> tuple[datetime | None, int] | None:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        value = datetime.fromisoformat(data["v"]) if data["v"] is not None else None
        pk = int(data["pk"])
        if data["o"] != ordering:
            raise ValidationError({"cursor": ["This cursor belongs to another ordering; start again with ?cursor="]})
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError):
        raise ValidationError({"cursor": ["Not a cursor this list gave; start again with ?cursor="]}) from None
    return value, pk
