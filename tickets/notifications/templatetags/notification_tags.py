from django import template

from tickets.notifications.selectors import unread_count_for

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context, oob=False):
    """The navigation bell: unread in-app count (one query), or nothing when signed out."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, "unread": unread_count_for(user), "oob": oob}
