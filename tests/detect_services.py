"""Print shell exports pointing the suite at PostgreSQL and Redis when they answer.

`make test` evals this. When a service is down it says so loudly on stderr,
and the tests that need it are skipped with a reason (never silently passed).
"""

import os
import socket
import sys


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def main() -> None:
    exports = {}
    if os.environ.get("DATABASE_URL"):
        exports["DATABASE_URL"] = os.environ["DATABASE_URL"]
    elif reachable("127.0.0.1", 5432):
        exports["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/handoff")
    else:
        print("!!! PostgreSQL is not reachable on 127.0.0.1:5432: the suite runs on SQLite", file=sys.stderr)
        print("!!! and SKIPS the tests marked 'postgres' (locks, concurrency, percentiles).", file=sys.stderr)
    if os.environ.get("REDIS_URL"):
        exports["REDIS_URL"] = os.environ["REDIS_URL"]
    elif reachable("127.0.0.1", 6379):
        exports["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    else:
        print("!!! Redis is not reachable on 127.0.0.1:6379: tests marked 'redis' are SKIPPED.", file=sys.stderr)
    for name, value in exports.items():
        print(f"export {name}='{value}'")


if __name__ == "__main__":
    main()
