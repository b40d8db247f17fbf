"""pg_trgm for global search (typo-tolerant matching). A no-op on SQLite."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_default_priority_matrix")]

    operations = [TrigramExtension()]
