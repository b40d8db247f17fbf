"""What-if: replay a period under a draft policy (inline, or as a run a worker computes and the page polls).

Nothing here changes a ticket, a record or a policy: the only row written is
the WhatIfRun that carries a long computation's progress and answer.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from escalation.metrics.filters import MetricsFilter
from escalation.sla import engine
from escalation.sla import selectors as sla_selectors
from escalation.sla.models import SlaRecord
from tickets import configcache
from tickets.models import Ticket, User

from . import figures
from .models import RunStatus, WhatIfRun
from .replay import (
    BATCH,
    Draft,
    DraftPolicies,
    ScheduleCache,
    affected_ids,
    candidate_ticket_ids,
    replay_many,
)

logger = logging.getLogger(__name__)


class LiveRecord(NamedTuple):
    """What the figures and the flips read of a live record: a row, not a model instance (thousands a run)."""

    id: int
    ticket_id: int
    target: str
    cycle: int
    stage: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    breached_at: datetime | None
    ever_breached: bool
    target_seconds: int
    paused_business_seconds: int
    tier1_seconds: int
    awaiting_tier2_seconds: int
    tier2_seconds: int
    paused_seconds: int
    segment_tier: str

    @property
    def pk(self) -> int:
        return self.id


def what_if(
    *,
    tickets: QuerySet[Ticket],
    filters: MetricsFilter,
    draft: Draft,
    now: datetime | None = None,
    ticket_ids: list[int] | None = None,
    progress=None,
    replay_all: bool = False,
) -> dict:
    """{current, proposed, tickets}: the dashboard's figures as they are and as the draft would have made them.

    `tickets` is already scoped to the viewer (restricted tickets only for the cleared).
    Only tickets the draft can touch are replayed (replay.affected_ids); every other
    ticket's live records stand for themselves, which is exactly what its replay
    gives (the fidelity tests replay everything, `replay_all`, and compare).
    """
    now = now or timezone.now()
    current = figures.current_figures(tickets=tickets, filters=filters)
    # The live figures are as of the last sweep: a clock due since then is not breached on the
    # dashboard yet, so the replay plays the sweep that far and no further (else a no-change
    # replay would flip it; bench/README.md, what-if).
    swept = sla_selectors.swept_until(now)
    ids = candidate_ticket_ids(tickets, filters) if ticket_ids is None else ticket_ids
    policies = DraftPolicies(draft)
    schedules, lookups = ScheduleCache(), engine.Lookups(preload=True)
    affected = set(ids) if replay_all else set(affected_ids(ids, draft))
    replayed: list[SlaRecord] = []
    flipped: list[dict] = []
    for offset in range(0, len(ids), BATCH):
        chunk = ids[offset : offset + BATCH]
        live: dict[int, list] = defaultdict(list)
        for row in SlaRecord.objects.filter(ticket_id__in=chunk).order_by().values_list(*LiveRecord._fields):
            record = LiveRecord._make(row)
            live[record.ticket_id].append(record)
        touched = [pk for pk in chunk if pk in affected]
        for pk in chunk:
            if pk not in affected:
                replayed += live[pk]
        # Policies, calendars and ladders come from the per-process configuration cache:
        # one configuration-stamp read per batch instead of one per event.
        with configcache.operation():
            for ticket, records in replay_many(
                touched, policies=policies, now=swept, schedules=schedules, lookups=lookups
            ):
                replayed += records
                flipped += figures.flips(ticket, live[ticket.pk], records, filters)
        if progress is not None:
            progress(min(offset + BATCH, len(ids)), len(ids))
    flipped.sort(key=lambda row: (row["stopped_at"] or row["proposed_due_at"] or "", row["id"], row["target"]))
    return {
        "period": filters.period(),
        "filters": {k: v for k, v in filters.as_params().items() if k not in ("from", "to")},
        "draft": {
            "changes": [
                {"priority": p, "target": t, "business_minutes": m} for (p, t), m in sorted(draft.changes.items())
            ],
            "calendar": {"id": draft.calendar.pk, "name": draft.calendar.name} if draft.calendar else None,
        },
        "current": current,
        "proposed": figures.proposed_figures(replayed, filters),
        "tickets": flipped,
        "replayed_tickets": len(ids),
        "policies_used": {priority: sorted(pks) for priority, pks in sorted(policies.used.items())},
        "computed_at": now.isoformat(),
    }


def runs_inline(ticket_count: int) -> bool:
    return ticket_count <= settings.WHATIF_INLINE_TICKETS


def whatif_run_create(*, acting_user: User, params: dict, total: int) -> WhatIfRun:
    """A run for a long period; the worker starts once this transaction commits."""
    from .tasks import whatif_run_task

    run = WhatIfRun.objects.create(requested_by=acting_user, params=params, total=total)
    transaction.on_commit(lambda: whatif_run_task.delay(str(run.pk)))
    return run


def whatif_run_execute(*, run_id: str, now: datetime | None = None) -> WhatIfRun | None:
    """1. Claim the queued run (another worker may have it: then do nothing).
    2. Rebuild the draft from its params, scoped to the requester as they are now.
    3. Replay with progress written every batch; store the answer (or the error).
    """
    from escalation.metrics.filters import parse_filters
    from escalation.sla.models import Calendar
    from tickets.selectors import ticket_list_for

    claimed = WhatIfRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    if claimed != 1:
        return None
    run = WhatIfRun.objects.select_related("requested_by").get(pk=run_id)
    params = run.params
    try:
        user = run.requested_by
        filters = parse_filters(
            {**params.get("filters", {}), "from": params["from"], "to": params["to"]},
            time_zone=params.get("time_zone") or user.display_time_zone,
        )
        calendar = Calendar.objects.filter(pk=params["calendar"]).first() if params.get("calendar") else None
        draft = Draft(
            changes={(c["priority"], c["target"]): c["business_minutes"] for c in params.get("changes", [])},
            calendar=calendar,
        )
        tickets = ticket_list_for(user)
        ids = candidate_ticket_ids(tickets, filters)
        WhatIfRun.objects.filter(pk=run.pk).update(total=len(ids))

        def progress(done: int, total: int) -> None:
            WhatIfRun.objects.filter(pk=run.pk).update(done=done, total=total)

        result = what_if(tickets=tickets, filters=filters, draft=draft, now=now, ticket_ids=ids, progress=progress)
    except Exception as exc:  # the page must hear about it rather than poll forever
        logger.exception("What-if run %s failed", run_id)
        WhatIfRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    WhatIfRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE, result=result, done=len(ids), finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run
