"""The dashboard's headline tiles: each a figure with its stated definition and window, and the
number of tickets behind it — the distinct tickets the figure's own query counted under the same
conditions as its drill-down list (figures.dashboard_and_tickets_behind; tests/dashboard checks every
tile against the length of its list). A tile with no such count is counted by its drill-down query.

Ratios (met %, escalation rate…) are over clocks or escalations as figures.py defines them; the
"N tickets" line of every tile is the drill-down's own count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from tickets.models import Ticket

from .drilldown import tickets_behind
from .filters import MetricsFilter
from .tables import drill_url


@dataclass
class Tile:
    key: str
    label: str
    value: str  # the headline
    detail: str  # the figures behind the headline
    definition: str  # what is counted, over which window
    show: str
    params: dict = field(default_factory=dict)
    href: str = ""
    tickets: int = 0  # the drill-down's count


def _pct(value) -> str:
    return "—" if value is None else f"{value} %"


def _min(value) -> str:
    return "—" if value is None else f"{value:g} min"


def tile_specs(figures: dict, *, cleared: bool = False) -> list[Tile]:
    """`cleared`: the viewer may see restricted tickets, so the security tile means something."""
    t, e, b, now = figures["tickets"], figures["escalation"], figures["breaches"], figures["now"]
    tiles = [
        Tile(
            key=f"sla_{row['target']}",
            label=f"{row['label']} met",
            value=_pct(row["met_pct"]),
            detail=(
                f"{row['met']} met · {row['breached']} breached clocks · median {_min(row['median_minutes'])} "
                f"business ({_min(row.get('median_wall_minutes'))} wall-clock) of {_min(row['median_target_minutes'])}"
            ),
            definition="Clocks stopped in the period; met = stopped by their due time (cancelled ones not judged)",
            show="sla",
            params={"target": row["target"]},
        )
        for row in figures["sla"]
    ]
    tiles += [
        Tile(
            "breached",
            "Breaches",
            str(b["total"]),
            f"clocks · {b['tickets_ever_breached']} tickets",
            "Clocks whose due time passed in the period, any target, still running or stopped",
            "breached",
        ),
        Tile(
            "at_risk",
            "At risk now",
            str(now["at_risk_tickets"]),
            "tickets",
            "Now, whatever the period: a running clock past its first warning or due within the hour",
            "at_risk",
        ),
        Tile(
            "breached_now",
            "Breached now",
            str(now["breached_tickets"]),
            "open tickets",
            "Now, whatever the period: open tickets with a breached clock still running",
            "breached_now",
        ),
        Tile(
            "escalated",
            "Escalation rate",
            _pct(t["escalation_rate_pct"]),
            f"{t['escalated']} of {t['created']} created · {e['manual']} manual, {e['automatic']} automatic",
            "Tickets created in the period that were escalated at least once",
            "escalated",
        ),
        Tile(
            "complete_handoffs",
            "Complete handoffs",
            _pct(e["complete_pct"]),
            f"{e['complete_handoffs']} of {e['escalations']} escalations · avg {e['avg_fields_present']}/5 fields",
            "Escalations in the period carrying all five handoff fields",
            "escalations",
            {"complete": "yes"},
        ),
        Tile(
            "returned",
            "Bounce-back rate",
            _pct(e["return_rate_pct"]),
            f"{e['returned']} returned · {e['accepted']} accepted escalations",
            "Escalations made in the period that Tier 2 returned, of those it decided",
            "escalations",
            {"outcome": "returned"},
        ),
        Tile(
            "accepted",
            "Tier 2 time-to-accept",
            _min(e["time_to_accept_median_minutes"]),
            f"median wall-clock · p90 {_min(e['time_to_accept_p90_minutes'])}",
            "Escalations made in the period and accepted: escalated → accepted",
            "escalations",
            {"outcome": "accepted"},
        ),
        Tile(
            "first_contact",
            "Tier 1 first-contact resolution",
            _pct(t["first_contact_rate_pct"]),
            f"{t['first_contact_resolved']} of {t['resolved']} resolved",
            "Resolved in the period in Tier 1, never escalated, never reopened",
            "first_contact",
        ),
        Tile(
            "backlog", "Backlog", str(t["backlog"]), "open tickets", "Now: new, open, pending or escalated", "backlog"
        ),
    ]
    if cleared:
        security = next((row for row in e["by_trigger"] if row["trigger"] == "security_concern"), {})
        escalations = security.get("manual", 0) + security.get("automatic", 0)
        tiles.append(
            Tile(
                "security",
                "Security tickets",
                str(t["security_created"]),
                f"created · {escalations} security escalations",
                "Restricted tickets created in the period (security category, rule or escalation); "
                "shown to managers cleared for them",
                "security",
            )
        )
    return tiles


def known_counts(figures: dict, behind: dict) -> dict[str, int]:
    """Each tile's drill-down count where the figures already counted the same tickets (same conditions:
    tests/dashboard checks every tile against the length of its list)."""
    t, b, now = figures["tickets"], figures["breaches"], figures["now"]
    return {
        **{f"sla_{target}": count for target, count in behind["sla"].items()},
        "breached": b["tickets_ever_breached"],
        "at_risk": now["at_risk_tickets"],
        "breached_now": now["breached_tickets"],
        "escalated": t["escalated"],
        "complete_handoffs": behind["escalations"]["complete"],
        "returned": behind["escalations"]["returned"],
        "accepted": behind["escalations"]["accepted"],
        "first_contact": t["first_contact_resolved"],
        "backlog": t["backlog"],
        "security": t["security_created"],
    }


def build_tiles(
    figures: dict,
    filters: MetricsFilter,
    *,
    tickets: QuerySet[Ticket],
    now: datetime,
    cleared: bool = False,
    behind: dict | None = None,
) -> list[Tile]:
    """The tiles with their drill-down links and ticket counts.

    With `behind` (figures.dashboard_and_tickets_behind) the counts come from the figures' own
    queries; a tile without one is counted by its drill-down query (all of them in one query).
    """
    tiles = tile_specs(figures, cleared=cleared)
    known = known_counts(figures, behind) if behind is not None else {}
    subqueries, params, counted = [], [], []
    for tile in tiles:
        tile.href = drill_url(filters, tile.show, **tile.params)
        if tile.key in known:
            tile.tickets = known[tile.key]
            continue
        counted.append(tile)
        behind_tile = tickets_behind(tickets=tickets, filters=filters, show=tile.show, params=tile.params, now=now)
        sql, sql_params = behind_tile.order_by().values("pk").query.sql_with_params()
        subqueries.append(f"(SELECT COUNT(*) FROM ({sql}) AS tile_{len(subqueries)})")
        params += sql_params
    if subqueries:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(subqueries), params)
            counts = cursor.fetchone()
        for tile, count in zip(counted, counts, strict=True):
            tile.tickets = count
    return tiles
