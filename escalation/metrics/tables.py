"""The figures as named tables: what the page shows, what `?format=csv&table=<name>` exports.

Each table has a title, columns (key, label) and rows; a row may carry `href`,
the drill-down list of the tickets behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse

from .filters import MetricsFilter


@dataclass
class Table:
    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict] = field(default_factory=list)

    @property
    def cells(self) -> list[tuple[str | None, list]]:
        """(drill-down href, values in column order) per row, for templates."""
        return [(row.get("href"), [row.get(key) for key, _label in self.columns]) for row in self.rows]


def drill_url(filters: MetricsFilter, show: str, **params) -> str:
    query = filters.as_params(show=show, **{key: value for key, value in params.items() if value is not None})
    return f"{reverse('dashboard-tickets')}?{urlencode(query)}"


def build_tables(figures: dict, filters: MetricsFilter) -> dict[str, Table]:
    def link(show, **params):
        return drill_url(filters, show, **params)

    tables = [
        Table(
            "sla",
            "SLA attainment",
            [
                ("label", "Target"),
                ("met", "Met"),
                ("breached", "Breached"),
                ("met_pct", "Met %"),
                ("median_minutes", "Median business min"),
                ("median_wall_minutes", "Median wall-clock min"),
                ("median_target_minutes", "Median target min"),
            ],
            [{**row, "href": link("sla", target=row["target"])} for row in figures["sla"]],
        ),
        Table(
            "breaches_by_tier",
            "Breaches by the tier whose time ran out",
            [("label", "Tier"), ("breaches", "Breaches")],
            [{**row, "href": link("breached", tier=row["tier"])} for row in figures["breaches"]["by_tier"]],
        ),
        Table(
            "breaches_by_target",
            "Breaches by target",
            [("label", "Target"), ("breaches", "Breaches")],
            [{**row, "href": link("breached", target=row["target"])} for row in figures["breaches"]["by_target"]],
        ),
        Table(
            "escalations_by_trigger",
            "Escalations by trigger",
            [("label", "Trigger"), ("manual", "Manual"), ("automatic", "Automatic"), ("returned", "Returned")],
            [
                {**row, "href": link("escalations", trigger=row["trigger"])}
                for row in figures["escalation"]["by_trigger"]
            ],
        ),
        Table(
            "return_reasons",
            "Bounce-back reasons",
            [("label", "Reason"), ("returns", "Returns")],
            [
                {**row, "href": link("escalations", outcome="returned", reason=row["reason"])}
                for row in figures["escalation"]["return_reasons"]
            ],
        ),
        Table(
            "resolution_split",
            "Resolution time: where it went",
            [("label", "Part"), ("median_minutes", "Median business min"), ("p90_minutes", "p90 business min")],
            [{**row, "href": link("resolution")} for row in figures["resolution_time"]["split"]],
        ),
        Table(
            "resolution_by_tier",
            "Resolution time by resolving tier",
            [
                ("label", "Tier"),
                ("records", "Resolutions"),
                ("median_minutes", "Median business min"),
                ("p90_minutes", "p90 business min"),
            ],
            [
                {**row, "href": link("resolution", tier=row["tier"])}
                for row in figures["resolution_time"]["by_resolving_tier"]
            ],
        ),
        Table(
            "backlog_aging",
            "Backlog aging (open now)",
            [("label", "Age"), ("tickets", "Tickets")],
            [{**row, "href": link(f"age_{row['bucket']}")} for row in figures["tickets"]["backlog_aging"]],
        ),
        Table(
            "volume_by_hour",
            f"Tickets created by hour of day ({figures['period']['time_zone']})",
            [("hour", "Hour"), ("tickets", "Tickets")],
            [{**row, "href": link("hour", hour=row["hour"])} for row in figures["volume"]["by_hour"]],
        ),
        Table(
            "volume_by_site",
            "Tickets created by site",
            [("label", "Site"), ("tickets", "Tickets")],
            [
                {**row, "href": drill_url(filters, "created", site=row["site"]) if row["site"] else None}
                for row in figures["volume"]["by_site"]
            ],
        ),
        Table(
            "trend",
            "Per day",
            [
                ("day", "Day"),
                ("created", "Created"),
                ("resolved", "Resolved"),
                ("first_response_met_pct", "First response met %"),
                ("resolution_met_pct", "Resolution met %"),
            ],
            [
                {**row, "href": drill_url(filters, "created", **{"from": row["day"], "to": row["day"]})}
                for row in figures["trend"]
            ],
        ),
        Table(
            "agents",
            "Agents: handoffs and resolutions",
            [
                ("agent", "Agent"),
                ("resolved", "Resolved"),
                ("escalations", "Escalations made"),
                ("return_rate_pct", "Handoff return rate %"),
                ("avg_rating", "Average handoff rating"),
                ("automatic_share_pct", "Automatic-escalation share %"),
                ("returns", "Returns received"),
                ("median_rating", "Median handoff rating"),
            ],
            [
                {
                    **row,
                    "href": link("agent_resolved", agent=row["agent_id"])
                    if row["agent_id"]
                    else link("agent_escalations", agent="automatic"),
                    "href_escalations": link("agent_escalations", agent=row["agent_id"] or "automatic"),
                }
                for row in figures["agents"]
            ],
        ),
        Table(
            "teams",
            "Teams: handoffs and resolutions",
            [
                ("label", "Team"),
                ("resolved", "Resolved"),
                ("escalations", "Escalations made"),
                ("return_rate_pct", "Handoff return rate %"),
                ("avg_rating", "Average handoff rating"),
                ("automatic_share_pct", "Automatic-escalation share %"),
                ("returns", "Returns received"),
                ("median_rating", "Median handoff rating"),
            ],
            [{**row, "href": drill_url(filters, "resolved", team=row["team"])} for row in figures["teams"]],
        ),
    ]
    return {table.name: table for table in tables}
