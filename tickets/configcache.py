"""Configuration read once per process, re-read after any process changes it.

Intake and the sweep read the same small configuration (priority matrix, routing
rules, SLA policies, calendars, ladders, trigger rules) for every ticket. Each
loader's result is kept per process under the current configuration stamp: one
row (ConfigStamp) that every change to a watched model rewrites with a new random
token, in the same transaction as the change. A reader compares the stamp (one
primary-key read, once per `operation()`) and reloads when it moved, so a change
made through the admin in one process is seen by every web and worker process
at its next operation. A random token, not a counter, so a rolled-back change
can never leave a stale entry looking current.

Writes that bypass model signals (QuerySet.update, bulk_create) must call changed().
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")

_OUTSIDE = object()
# Inside operation(): the stamp read for it (None until the first read).
_pinned: contextvars.ContextVar[object] = contextvars.ContextVar("config_stamp", default=_OUTSIDE)
_entries: dict[str, tuple[str, object]] = {}
_lock = threading.Lock()


def _read_stamp() -> str:
    from django.db import connection

    from .models import ConfigStamp

    # Every request makes this read: as plain SQL it costs the round trip only (the ORM's
    # `filter(pk=1).values_list(…).first()` cost more in building the statement than PostgreSQL
    # took to answer it). Spelled from the model's metadata, so a rename follows.
    meta, quote = ConfigStamp._meta, connection.ops.quote_name
    token, table, pk = meta.get_field("token").column, meta.db_table, meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(token)} FROM {quote(table)} WHERE {quote(pk)} = 1")
        row = cursor.fetchone()
    return row[0] if row else ""


def _stamp() -> str:
    pinned = _pinned.get()
    if pinned is _OUTSIDE:
        return _read_stamp()
    if pinned is None:
        pinned = _read_stamp()
        _pinned.set(pinned)
    return pinned  # type: ignore[return-value]


def cached(name: str, loader: Callable[[], T]) -> T:
    """The loader's result under the current configuration stamp (loaded at most once per change)."""
    stamp = _stamp()
    entry = _entries.get(name)
    if entry is not None and entry[0] == stamp:
        return entry[1]  # type: ignore[return-value]
    value = loader()
    with _lock:
        _entries[name] = (stamp, value)
    return value


@contextmanager
def operation() -> Iterator[None]:
    """Read the stamp once for everything inside (one request, one intake, one sweep batch).

    Nested operations share the outer one's stamp.
    """
    if _pinned.get() is not _OUTSIDE:
        yield
        return
    token = _pinned.set(None)
    try:
        yield
    finally:
        _pinned.reset(token)


def in_operation() -> bool:
    """Inside operation(): the stamp is read at most once for everything in it."""
    return _pinned.get() is not _OUTSIDE


def changed(**_ignored) -> None:
    """Configuration changed: give it a new stamp (other processes reload) and drop ours."""
    from .models import ConfigStamp

    with _lock:
        _entries.clear()
    if _pinned.get() is not _OUTSIDE:
        _pinned.set(None)
    ConfigStamp.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})


def watch(*models) -> None:
    """Every save or delete of these models (and their many-to-many links) changes the stamp."""
    for model in models:
        uid = f"configcache.{model._meta.label}"
        post_save.connect(changed, sender=model, dispatch_uid=f"{uid}.save", weak=False)
        post_delete.connect(changed, sender=model, dispatch_uid=f"{uid}.delete", weak=False)
        for m2m in model._meta.many_to_many:
            watch_links(m2m.remote_field.through)


def watch_links(*through_models) -> None:
    """Every add, remove or clear of these many-to-many links, from either side, changes the stamp
    (and no save of the models they link: a user's sign-in saves the user, not their groups)."""
    for through in through_models:
        uid = f"configcache.{through._meta.label}"
        m2m_changed.connect(_links_changed, sender=through, dispatch_uid=f"{uid}.links", weak=False)


def _links_changed(*, action: str, **_ignored) -> None:
    if action.startswith("post_"):  # once per change (not also for its pre_add, pre_remove, pre_clear)
        changed()
