"""`make run` stops on one Ctrl-C: web, worker and beat all exit, none needs SIGKILL.

Runs the real supervisor (helpdesk/devrun.py) with the real commands, in its own process group
standing in for the terminal's foreground group, and sends SIGINT to that group as Ctrl-C does.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(log: Path, *needles: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if all(needle in text for needle in needles):
            return text
        time.sleep(0.5)
    raise AssertionError(f"never saw {needles} in:\n{log.read_text(errors='replace')[-3000:]}")


def test_one_ctrl_c_stops_web_worker_and_beat(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_FOLDER": str(tmp_path / "broker"),  # the file-system broker, as `make run` uses
    }
    log = tmp_path / "run.log"
    with log.open("w") as out:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "helpdesk.devrun", "--port", str(free_port()), "--schedule", str(tmp_path / "beat")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the "terminal" whose Ctrl-C we press
        )
    try:
        text = wait_for(log, "beat: Starting...", "ready.", "Quit the server with", timeout=120)
        pids = [int(pid) for pid in re.search(r"worker pid (\d+), beat pid (\d+), web pid (\d+)", text).groups()]
        os.killpg(supervisor.pid, signal.SIGINT)
        assert supervisor.wait(timeout=40) == 0
        text = log.read_text(errors="replace")
        assert "make run: stopped." in text
        assert "was killed" not in text
        assert "Cold shutdown" not in text  # one signal each: the worker finished its tasks
        assert not [pid for pid in pids if alive(pid)]
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
