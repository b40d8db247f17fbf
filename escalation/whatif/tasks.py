"""Celery task of the what-if: thin, it calls one service."""

from celery import shared_task

from .services import whatif_run_execute


@shared_task(name="escalation.whatif.tasks.whatif_run_task", ignore_result=True)
def whatif_run_task(run_id: str) -> None:
    whatif_run_execute(run_id=run_id)
