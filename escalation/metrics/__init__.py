"""Manager dashboard figures (PRODUCT.md "Manager dashboard").

Why a package and not an app: the dashboard owns no data. Every figure is a
query over what the ticket, escalation and SLA services already record
(Ticket, Escalation, SlaRecord), so there is nothing to migrate and nothing
that can drift from the source of truth.

Why no daily rollups: a rollup table is a second copy of the truth that a
Celery task must keep equal to the first (reopens, late ratings and
recomputed SLA targets all rewrite history). The figures for a 90-day window
are computed from scratch with a bounded number of grouped queries (about 20,
independent of data size), using the indexes on created_at, resolved_at and
the SLA records; bench/scenarios.py times the dashboard on the bulk-seeded
database (see bench/results.md). Rollups are worth adding only when that
number stops being comfortable.

Modules:
- filters.py     the period (dates in the viewer's zone) and the team /
                 category / priority / site filters, parsed from a URL.
- aggregates.py  Percentile (PostgreSQL percentile_cont) and its portable
                 fallback for SQLite.
- figures.py     the figures themselves: pure queries, no page logic.
- snapshot.py    the figures' transaction (one snapshot, JIT off) and its
                 extra connections: independent figures run side by side.
- drilldown.py   the tickets behind each figure.
- tables.py      figures shaped as named tables (page, CSV export).
- views.py, apis.py, urls.py, api_urls.py: the page, the at-risk board, the
                 drill-down list, CSV, and GET /api/v1/metrics/sla/.
"""
