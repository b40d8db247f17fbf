"""`make bench`: seed a dedicated database at scale and time what users and workers wait for.

Usage: make bench BENCH_ARGS="--tickets 100000"   (default 20000; results → bench/results.md)

Each measurement runs several times and reports the median and the worst, because this
machine is shared and noisy. Benchmarks never run in `make test`.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="Reuse the bench database if already seeded.")
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/handoff_bench"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"

    import django

    _ensure_database(os.environ["DATABASE_URL"], keep=args.keep)
    django.setup()
    from django.core.management import call_command

    from tickets.models import Ticket

    call_command("migrate", verbosity=0)
    if not (args.keep and Ticket.objects.count() >= args.tickets):
        started = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            call_command("seed_demo", tickets=args.tickets, demo_tickets=100, stdout=quiet)
        seed_seconds = time.perf_counter() - started
    else:
        seed_seconds = float("nan")

    from bench import scenarios

    rows = [(f"seed_demo --tickets {args.tickets}", [seed_seconds])]
    # The first sweep after seeding catches up on every bulk ticket that is already overdue;
    # time it once (throughput), so the scenarios below measure the steady state.
    from escalation.sla.sweep import sla_sweep

    started = time.perf_counter()
    report = sla_sweep()
    rows.append((f"sla_sweep catch-up after seeding ({report.records} records)", [time.perf_counter() - started]))
    for name, func in scenarios.ALL:
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            func()
            timings.append(time.perf_counter() - started)
        rows.append((name, timings))
    report = _report(rows, tickets=Ticket.objects.count())
    print(report)
    results = ROOT / "bench" / "results.md"
    with results.open("a") as handle:
        handle.write(report + "\n")
    print(f"(appended to {results.relative_to(ROOT)})")


def _ensure_database(url: str, *, keep: bool) -> None:
    if not url.startswith("postgres"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if not keep:
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    import psycopg2

    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'handoff_bench'")
        exists = cursor.fetchone() is not None
        if exists and not keep:
            cursor.execute("DROP DATABASE handoff_bench WITH (FORCE)")
            exists = False
        if not exists:
            cursor.execute("CREATE DATABASE handoff_bench")
    connection.close()


def _report(rows, *, tickets: int) -> str:
    from django.db import connection

    lines = [
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {connection.vendor} · {tickets} tickets · {os.cpu_count()} cores",
        "",
        "| scenario | median ms | worst ms | runs |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, timings in rows:
        lines.append(
            f"| {name} | {statistics.median(timings) * 1000:.1f} | {max(timings) * 1000:.1f} | {len(timings)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
