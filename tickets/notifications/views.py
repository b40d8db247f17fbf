"""Pages: the in-app notification list, preferences, and a team's page with who is on call."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tickets import roles
from tickets.models import Queue
from tickets.redirects import safe_next

from . import delivery, oncall, selectors, services
from .models import NotificationChannel, NotificationKind, OnCallOverride, channel_default, is_on_call_page


@login_required
def notification_list(request):
    page = Paginator(selectors.notification_list_for(request.user), 50).get_page(request.GET.get("page"))
    page.object_list = selectors.mark_restricted(request.user, page.object_list)
    for n in page:
        n.ticket_link = delivery.notification_path(n)
    context = {"page_obj": page}
    if request.htmx:
        return render(request, "notifications/_list.html", context)
    return render(request, "notifications/list.html", context)


@login_required
@require_POST
def notification_read(request, pk: int):
    services.notification_mark_read(notification_id=pk, acting_user=request.user)
    if request.htmx:
        n = selectors.notification_list_for(request.user).filter(pk=pk).first()
        if n is None:
            raise Http404("No such notification.")
        selectors.mark_restricted(request.user, [n])
        n.ticket_link = delivery.notification_path(n)
        # The row, plus the bell swapped out-of-band so its count follows.
        row = render_to_string("notifications/_row.html", {"n": n}, request=request)
        bell = render_to_string("notifications/_bell_oob.html", {}, request=request)
        return HttpResponse(row + bell)
    # `next` comes from the form; anything off this site (https://evil.example/…, //evil…) goes to the list.
    return redirect(safe_next(request, reverse("notification-list")))


@login_required
@require_POST
def notification_read_all(request):
    services.notification_mark_all_read(acting_user=request.user)
    return redirect("notification-list")


@login_required
def notification_preferences(request):
    if request.method == "POST":
        choices = {
            (kind, channel): f"{kind}:{channel}" in request.POST
            for kind in NotificationKind.values
            for channel in (NotificationChannel.IN_APP, NotificationChannel.EMAIL)
        }
        services.preferences_set(acting_user=request.user, choices=choices)
        return redirect("notification-preferences")
    stored = selectors.preferences_for(request.user)
    rows = [
        {
            "kind": kind,
            "label": label,
            "fixed": is_on_call_page(kind),
            **{
                channel: channel_default(channel=channel, kind=kind)
                if is_on_call_page(kind)
                else stored.get((kind, channel), channel_default(channel=channel, kind=kind))
                for channel in (NotificationChannel.IN_APP, NotificationChannel.EMAIL)
            },
        }
        for kind, label in NotificationKind.choices
    ]
    return render(request, "notifications/preferences.html", {"rows": rows})


@login_required
def team_detail(request, slug: str):
    if not roles.is_agent(request.user):
        raise PermissionDenied("Team pages are for support staff.")
    try:
        team = selectors.team_get(slug)
    except Queue.DoesNotExist:
        raise Http404("No such team.") from None
    now = timezone.now()
    rotation = selectors.rotation_for(team)
    override = None
    shifts, overrides = [], []
    if rotation is not None:
        override = OnCallOverride.objects.filter(rotation=rotation, starts_at__lte=now, ends_at__gt=now).first()
        shifts = oncall.upcoming_shifts(rotation, at=now)
        overrides = rotation.overrides.filter(ends_at__gt=now).select_related("user")
    context = {
        "team": team,
        "members": list(team.members.filter(is_active=True)),
        "on_call": oncall.on_call_for(queue=team, at=now),
        "override": override,
        "rotation": rotation,
        "shifts": shifts,
        "overrides": overrides,
    }
    return render(request, "notifications/team_detail.html", context)
