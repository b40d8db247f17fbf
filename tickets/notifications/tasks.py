"""Delivery and mail fetching. Thin tasks: take ids, call one function, own retry policy."""

import logging

from celery import shared_task

from . import delivery, inbound

logger = logging.getLogger(__name__)


@shared_task
def notifications_deliver_task(notification_id: int) -> str | None:
    """Deliver one outbox row (kept for messages published before deliveries went by chunks)."""
    return delivery.delivery_attempt(notification_id)


@shared_task
def notifications_deliver_many_task(notification_ids: list[int]) -> dict:
    """Deliver a chunk of outbox rows (published on commit: one message per chunk, not per row)."""
    return delivery.deliver_many(notification_ids)


@shared_task
def notifications_redeliver_task() -> dict:
    """The periodic sweep: one bounded batch; a full batch re-enqueues the next one."""
    counts = delivery.deliver_due(batch_size=delivery.BATCH_SIZE)
    if counts["claimed"] == delivery.BATCH_SIZE:
        # Another batch now (best effort: beat runs one every minute anyway).
        try:
            notifications_redeliver_task.apply_async(retry=False)
        except Exception as exc:  # broker unreachable: the rows are safe in the database
            logger.warning("Broker unavailable (%s); the next scheduled sweep continues", exc)
    return counts


@shared_task
def inbound_fetch_mail_task() -> dict:
    return inbound.fetch_mail(inbound.source_from_settings())
