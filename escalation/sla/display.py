"""The ticket page's SLA panel: each clock of the current cycle as words a person reads at a glance.

Pure presentation over SlaRecord rows (from selectors.sla_records_for_ticket): no writes, and at most
one schedule load (for the live tier split of the resolution clock on a business-hours calendar).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tickets.durations import SOON, relative, span

from . import businesstime as bt
from .models import Segment, SlaPolicy, SlaRecord, Stage, Target

BREACHED_PREFIX = "breached · "

SEGMENT_FIELDS = (
    (Segment.TIER1, "tier1_seconds"),
    (Segment.AWAITING_TIER2, "awaiting_tier2_seconds"),
    (Segment.TIER2, "tier2_seconds"),
    (Segment.PAUSED, "paused_seconds"),
)


@dataclass
class SplitPart:
    segment: str
    label: str
    seconds: int
    percent: float = 0.0
    is_current: bool = False

    @property
    def text(self) -> str:
        return span(timedelta(seconds=self.seconds))


@dataclass
class SlaClock:
    record: SlaRecord
    label: str
    stage: str
    stage_label: str
    text: str
    tone: str  # ok / soon / overdue / done / none: the chip colour
    due_at: datetime | None = None  # set while running, so the page's JS keeps the countdown fresh
    split: list[SplitPart] = field(default_factory=list)
    prefix: str = ""  # kept before the countdown when the JS refreshes it ("breached · ")
    current_policy: SlaPolicy | None = None  # the policy the ticket is on now (the live clocks')


def _describe(record: SlaRecord, now: datetime) -> tuple[str, str, datetime | None]:
    """(text, tone, live due time) for one record."""
    if record.stage == Stage.MET:
        # Business time to spare, not wall-clock: a Friday-evening answer is not "met 2 d early".
        counted = record.elapsed_business_seconds - record.paused_business_seconds
        if counted > 0:
            early = timedelta(seconds=max(record.target_seconds - counted, 0))
        else:
            early = record.due_at - (record.stopped_at or now)
        return f"met {span(early)} early", "done", None
    if record.stage == Stage.BREACHED:
        if record.stopped_at is not None:
            late = record.stopped_at - (record.breached_at or record.due_at)
            return f"breached · done {span(late)} late", "overdue", None
        if record.due_at > now:  # a recompute loosened the target after the breach: the breach stands
            return f"breached · new target {relative(record.due_at, now)}", "overdue", None
        return f"{BREACHED_PREFIX}{relative(record.due_at, now)}", "overdue", record.due_at
    if record.stage == Stage.PAUSED:
        return "paused · waiting on the requester", "none", None
    if record.stage == Stage.CANCELLED:
        return "no longer applies", "none", None
    left = record.due_at - now
    tone = "overdue" if left.total_seconds() < 0 else "soon" if left < SOON else "ok"
    return relative(record.due_at, now), tone, record.due_at


def _split(record: SlaRecord, now: datetime, schedule_for) -> list[SplitPart]:
    """Business time so far per tier, the running segment included (counted up to now)."""
    seconds = {segment: getattr(record, name) for segment, name in SEGMENT_FIELDS}
    current = record.segment_tier if record.stopped_at is None else ""
    if current and record.segment_started_at is not None and record.segment_started_at < now:
        seconds[current] = seconds.get(current, 0) + bt.business_seconds_between(
            schedule_for(record), record.segment_started_at, now
        )
    total = sum(seconds.values())
    parts = []
    for segment, _name in SEGMENT_FIELDS:
        if seconds[segment] or segment == current:
            percent = round(100 * seconds[segment] / total, 1) if total else 0.0
            parts.append(
                SplitPart(
                    segment=segment,
                    label=Segment(segment).label,
                    seconds=seconds[segment],
                    percent=percent,
                    is_current=segment == current,
                )
            )
    return parts


def shown_records(records: list[SlaRecord]) -> list[SlaRecord]:
    """One record per target of the current cycle: the running one, else the latest (docs/SLA.md)."""
    shown: dict[str, SlaRecord] = {}
    for record in sorted((r for r in records if r.is_current), key=lambda r: (r.started_at, r.pk or 0)):
        if record.target not in shown or shown[record.target].stopped_at is not None:
            shown[record.target] = record
    return list(shown.values())


def clocks_for_page(records: list[SlaRecord], *, now: datetime) -> list[SlaClock]:
    """The current cycle's clocks in target order, the resolution clock with its tier split."""
    from .services import load_schedule

    def schedule_for(record: SlaRecord) -> bt.Schedule:
        if record.calendar is None:
            return bt.TWENTY_FOUR_SEVEN
        if record.calendar.is_24x7:
            return bt.Schedule(time_zone=record.time_zone, is_24x7=True)
        return load_schedule(calendar_id=record.calendar_id, time_zone=record.time_zone)

    order = {value: index for index, value in enumerate(Target.values)}
    current = sorted(shown_records(records), key=lambda r: order.get(r.target, 99))
    # A recompute moves only running clocks: the policy on show is theirs, else the latest record's.
    live = [r for r in current if r.stopped_at is None]
    policy = (live or sorted(current, key=lambda r: r.started_at)[-1:] or [None])[0]
    policy = policy.policy if policy is not None else None
    clocks = []
    for record in current:
        text, tone, due_at = _describe(record, now)
        clocks.append(
            SlaClock(
                record=record,
                label=record.get_target_display(),
                stage=record.stage,
                stage_label=record.get_stage_display(),
                text=text,
                tone=tone,
                due_at=due_at,
                split=_split(record, now, schedule_for) if record.target == Target.RESOLUTION else [],
                prefix=BREACHED_PREFIX if text.startswith(BREACHED_PREFIX) and due_at else "",
                current_policy=policy,
            )
        )
    return clocks
