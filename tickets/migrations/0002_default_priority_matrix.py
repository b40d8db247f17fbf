from django.db import migrations

# The ITSM impact × urgency convention; admins edit it afterwards.
CELLS = {
    ("organization", "stopped"): "P1",
    ("organization", "slowed"): "P1",
    ("organization", "minor"): "P2",
    ("site", "stopped"): "P1",
    ("site", "slowed"): "P2",
    ("site", "minor"): "P3",
    ("team", "stopped"): "P2",
    ("team", "slowed"): "P3",
    ("team", "minor"): "P3",
    ("individual", "stopped"): "P3",
    ("individual", "slowed"): "P4",
    ("individual", "minor"): "P4",
}


def add_cells(apps, schema_editor):
    Cell = apps.get_model("tickets", "PriorityMatrixCell")
    for (impact, urgency), priority in CELLS.items():
        Cell.objects.get_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(add_cells, migrations.RunPython.noop)]
