"""Cross-app HTTP glue: the one exception handler and the health endpoints."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.http import JsonResponse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tickets.errors import ConcurrentUpdate, InvalidInput, InvalidTransition, NotAllowed

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    """Map domain errors to JSON once: 400 field by field, 409 conflict, 403 not allowed."""
    if isinstance(exc, InvalidInput):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (InvalidTransition, ConcurrentUpdate)):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, NotAllowed):
        return Response({"detail": exc.message}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    """200 when the database and the broker answer; 503 naming the one that does not."""
    problems = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        problems["database"] = str(exc)[:200]
    try:
        _check_broker()
    except Exception as exc:
        problems["broker"] = str(exc)[:200]
    if problems:
        return JsonResponse({"status": "unavailable", "failing": sorted(problems), "errors": problems}, status=503)
    return JsonResponse({"status": "ready"})


def _check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        settings.CELERY_BROKER_FOLDER.mkdir(parents=True, exist_ok=True)
        return
    from helpdesk.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
