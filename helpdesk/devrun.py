"""`make run`: the web server, a Celery worker and Celery beat, stopped together by one Ctrl-C.

The shell recipe this replaces (`trap 'kill 0' INT TERM EXIT; a & b & c & wait`) did not stop
cleanly: Ctrl-C sent SIGINT to every process of the terminal's group at once, then `kill 0` sent
SIGTERM to that same group, make and the trapping shell included, and the shell's TERM trap fired
again for its own signal. Each Celery process got a burst of signals (a second one means "cold
shutdown" to the worker, and re-enters beat's sync-and-exit handler while it is closing its
schedule file), make exited first and gave the prompt back while they were still running, and
runserver, started as a background job of a non-interactive shell, ignored SIGINT altogether.

Here each child runs in its own session, so the terminal's Ctrl-C reaches only this supervisor,
which sends each child exactly one SIGTERM, waits for them, and SIGKILLs (and names) any that is
still there after the grace period. It exits when all three are gone, or as soon as one dies.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

GRACE_SECONDS = 15


def commands(python: str, port: int, schedule: str) -> dict[str, list[str]]:
    return {
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "helpdesk",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--pool=threads",
        ],
        "beat": [python, "-m", "celery", "-A", "helpdesk", "beat", "--loglevel=INFO", f"--schedule={schedule}"],
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
    }


def stop(children: dict[str, subprocess.Popen], grace: float = GRACE_SECONDS) -> list[str]:
    """One SIGTERM each, then wait; returns the names that had to be killed."""
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    killed = []
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            killed.append(name)
            child.kill()
            child.wait()
    return killed


def supervise(cmds: dict[str, list[str]], grace: float = GRACE_SECONDS) -> int:
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGHUP, request_stop)
    # Default signal dispositions in the children (SIGINT not ignored), each in its own session.
    children = {name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in cmds.items()}
    print("make run: " + ", ".join(f"{name} pid {child.pid}" for name, child in children.items()), flush=True)
    exited = ""
    while not stopping:
        exited = next((name for name, child in children.items() if child.poll() is not None), "")
        if exited:
            print(f"make run: {exited} exited ({children[exited].returncode}); stopping the others.", flush=True)
            break
        time.sleep(0.2)
    print("make run: stopping web, worker and beat…", flush=True)
    killed = stop(children, grace)
    if killed:
        print(f"make run: {', '.join(killed)} ignored SIGTERM for {grace:.0f} s and was killed.", flush=True)
    print("make run: stopped.", flush=True)
    return 1 if exited or killed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--schedule", default="var/celerybeat-schedule")
    args = parser.parse_args()
    return supervise(commands(sys.executable, args.port, args.schedule))


if __name__ == "__main__":
    sys.exit(main())
