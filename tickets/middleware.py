import zoneinfo

from django.utils import timezone

from . import configcache


class ConfigOperationMiddleware:
    """One request is one configuration operation: the configuration stamp is read at most once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with configcache.operation():
            return self.get_response(request)


class UserTimezoneMiddleware:
    """Render times in the viewer's time zone (their own, else their site's)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.display_time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class RejectNullCharactersMiddleware:
    """Refuse a query string carrying NUL characters, field by field, before any view reads it.

    PostgreSQL cannot compare or store NUL, so a `?search=%00` that reached a queryset was a 500.
    Form and serializer fields already refuse NUL in bodies; this covers the query parameters that
    views read directly (search boxes, slugs, filters).
    """

    message = "Null characters are not allowed."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        errors = {
            name: [self.message]
            for name, values in request.GET.lists()
            if "\x00" in name or any("\x00" in value for value in values)
        }
        if errors:
            from django.http import JsonResponse

            if request.path.startswith("/api/"):
                return JsonResponse(errors, status=400)
            from django.http import HttpResponseBadRequest

            return HttpResponseBadRequest(
                "Bad request: " + "; ".join(f"{name or '?'}: {self.message}" for name in errors)
            )
        return self.get_response(request)


class ApiNotFoundAsJsonMiddleware:
    """An unknown /api/ path answers JSON 404 in every mode.

    In production handler404 already does this; with DEBUG on Django answers its HTML technical
    page instead, which API clients (and the permission-matrix test) cannot read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from django.http import JsonResponse

            return JsonResponse({"detail": "Not found."}, status=404)
        return response
