"""Celery tasks of the SLA engine: thin, they call one service."""

from celery import shared_task

from .sweep import sla_sweep_bounded

# A copy still queued after this long is dropped: beat sends a fresh one every minute.
SWEEP_TASK_EXPIRES = 55


@shared_task(name="escalation.sla.tasks.sla_sweep_task", ignore_result=True)
def sla_sweep_task() -> str:
    """One bounded sweep; while work remains it enqueues the next one (never piling up copies)."""
    report = sla_sweep_bounded()
    if report is None:
        return "another sweep holds the lease"
    if report.more_due:
        sla_sweep_task.apply_async(expires=SWEEP_TASK_EXPIRES)
    return str(report)
