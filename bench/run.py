"""`make bench`: seed a dedicated PostgreSQL database at scale and measure against the budgets.

    make bench                          # 20,000 tickets (BENCH_TICKETS), under 10 minutes
    make bench BENCH_TICKETS=1000000    # the 1M run (tens of minutes on 2 cores)
    make bench BENCH_ARGS=--keep        # reuse an already-seeded handoff_bench database

1. Drop and create the `handoff_bench` database (next to DATABASE_URL), migrate, seed the
   demo organization, then COPY N historical tickets with timelines, SLA records and
   escalations (bench/seed.py).
2. Serve the app with gunicorn (2 workers, DEBUG off) and measure with an httpx/asyncio
   client: page and API latency (p95), intake throughput with 8 concurrent clients, the
   dashboard over 90 days, the web workers' peak RSS. Query counts come from the test
   client (they do not depend on load).
3. The sweep, in a worker process of its own: catch-up of 2,000 overdue Tier 1 tickets
   (throughput and peak RSS), 1,000 newly due records among everything open, and a
   sweep with nothing due.
4. Write bench/results/latest.json (and bench/results/<N>.json) and the table in
   bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
README = ROOT / "bench" / "README.md"
CATCH_UP_TICKETS = 2000
NEWLY_DUE = 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=int(os.environ.get("BENCH_TICKETS") or 20000))
    parser.add_argument("--keep", action="store_true", help="Reuse the bench database if it is already seeded.")
    parser.add_argument("--intake", type=int, default=600, help="Tickets POSTed in the intake scenario.")
    parser.add_argument("--samples", type=int, default=40, help="Requests per latency scenario.")
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_DATABASE") or "handoff_bench",
        help="The database the bench drops, creates and seeds (next to DATABASE_URL's).",
    )
    parser.add_argument(
        "--only",
        choices=["served", "sweep", "whatif"],
        action="append",
        help="Run only these scenario groups (repeatable); the others keep their last figures in latest.json.",
    )
    args = parser.parse_args()
    groups = set(args.only or ["served", "sweep", "whatif"])

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("make bench needs PostgreSQL: set DATABASE_URL=postgres://… (the bench uses its own database)")
    database_url = base.rsplit("/", 1)[0] + "/" + args.database
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    # The served app and the sweep worker publish to the real broker; this process only sets
    # the stage, and its outbox rows need no delivery (nothing consumes the bench's tasks).
    broker = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or "memory://"
    os.environ["BENCH_BROKER_URL"] = broker
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    # One key for this process and the served app: the sessions made here must be valid there.
    os.environ["SECRET_KEY"] = os.environ.get("BENCH_SECRET_KEY") or os.urandom(48).hex()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    started = time.perf_counter()
    fresh = _ensure_database(database_url, name=args.database, keep=args.keep)

    import django

    django.setup()
    from django.core.management import call_command

    from tickets.models import Ticket

    results: list[dict] = []
    call_command("migrate", verbosity=0)
    if fresh or Ticket.objects.count() < args.tickets:
        seconds = _seed(args.tickets)
        print(f"seeded {args.tickets} tickets in {seconds:.0f} s")
        results.append(_scenario("seed: tickets with timelines, SLA records, escalations (COPY)", args.tickets,
                                 seconds / 60, "min", None))  # fmt: skip
    tickets = Ticket.objects.count()
    open_tickets = Ticket.objects.filter(resolved_at__isnull=True).count()

    if "served" in groups:
        results += _served(database_url, tickets=tickets, samples=args.samples, intake_count=args.intake)
    # The what-if before the sweep scenarios: its fidelity check replays what is there, and the
    # sweeps below add catch-up tickets and run a sweep ahead of the clock.
    if "whatif" in groups:
        results += _what_if(tickets=tickets)
    if "sweep" in groups:
        results += _sweeps(tickets=tickets, open_tickets=open_tickets)
    total = time.perf_counter() - started
    print(f"bench finished in {total / 60:.1f} min")
    _write(results, tickets=tickets, minutes=total / 60, partial=args.only is not None)
    _purge_bench_tasks()


def _purge_bench_tasks() -> None:
    """Drop the delivery tasks the bench queued on the real broker: nothing is meant to deliver them."""
    from kombu import Connection

    try:
        with Connection(os.environ["BENCH_BROKER_URL"]) as connection:
            purged = connection.default_channel.queue_purge("celery") or 0
        print(f"purged {purged} bench delivery tasks from the broker")
    except Exception as error:  # a broker that is not there has nothing queued
        print(f"(broker not purged: {error})")


# ---------------------------------------------------------------- setup


def _ensure_database(url: str, *, name: str, keep: bool) -> bool:
    """Create the bench database (dropping an old one unless --keep); True when it is new."""
    import psycopg2
    from psycopg2 import sql

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        sys.exit(f"--database: {name!r} is not a plain database name")
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        if exists and not keep:
            cursor.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = False
        if not exists:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()
    return not exists


def _seed(count: int) -> float:
    from django.core.management import call_command
    from django.utils import timezone

    from bench import seed
    from escalation.models import EscalationPath
    from tickets.models import Queue

    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", tickets=0, demo_tickets=30, stdout=quiet)
    # Stale Tier 1 tickets go to Applications (the catch-up scenario escalates along it).
    EscalationPath.objects.get_or_create(
        name="Stale Tier 1 (bench)",
        trigger="time_exceeded",
        defaults={"to_queue": Queue.objects.filter(tier=2, is_security=False).order_by("pk").first()},
    )
    seed.seed(count=count, now=timezone.now())
    return time.perf_counter() - started


def _scenario(name: str, tickets: int, value: float, unit: str, budget: float | None, *, higher_is_better=False):
    if budget is None:
        passed = None
    else:
        passed = value >= budget if higher_is_better else value <= budget
    row = {"name": name, "tickets": tickets, "value": round(value, 3), "unit": unit, "budget": budget, "pass": passed}
    verdict = "" if passed is None else ("PASS" if passed else "MISS")
    print(f"  {name}: {row['value']} {unit} (budget {budget}) {verdict}", flush=True)
    return row


def _session_cookie(username: str) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from tickets.models import User

    user = User.objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _token(username: str) -> str:
    """An API token (django-rest-knox) as an integrator would get from POST /api/v1/auth/token/."""
    from knox.models import AuthToken

    from tickets.models import User

    return AuthToken.objects.create(user=User.objects.get(username=username))[1]


def _query_count(username: str, path: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tickets.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    client.get(path)  # warm (per-process configuration, sessions)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(queries)


# ---------------------------------------------------------------- served by gunicorn


def _served(database_url: str, *, tickets: int, samples: int, intake_count: int) -> list[dict]:
    from django.utils import timezone

    from bench import load

    results = []
    pages = [
        ("Tier 1 desk page GET /desk/", "agent1", "/desk/", "session"),
        ("Tier 2 queue page GET /tier2/", "engineer1", "/tier2/", "session"),
        ("GET /api/v1/tickets/?tier=2&ordering=resolution_due_at", "agent1",
         "/api/v1/tickets/?tier=2&ordering=resolution_due_at", "token"),
    ]  # fmt: skip
    today = timezone.now().date()
    dashboard = f"/dashboard/?from={today - timedelta(days=89)}&to={today}"
    env = load.server_env(database_url)
    # DEBUG off serves hashed static names: collect them with the same settings.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    with load.gunicorn(env=env) as (base, master):
        for name, user, path, auth in pages:
            headers = (
                {"Cookie": _session_cookie(user)} if auth == "session" else {"Authorization": f"Token {_token(user)}"}
            )
            timings = load.timed_gets(base + path, headers=headers, count=samples)
            results.append(_scenario(f"{name} (p95)", tickets, load.p95(timings) * 1000, "ms", 50))
            results.append(_scenario(f"{name} (queries)", tickets, _query_count(user, path), "queries", 10))
        timings = load.timed_gets(base + dashboard, headers={"Cookie": _session_cookie("manager1")}, count=3, warmup=1)
        results.append(_scenario("dashboard, 90 days (median)", tickets, statistics.median(timings) * 1000, "ms", 1000))
        bodies = [
            {
                "title": f"Bench intake {index}: VPN drops every few minutes",
                "description": "The tunnel drops roughly every ten minutes since this morning's update.",
                "category": "vpn",
                "impact": ["individual", "team", "site"][index % 3],
                "urgency": ["minor", "slowed", "stopped"][index % 3],
                "requester": "requester1",
            }
            for index in range(intake_count)
        ]
        rate, failures = load.intake(base, token=_token("agent1"), bodies=bodies, clients=8)
        if failures:
            print(f"  intake: {failures} requests failed")
        results.append(
            _scenario("intake: 8 concurrent clients, gunicorn 2 workers", tickets, rate, "tickets/s", 150,
                      higher_is_better=True)
        )  # fmt: skip
        results.append(_scenario("peak RSS: a web worker", tickets, load.worker_peak_rss_mb(master), "MB", 200))
    return results


# ---------------------------------------------------------------- the sweep


# Run as `python -c _OWN_PEAK_RSS script args…`: runs the script as `python script args…` would,
# and prints the process's own peak RSS (VmHWM) as it exits. Not the rusage `wait4` (or the child's
# own RUSAGE_SELF) gives: Linux carries ru_maxrss over fork and exec, so a child started by a big
# process reports at least its parent's peak RSS (the bench's, after the seed and the what-if:
# 949 MB "for the sweep" at 1M tickets, where the sweep itself peaked at ~125 MB).
_OWN_PEAK_RSS = """
import atexit, runpy, sys

