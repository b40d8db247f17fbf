"""The load side of `make bench`: gunicorn serving the app, an httpx/asyncio client measuring it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(*, env: dict[str, str], workers: int = 2):
    """Serve the app with gunicorn (production settings and gunicorn.conf.py) on a free port; yields (base URL, master pid)."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "helpdesk.wsgi:application",
            "--config=gunicorn.conf.py",  # production's worker class and threads (the Dockerfile's)
            f"--workers={workers}",
            f"--bind=127.0.0.1:{port}",
            "--timeout=120",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.3)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def worker_peak_rss_mb(master_pid: int) -> float:
    """The largest peak RSS (VmHWM) among gunicorn's worker processes."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    peaks = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks, default=0.0)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed_gets(url: str, *, headers: dict[str, str], count: int, warmup: int = 3) -> list[float]:
    """Sequential GETs (one user waiting for each page): seconds per request, after a warm-up."""
    timings = []
    with httpx.Client(headers=headers, timeout=60) as client:
        for index in range(warmup + count):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
            if index >= warmup:
                timings.append(elapsed)
    return timings


def intake(base: str, *, token: str, bodies: list[dict], clients: int = 8) -> tuple[float, int]:
    """`clients` concurrent integrators POSTing tickets; returns (tickets per second, failures)."""

    async def run() -> tuple[float, int]:
        queue: asyncio.Queue[dict] = asyncio.Queue()
        for body in bodies:
            queue.put_nowait(body)
        failures = 0
        headers = {"Authorization": f"Token {token}"}
        limits = httpx.Limits(max_connections=clients)

        async def client_loop(client: httpx.AsyncClient) -> None:
            nonlocal failures
            while not queue.empty():
                body = queue.get_nowait()
                response = await client.post(f"{base}/api/v1/tickets/", json=body)
                if response.status_code != 201:
                    failures += 1

        async with httpx.AsyncClient(headers=headers, timeout=120, limits=limits) as client:
            started = time.perf_counter()
            await asyncio.gather(*(client_loop(client) for _ in range(clients)))
            elapsed = time.perf_counter() - started
        return (len(bodies) - failures) / elapsed, failures

    return asyncio.run(run())


def server_env(database_url: str) -> dict[str, str]:
    """Production-like settings for the served app (DEBUG off), against the bench database."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=env["BENCH_BROKER_URL"],
        DEBUG="false",
        SECRET_KEY=env["SECRET_KEY"],
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        DATABASE_CONN_MAX_AGE="60",
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    return env
