"""Page access by role, for every app's views (the API's counterpart is tickets.apis.require_agent)."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from . import roles


def role_required(check: Callable, message: str):
    """Signed in (else the login page) and passing `check` (else 403 with `message`)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


agent_required = role_required(roles.is_agent, "Only support agents can open this page.")
tier2_required = role_required(roles.is_tier2, "Only Tier 2 engineers can open this page.")
