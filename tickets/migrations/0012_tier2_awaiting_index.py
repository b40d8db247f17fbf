"""The Tier 2 queue's "awaiting acceptance" list in its order from an index of escalated tickets
(issue 14): at 1M tickets PostgreSQL read and sorted all 1,948 of a team's awaiting tickets for
the first 50 (3–11 ms); through this index it reads the 50 (0.3–1.3 ms)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0011_work_pages_1m_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("is_restricted", False), ("status", "escalated")),
                fields=["queue", "resolution_due_at", "created_at", "id"],
                name="ticket_awaiting_queue_due",
            ),
        ),
    ]
