"""The SLA sweep on the `make run` default, SQLite: a record it has planned comes due again.

The suite runs on PostgreSQL, where timestamps are typed. On SQLite they are text, so a raw
SQL write must store them exactly as the ORM does, or `next_check_at <= now` never matches
again: after its first sweep a ticket would never warn, breach or escalate (and the demo
seeding, which plays the sweep through history, would loop). This runs the real commands on
a real SQLite file in a process of its own.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import datetime as dt
import time_machine
from django.utils import timezone
from escalation import automation
from escalation.sla.models import SlaRecord
from escalation.sla.sweep import sla_sweep
from escalation.sla.demo import seed_configuration as seed_sla
from tickets.demo import seed_organization
from tickets.models import Category, User
from tickets.services import TicketIntake

start = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.timezone.utc)  # a Wednesday, in London's hours
with time_machine.travel(start, tick=False):
    org = seed_organization()
    seed_sla(org)
    requester = User.objects.get(username="requester1")
    ticket = automation.ticket_create(
        intake=TicketIntake(
            title="VPN drops every ten minutes", description="The client disconnects and asks for MFA again.",
            category=Category.objects.get(slug="vpn"), impact="individual", urgency="stopped", requester=requester,
        ),
        acting_user=requester,
    )
first = SlaRecord.objects.filter(ticket=ticket).order_by("next_check_at").first()
checks = []
when = first.next_check_at
for _ in range(6):  # each sweep plans the record's next check; the next sweep must find it
    with time_machine.travel(when, tick=False):
        report = sla_sweep()
    checks.append(report.records)
    nxt = SlaRecord.objects.filter(ticket=ticket).order_by("next_check_at").values_list("next_check_at", flat=True).first()
    if nxt is None or nxt <= when:
        break
    when = nxt
print("CHECKS", checks)
print("BREACHED", SlaRecord.objects.filter(ticket=ticket, breached_at__isnull=False).count())
"""


def test_a_planned_record_comes_due_again_on_sqlite(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("REDIS_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    done = subprocess.run(
        [*manage, "shell", "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    checks = next(line for line in done.stdout.splitlines() if line.startswith("CHECKS"))
    counts = [int(n) for n in checks.removeprefix("CHECKS [").rstrip("]").split(",") if n.strip()]
    # Every sweep at a planned moment found its record: none planned away into a text that never matches.
    assert len(counts) >= 3 and all(count >= 1 for count in counts), done.stdout
    breached = next(line for line in done.stdout.splitlines() if line.startswith("BREACHED"))
    assert int(breached.split()[1]) >= 1, done.stdout  # and the clocks went on to breach
