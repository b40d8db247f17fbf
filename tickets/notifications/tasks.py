"""Delivery of outbox rows. Thin tasks; the work lives in delivery.py."""

import logging

from celery import shared_task

from . import delivery

logger = logging.getLogger(__name__)


def enqueue_pending_deliveries() -> None:
    """Ask a worker to deliver now; if the broker is down the periodic sweep will."""
    try:
        notifications_deliver_task.apply_async(retry=False)
    except Exception as exc:  # broker unreachable: the rows are safe in the database
        logger.warning("Broker unavailable (%s); notifications stay queued for the redelivery sweep", exc)


@shared_task
def notifications_deliver_task() -> int:
    return delivery.deliver_due()


@shared_task
def notifications_redeliver_task() -> int:
    return delivery.deliver_due()
