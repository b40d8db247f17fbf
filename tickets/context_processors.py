from . import roles


def workspace(request):
    """Role flags the navigation needs, computed once per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "is_agent": roles.is_agent(user),
        "is_tier2": roles.is_tier2(user),
        "can_view_dashboard": roles.can_view_dashboard(user),
    }
