"""Celery tasks of the SLA engine: thin, they call one service."""

from celery import shared_task

from .sweep import sla_sweep


@shared_task(name="escalation.sla.tasks.sla_sweep_task", ignore_result=True)
def sla_sweep_task() -> str:
    return str(sla_sweep())
