"""The work pages at 1M tickets (issue 14): the desk's own tickets and the page counts by index,
and statistics that let the planner see that status, tier and queue go together.

Without the statistics the Tier 2 queue's filter (queue, tier 2, an open status, then escalated
or accepted) was estimated at ~100 rows of 4,000 (the three columns taken as independent), so
PostgreSQL read and sorted every open ticket of the team instead of walking
ticket_open_queue_due for the first 50. PostgreSQL only; the next ANALYZE fills them.
"""

from django.db import migrations, models

STATISTICS = "ticket_status_tier_queue_stats"


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (mcv, dependencies) "
            "ON status, tier, queue_id FROM tickets_ticket"
        )


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0010_dashboard_covering_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("status__in", ["new", "open", "pending", "escalated"])),
                fields=["assignee", "resolution_due_at", "created_at", "id"],
                name="ticket_open_assignee_due",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("is_restricted", False)), fields=["tier", "status", "queue"], name="ticket_visible_tier_status"
            ),
        ),
        migrations.RunPython(create_statistics, drop_statistics, elidable=False),
    ]
