"""The permission matrix, generated from the URL conf: every page and API endpoint × every role × every
kind of ticket. Nothing answers 500; a ticket (or file) someone may not see is 404/403 whatever the
method; no answer to anyone carries the title of a ticket they may not see; no answer to a requester
carries an internal note or the name of an internal file.

The endpoints are not listed by hand: `get_resolver()` is walked, and each pattern must have an entry
in ROUTES saying how to fill its parameters. A new URL pattern without one fails
`test_every_url_pattern_is_in_the_matrix`, so it is covered the day it is added.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import get_resolver
from django.urls.resolvers import URLPattern, URLResolver

from escalation.models import EscalationPath
from escalation.sla.models import Calendar, SlaPolicy
from escalation.whatif.models import WhatIfRun
from tests.factories import UserFactory, make_article, make_playbook, make_ticket
from tickets import roles, selectors, services
from tickets.models import Ticket
from tickets.notifications.models import Notification, NotificationChannel

pytestmark = pytest.mark.django_db

# How a pattern's parameters are filled, keyed by its route as get_resolver() spells it.
TICKET = "ticket"  # {pk | ticket_id}: one request per kind of ticket below
ATTACHMENT = "attachment"  # pk of a file on each kind of ticket (the internal file on "internal file")
STEP = "step"  # ticket_id + step_id of the ticket's playbook step
NONE = "none"  # no parameters
NO_POST = "no-post"  # no parameters, and POSTing would end the session (logout)
FIXED = "fixed"  # one object everyone may ask about (catalogue data); filled from FIXED_KWARGS

ROUTES = {
    "healthz": NONE,
    "readyz": NONE,
    "api/v1/auth/token/": NONE,
    "api/v1/auth/logout/": NONE,
    "api/v1/search/": NONE,
    "api/v1/^tickets/$": NONE,
    "api/v1/^tickets/(?P<pk>[0-9]+)/$": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/assign/$": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/attachments/$": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/comments/$": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/links/$": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/merge/$": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/pending/$": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/reopen/$": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/resolve/$": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/timeline/$": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/transfer/$": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/watchers/$": TICKET,
    "api/v1/^categories/$": NONE,
    "api/v1/^categories/(?P<slug>[^/.]+)/$": FIXED,
    "api/v1/^queues/$": NONE,
    "api/v1/^queues/(?P<slug>[^/.]+)/$": FIXED,
    "api/v1/tickets/<int:pk>/escalate/": TICKET,
    "api/v1/tickets/<int:pk>/accept/": TICKET,
    "api/v1/tickets/<int:pk>/return/": TICKET,
    "api/v1/tickets/<int:pk>/rate/": TICKET,
    "api/v1/tickets/<int:pk>/escalations/": TICKET,
    "api/v1/tickets/<int:pk>/handoff/": TICKET,
    "api/v1/^tickets/(?P<pk>[0-9]+)/lift-restriction/$": TICKET,
    "api/v1/triggers/": NONE,
    "api/v1/tier2-queue/": NONE,
    "api/v1/^escalation-paths/$": NONE,
    "api/v1/^escalation-paths/(?P<pk>[^/.]+)/$": FIXED,
    "api/v1/^checklist-items/$": NONE,
    "api/v1/metrics/sla/": NONE,
    "api/v1/metrics/sla/what-if/": NONE,
    "api/v1/metrics/sla/what-if/runs/<uuid:pk>/": FIXED,
    "api/v1/tickets/<int:ticket_id>/sla/": TICKET,
    "api/v1/^sla-policies/$": NONE,
    "api/v1/^sla-policies/(?P<pk>[^/.]+)/$": FIXED,
    "api/v1/tickets/<int:ticket_id>/playbook-steps/": TICKET,
    "api/v1/^articles/$": NONE,
    "api/v1/^articles/suggest/$": NONE,
    "api/v1/^articles/(?P<pk>[^/.]+)/$": FIXED,
    "api/v1/^articles/(?P<pk>[^/.]+)/vote/$": FIXED,
    "api/v1/^playbooks/$": NONE,
    "api/v1/^playbooks/(?P<pk>[^/.]+)/$": FIXED,
    "api/schema/": NONE,
    "api/docs/": NONE,
    "admin/": NONE,  # the admin site as a whole: staff only, checked at its index
    "login/": NONE,
    "logout/": NO_POST,
    "": NONE,
    "desk/": NONE,
    "desk/log-call/": NONE,
    "desk/lookup/requesters/": NONE,
    "desk/lookup/priority/": NONE,
    "search/": NONE,
    "tier2/": NONE,
    "tickets/<int:pk>/": TICKET,
    "tickets/<int:pk>/comment/": TICKET,
    "tickets/<int:pk>/assign/": TICKET,
    "tickets/<int:pk>/pending/": TICKET,
    "tickets/<int:pk>/resume/": TICKET,
    "tickets/<int:pk>/resolve/": TICKET,
    "tickets/<int:pk>/reopen/": TICKET,
    "tickets/<int:pk>/priority/": TICKET,
    "tickets/<int:pk>/assign-to/": TICKET,
    "tickets/<int:pk>/transfer/": TICKET,
    "tickets/<int:pk>/category/": TICKET,
    "tickets/<int:pk>/watchers/": TICKET,
    "tickets/<int:pk>/link/": TICKET,
    "tickets/<int:pk>/merge/": TICKET,
    "tickets/<int:pk>/receipt/": TICKET,
    "tickets/<int:pk>/unrestrict/": TICKET,
    "attachments/<int:pk>/": ATTACHMENT,
    "portal/": NONE,
    "portal/new/": NONE,
    "tickets/<int:ticket_id>/escalate/": TICKET,
    "tickets/<int:ticket_id>/accept/": TICKET,
    "tickets/<int:ticket_id>/return/": TICKET,
    "tickets/<int:ticket_id>/rate/": TICKET,
    "tickets/<int:ticket_id>/handoff/": TICKET,
    "escalations/queue/": NONE,
    "dashboard/": NONE,
    "dashboard/tickets/": NONE,
    "dashboard/at-risk/": NONE,
    "dashboard/what-if/": NONE,
    "kb/": NONE,
    "kb/suggest/": NONE,
    "kb/articles/new/": NONE,
    "kb/articles/<int:pk>/": FIXED,
    "kb/articles/<int:pk>/edit/": FIXED,
    "kb/articles/<int:pk>/history/": FIXED,
    "kb/articles/<int:pk>/vote/": FIXED,
    "kb/playbooks/": NONE,
    "kb/playbooks/<int:pk>/": FIXED,
    "kb/from-ticket/<int:ticket_id>/": TICKET,
    "kb/tickets/<int:ticket_id>/playbook/": TICKET,
    "kb/tickets/<int:ticket_id>/playbook/steps/<int:step_id>/": STEP,
    "notifications/": NONE,
    "notifications/<int:pk>/read/": FIXED,
    "notifications/read-all/": NONE,
    "notifications/preferences/": NONE,
    "notifications/teams/<slug:slug>/": FIXED,
}

ROLES = [
    "anonymous",
    "requester",
    "other requester",
    "tier1",  # cleared: may see restricted tickets
    "tier1 without clearance",
    "tier2 engineer",
    "security engineer",
    "manager",
    "admin",
]
KINDS = ["own ticket", "someone else's", "restricted", "with an internal note", "with an internal file"]
# Unique words that must never reach someone who may not see what carries them.
TITLE_MARK = {kind: f"zq{index}mark" for index, kind in enumerate(KINDS)}
NOTE_MARK = "zqinternalnotemark"
FILE_MARK = "zqinternalfilemark"


def routes() -> list[tuple[str, URLPattern]]:
    """(route, pattern) for every URL pattern, the admin site counted once."""
    found = []

    def walk(resolver, prefix):
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    found.append((route, None))
                else:
                    walk(entry, route)
            else:
                found.append((route, entry))

    walk(get_resolver(), "")
    return found


def test_every_url_pattern_is_in_the_matrix():
    unknown = [route for route, _ in routes() if route not in ROUTES]
    assert not unknown, (
        f"URL patterns the permission matrix does not know how to fill; add them to ROUTES in {__file__}: {unknown}"
    )
    gone = sorted(set(ROUTES) - {route for route, _ in routes()})
    assert not gone, f"ROUTES lists patterns that no longer exist: {gone}"


def sees(role: str, kind: str) -> bool:
    if role == "anonymous" or role == "other requester":
        return False
    if role == "requester":
        return kind in {"own ticket", "with an internal note", "with an internal file"}
    return kind != "restricted" or role in {"tier1", "security engineer", "admin"}


def sees_file(role: str, kind: str) -> bool:
    if kind == "with an internal file":
        return sees(role, kind) and role != "requester"
    return sees(role, kind)


def is_agent(role: str) -> bool:
    return role not in {"anonymous", "requester", "other requester"}


@dataclass
class World:
    clients: dict
    tickets: dict
    files: dict
    steps: dict
    fixed: dict
    missing: dict  # (role, method, route) → status for an id that does not exist


def _upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"log line 1\nlog line 2\n", content_type="text/plain")


@pytest.fixture
def world(site, service_desk, identity_team, security_team, category, security_category, requester, other_requester):
    calendar = Calendar.objects.create(name="24x7", time_zone="UTC", is_24x7=True)
    policy = SlaPolicy.objects.create(
        name="Standard", is_default=True, calendar=calendar, first_response_minutes=60, resolution_minutes=480
    )
    third = UserFactory(username="requester3", site=site, role=roles.REQUESTER)
    users = {
        "requester": requester,
        "other requester": other_requester,
        "tier1": UserFactory(username="t1cleared", site=site, role=roles.TIER1_AGENT),
        "tier1 without clearance": UserFactory(username="t1plain", site=site, role=roles.TIER1_AGENT),
        "tier2 engineer": UserFactory(username="t2eng", site=site, role=roles.TIER2_ENGINEER),
        "security engineer": UserFactory(username="secops", site=site, role=roles.SECURITY_ENGINEER),
        "manager": UserFactory(username="boss", site=site, role=roles.MANAGER),
        "admin": UserFactory(username="root", site=site, role=roles.ADMIN, is_staff=True, is_superuser=True),
    }
    users["tier1"].user_permissions.add(Permission.objects.get(codename="view_restricted_ticket"))
    service_desk.members.add(users["tier1"], users["tier1 without clearance"])
    identity_team.members.add(users["tier2 engineer"])
    security_team.members.add(users["security engineer"])
    agent = users["tier1"]
    EscalationPath.objects.create(name="Access", category=category, trigger="complexity_limit", to_queue=identity_team)

    # "other requester" owns none of these: every ticket here is someone else's to them.
    owners = {"own ticket": requester, "someone else's": third, "restricted": third}
    tickets = {}
    for kind in KINDS:
        owner = owners.get(kind, requester)
        cat = security_category if kind == "restricted" else category
        ticket = make_ticket(requester=owner, category=cat, acting_user=agent, title=f"Printer {TITLE_MARK[kind]}")
        if kind == "restricted" and not ticket.is_restricted:
            type(ticket).objects.filter(pk=ticket.pk).update(is_restricted=True)
        tickets[kind] = ticket
    files = {}
    for kind, ticket in tickets.items():
        files[kind] = services.attachment_add(ticket_id=ticket.pk, upload=_upload("screenshot.txt"), acting_user=agent)
    note_ticket, file_ticket = tickets["with an internal note"], tickets["with an internal file"]
    services.ticket_comment_add(
        ticket_id=note_ticket.pk, body=f"Password is {NOTE_MARK}", public=False, acting_user=agent
    )
    files["with an internal file"] = services.attachment_add(
        ticket_id=file_ticket.pk, upload=_upload(f"{FILE_MARK}.txt"), acting_user=agent, public=False
    )

    playbook = make_playbook(category=category, steps=[("Check the account", "It is enabled")])
    step = playbook.steps.first()
    article = make_article(author=agent, category=category, public=True)
    notification = Notification.objects.create(
        recipient=agent, channel=NotificationChannel.IN_APP, kind="assigned", subject="For t1cleared only"
    )
    fixed = {
        "slug": {"categories": category.slug, "queues": service_desk.slug, "teams": identity_team.slug},
        "pk": {
            "escalation-paths": EscalationPath.objects.get().pk,
            "sla-policies": policy.pk,
            "articles": article.pk,
            "playbooks": playbook.pk,
            "notifications": notification.pk,
            "what-if/runs": WhatIfRun.objects.create(requested_by=users["manager"], params={}).pk,
        },
    }
    clients = {"anonymous": Client(raise_request_exception=False)}
    for role, user in users.items():
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(user)
    return World(
        clients=clients, tickets=tickets, files=files, steps=dict.fromkeys(KINDS, step), fixed=fixed, missing={}
    )


def fixed_kwargs(route: str, pattern: URLPattern, world: World) -> dict:
    kwargs = {}
    for name in pattern.pattern.regex.groupindex:
        by_area = world.fixed[name]
        area = next(area for area in by_area if area in route)
        kwargs[name] = by_area[area]
    return kwargs


def requests_for(route, pattern, world):
    """(kwargs, kind or None) for each request the route gets."""
    how = ROUTES[route]
    if how in {NONE, NO_POST}:
        return [({}, None)]
    if how == FIXED:
        return [(fixed_kwargs(route, pattern, world), None)]
    param = "ticket_id" if "ticket_id" in pattern.pattern.regex.groupindex else "pk"
    if how == TICKET:
        return [({param: world.tickets[kind].pk}, kind) for kind in KINDS]
    if how == ATTACHMENT:
        return [({"pk": world.files[kind].pk}, kind) for kind in KINDS]
    if how == STEP:
        return [({"ticket_id": world.tickets[kind].pk, "step_id": world.steps[kind].pk}, kind) for kind in KINDS]
    raise AssertionError(f"{route}: unknown filler {how}")


def url_for(route: str, pattern: URLPattern | None, kwargs: dict) -> str:
    if pattern is None:
        return "/" + route
    path = route.replace("api/v1/^", "api/v1/").replace("$", "")
    for name, value in kwargs.items():
        for spelling in (
            f"<int:{name}>",
            f"<slug:{name}>",
            f"<uuid:{name}>",
            f"(?P<{name}>[0-9]+)",
            f"(?P<{name}>[^/.]+)",
        ):
            path = path.replace(spelling, str(value))
    return "/" + path


def forbidden_marks(role: str) -> list[str]:
    marks = [TITLE_MARK[kind] for kind in KINDS if not sees(role, kind)]
    if not is_agent(role):
        marks += [NOTE_MARK, FILE_MARK]
    return marks


def call(client, method: str, url: str):
    """One request whose writes are rolled back, so every cell of the matrix starts from the same data."""
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        elif url.startswith("/api/"):
            response = client.post(url, {}, content_type="application/json")
        else:
            response = client.post(url, {})
        transaction.set_rollback(True)
    return response


MISSING_ID = 987654321


def refused(world, role, method, route, pattern, kwargs, response) -> bool:
    """404/403 (anonymous: 401 or the login page); or an answer that does not depend on the object at all
    (wrong method, unparsable body): the same as for an id that does not exist, and so revealing nothing."""
    status = response.status_code
    if status in {403, 404} or (role == "anonymous" and status == 401):
        return True
    if role == "anonymous" and status == 302 and "/login/" in response.get("Location", ""):
        return True
    if status in {400, 405, 415}:
        key = (role, method, route)
        if key not in world.missing:
            missing = dict.fromkeys(kwargs, MISSING_ID)
            world.missing[key] = call(world.clients[role], method, url_for(route, pattern, missing)).status_code
        return world.missing[key] == status
    return False


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def run_matrix(world, only: set[str] | None = None) -> tuple[list[str], int]:
    problems = []
    checked = 0
    for route, pattern in routes():
        if only is not None and route not in only:
            continue
        for kwargs, kind in requests_for(route, pattern, world) if pattern else [({}, None)]:
            url = url_for(route, pattern, kwargs)
            for role in ROLES:
                hidden = kind is not None and not (sees_file if ROUTES[route] == ATTACHMENT else sees)(role, kind)
                methods = ["GET"]
                # A write is tried where it must be refused: on what this role may not see.
                if hidden and ROUTES.get(route) != NO_POST:
                    methods.append("POST")
                for method in methods:
                    response = call(world.clients[role], method, url)
                    checked += 1
                    cell = f"{method} {url} as {role}" + (f" ({kind})" if kind else "")
                    status = response.status_code
                    if status >= 500:
                        problems.append(f"{cell}: {status}")
                        continue
                    if hidden and not refused(world, role, method, route, pattern, kwargs, response):
                        problems.append(f"{cell}: {status}, expected 404 or 403")
                    if status == 200 and method == "GET":
                        text = body_of(response)
                        leaked = [mark for mark in forbidden_marks(role) if mark in text]
                        if leaked:
                            problems.append(f"{cell}: shows {leaked}")
    return problems, checked


def test_the_matrix(world):
    problems, checked = run_matrix(world)
    assert not problems, f"{len(problems)} problems in {checked} requests:\n" + "\n".join(problems)
    assert checked > 2000


def test_the_matrix_catches_an_internal_note_shown_to_the_requester(world, monkeypatch):
    """The matrix can fail: with the requester's comment filter gone, the ticket page leaks the note."""
    monkeypatch.setattr(selectors, "comment_list_for", lambda user, ticket: ticket.comments.all())
    problems, _ = run_matrix(world, only={"tickets/<int:pk>/"})
    assert any(f"as requester (with an internal note): shows ['{NOTE_MARK}']" in p for p in problems), problems


def test_the_matrix_catches_a_ticket_open_to_everyone(world, monkeypatch):
    monkeypatch.setattr(selectors, "ticket_list_for", lambda user: Ticket.objects.all())
    problems, _ = run_matrix(world, only={"api/v1/^tickets/(?P<pk>[0-9]+)/$"})
    assert any("as other requester (own ticket): 200, expected 404 or 403" in p for p in problems), problems
    assert any("as tier2 engineer (restricted): 200, expected 404 or 403" in p for p in problems), problems


def test_the_matrix_oracle_matches_the_ticket_page(world):
    """The matrix's idea of who sees what is the app's: the ticket page opens exactly where it says."""
    for role in ROLES:
        for kind in KINDS:
            status = world.clients[role].get(f"/tickets/{world.tickets[kind].pk}/").status_code
            assert (status == 200) == sees(role, kind), (role, kind, status)