def _peak_rss():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print(f"own peak RSS: {kb} kB", flush=True)

atexit.register(_peak_rss)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run_with_own_peak_rss(args: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[int, str, float]:
    """`python *args` in a process of its own: (exit status, its standard output, its own peak RSS in MB)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _OWN_PEAK_RSS, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, text=True
    )
    output, _ = process.communicate()
    peak = re.search(r"^own peak RSS: ([0-9]+) kB$", output, re.MULTILINE)
    if peak is None:
        raise RuntimeError(f"python {' '.join(args)} printed no peak RSS: {output}")
    return process.returncode, output[: peak.start()] + output[peak.end() + 1 :], int(peak.group(1)) / 1024


def _sweep_process(env: dict[str, str]) -> tuple[float, float, str]:
    """`manage.py sla_sweep` in a process of its own: (seconds, peak RSS in MB, its report line).

    The seconds are the sweep's own, as the command prints them ("  took 3.21 s"): a Celery
    worker pays the process's start-up (imports, settings; 1–3 s here) once, not per sweep.
    The peak RSS is the whole process's own (VmHWM), not inherited from the bench's.
    """
    status, output, rss = run_with_own_peak_rss(["manage.py", "sla_sweep"], cwd=ROOT, env=env)
    if status != 0:
        raise RuntimeError(f"sla_sweep failed: {output}")
    took = re.search(r"^  took ([0-9.]+) s$", output, re.MULTILINE)
    if took is None:
        raise RuntimeError(f"sla_sweep printed no elapsed time: {output}")
    return float(took.group(1)), rss, output.splitlines()[0]


def _sweeps(*, tickets: int, open_tickets: int) -> list[dict]:
    from django.db import connection
    from django.utils import timezone

    from bench import seed
    from escalation.sla.models import SlaRecord
    from escalation.sla.sweep import sla_sweep
    from tickets.models import Ticket

    results = []
    # A production worker's settings: DEBUG off (no per-statement query log).
    env = {**os.environ, "CELERY_BROKER_URL": os.environ["BENCH_BROKER_URL"], "DEBUG": "false"}
    _sweep_process(env)  # whatever the intake scenario made due: a clean start

    # 2,000 P1 tickets left in Tier 1 for five hours: breaches, the whole ladder, automatic escalation
    seed.overdue_tier1(count=CATCH_UP_TICKETS, now=timezone.now())
    seconds, rss, report = _sweep_process(env)
    print(f"  catch-up: {report}")
    results.append(_scenario(f"sweep catch-up: {CATCH_UP_TICKETS} overdue Tier 1 tickets (breach, ladder, "
                             "automatic escalation)", tickets, CATCH_UP_TICKETS / seconds, "tickets/s", 500,
                             higher_is_better=True))  # fmt: skip
    results.append(_scenario("peak RSS: a sweep worker during catch-up", tickets, rss, "MB", 300))

    # 1,000 clocks come due at once among everything open: the clock moves on to the moment the
    # 1,000th next check is due (time-machine), and one sweep does what is due by then. Records are
    # not rewritten: the what-if's no-change replay of a kept database must still match them.
    import time_machine

    now = timezone.now()
    upcoming = SlaRecord.objects.filter(next_check_at__gt=now).order_by("next_check_at")
    at = upcoming.values_list("next_check_at", flat=True)[NEWLY_DUE - 1]
    due = SlaRecord.objects.filter(next_check_at__lte=at).count()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_slarecord")
    with time_machine.travel(at, tick=True):
        started = time.perf_counter()
        report = sla_sweep()
        seconds = time.perf_counter() - started
    open_now = Ticket.objects.filter(resolved_at__isnull=True).count()
    results.append(_scenario(f"sweep: {due} newly due among {open_now} open tickets", tickets, seconds, "s", 1))
    print(f"  newly due (at {at:%H:%M:%S}): {report}")

    timings = []
    for _ in range(10):
        started = time.perf_counter()
        sla_sweep()
        timings.append(time.perf_counter() - started)
    results.append(_scenario("sweep with nothing due (median of 10)", tickets, statistics.median(timings) * 1000,
                             "ms", 10))  # fmt: skip
    del open_tickets
    return results


def _what_if(*, tickets: int) -> list[dict]:
    """The SLA what-if over 90 days (issue 15's scenarios, bench/whatif.py), each timed once in process."""
    from bench import whatif

    return [_scenario(name, tickets, value, unit, budget) for name, value, unit, budget in whatif.scenarios()]


# ---------------------------------------------------------------- results


def _scenario_key(name: str) -> str:
    return re.sub(r"[0-9]+", "#", name)


def _write(results: list[dict], *, tickets: int, minutes: float, partial: bool = False) -> None:
    """latest.json and <tickets>.json; the README's table after a complete run only.

    A partial run (--only) replaces its own scenarios in latest.json by name and keeps the others.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    if partial:
        previous = json.loads((RESULTS / "latest.json").read_text()) if (RESULTS / "latest.json").exists() else {}
        # By name with its figures blanked: "1002 newly due among 85649 open tickets" is the same scenario as "1000 … 87649".
        names = {_scenario_key(row["name"]) for row in results}
        kept = [row for row in previous.get("scenarios", []) if _scenario_key(row["name"]) not in names]
        results = kept + results
    document = {"scenarios": results}
    (RESULTS / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    (RESULTS / f"{tickets}.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = [
        "<!-- bench:latest -->",
        f"Latest run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {tickets} tickets, {os.cpu_count()} shared cores, "
        f"{minutes:.1f} min end to end (`bench/results/latest.json`).",
        "",
        "| scenario | tickets | value | unit | budget | pass |",
        "| --- | ---: | ---: | --- | ---: | --- |",
    ]
    for row in results:
        verdict = {True: "yes", False: "**no**", None: "–"}[row["pass"]]
        budget = "–" if row["budget"] is None else row["budget"]
        lines.append(f"| {row['name']} | {row['tickets']} | {row['value']} | {row['unit']} | {budget} | {verdict} |")
    lines.append("<!-- /bench:latest -->")
    table = "\n".join(lines)
    if partial:
        print(table)
        return
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    pattern = re.compile(r"<!-- bench:latest -->.*?<!-- /bench:latest -->", re.S)
    text = pattern.sub(lambda _m: table, text) if pattern.search(text) else text.rstrip() + "\n\n" + table + "\n"
    README.write_text(text)
    print(table)


if __name__ == "__main__":
    main()
