"""A sweep worker process for the crash test (tests/sla/test_sweep_crash.py); not a test module.

Runs the real sweep in small batches against the database in DATABASE_URL. Inside its
second batch, after the batch's rows are written and before it commits, it writes
its PostgreSQL backend pid to the marker file and stops there, to be killed.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from escalation.sla import sweep  # noqa: E402

marker = Path(sys.argv[1])
batch_size = int(sys.argv[2])
real_notify_many = sweep.notify_many
calls = 0


def notify_then_hang(notices, **options):
    global calls
    real_notify_many(notices, **options)
    calls += 1
    if calls == 2:  # the second batch: everything written, nothing committed
        marker.write_text(str(connection.connection.info.backend_pid))
        time.sleep(600)


sweep.notify_many = notify_then_hang
sweep.sla_sweep(batch_size=batch_size)
