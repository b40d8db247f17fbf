"""The sweep catch-up scenario of `make bench` on its own, for everyday profiling.

    DATABASE_URL=postgres://…/handoff_mine .venv/bin/python bench/catchup.py [--tickets 2000] [--history 0]

Uses the database DATABASE_URL names (it must not be one you care about: it is migrated and
seeded on first use, and every run adds `--tickets` overdue Tier 1 tickets to it). Seeds the
demo organization and the bench's "Stale Tier 1" escalation path once, adds `--history`
historical tickets (COPY, as `make bench` does), then the overdue P1 tickets, and runs
`manage.py sla_sweep` in a process of its own, as bench/run.py does: prints tickets/s (from the
sweep's own time, as the command prints it: without the process's start-up, which a worker pays
once), the sweep's report and the process's peak RSS. Outbox deliveries go to an in-memory broker (nothing sends).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=2000, help="Overdue Tier 1 tickets to catch up on.")
    parser.add_argument("--history", type=int, default=0, help="Historical tickets to seed on first use.")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/catchup.py needs PostgreSQL: set DATABASE_URL=postgres://… (a database of its own)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["CELERY_BROKER_URL"] = "memory://"

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from bench import seed
    from bench.run import _seed, _sweep_process
    from tickets.models import Queue

    call_command("migrate", verbosity=0)
    if not Queue.objects.exists():
        seconds = _seed(args.history)
        print(f"seeded the demo organization and {args.history} tickets in {seconds:.0f} s")
    env = dict(os.environ)
    _sweep_process(env)  # whatever was due before: a clean start
    seed.overdue_tier1(count=args.tickets, now=timezone.now())
    seconds, rss, report = _sweep_process(env)
    print(f"catch-up of {args.tickets} tickets: {seconds:.1f} s, {args.tickets / seconds:.1f} tickets/s, "
          f"peak RSS {rss:.0f} MB")  # fmt: skip
    print(f"  {report}")
    started = time.perf_counter()
    seconds, _rss, report = _sweep_process(env)
    print(f"  the next sweep, in a fresh process: {seconds:.2f} s "
          f"({time.perf_counter() - started:.2f} s with the process's start-up)")  # fmt: skip
    print(f"  {report}")


if __name__ == "__main__":
    main()
