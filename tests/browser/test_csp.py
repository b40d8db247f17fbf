"""Every main page satisfies the Content-Security-Policy: a violation shows up as a console error and fails."""

import re

import pytest

from tests.factories import make_article, make_playbook, make_ticket
from tickets import services

from .conftest import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSP_VIOLATION = re.compile(r"Content Security Policy|Content-Security-Policy", re.I)


def _watch_csp(page) -> list[str]:
    """Collect CSP violations: the console errors Chromium prints and the DOM's own violation events."""
    found: list[str] = []
    page.on("console", lambda msg: found.append(msg.text) if CSP_VIOLATION.search(msg.text) else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return found


def _visit(page, url: str, violations: list[str], seen: dict[str, list[str]]) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    assert "content-security-policy" in response.headers, f"{url} has no CSP header"
    page.wait_for_load_state("networkidle")
    seen[url] = list(violations)
    violations.clear()


def test_main_pages_raise_no_csp_violation(
    page, live_server, requester, agent, engineer, manager, admin_user, category, identity_team
):
    ticket = make_ticket(requester=requester, category=category, acting_user=agent, title="VPN drops every hour")
    services.ticket_comment_add(ticket_id=ticket.pk, body="Checked the VPN logs.", public=False, acting_user=agent)
    article = make_article(author=agent, title="Reset a VPN profile", public=True)
    playbook = make_playbook(category=category, steps=[("Check the account", "It is enabled")])
    violations = _watch_csp(page)
    seen: dict[str, list[str]] = {}
    base = live_server.url

    _visit(page, f"{base}/login/", violations, seen)
    log_in(page, live_server, agent.username)
    for path in [
        "/desk/",
        "/desk/log-call/",
        f"/tickets/{ticket.pk}/",
        f"/tickets/{ticket.pk}/escalate/",
        "/kb/",
        f"/kb/articles/{article.pk}/",
        f"/kb/articles/{article.pk}/edit/",
        f"/kb/playbooks/{playbook.pk}/",
        f"/kb/tickets/{ticket.pk}/playbook/",
        "/notifications/",
        "/notifications/preferences/",
        f"/notifications/teams/{identity_team.slug}/",
        "/search/?q=VPN",
        "/api/docs/",
    ]:
        _visit(page, base + path, violations, seen)
    # interactive parts too: the keyboard-shortcut dialog and the live suggestions while logging a call
    page.goto(f"{base}/desk/log-call/")
    page.keyboard.press("?")
    page.wait_for_load_state("networkidle")
    seen["shortcuts dialog"] = list(violations)
    violations.clear()
    page.keyboard.press("Escape")
    log_out(page)

    log_in(page, live_server, engineer.username)
    _visit(page, f"{base}/tier2/", violations, seen)
    log_out(page)

    log_in(page, live_server, manager.username)
    for path in ["/dashboard/", "/dashboard/at-risk/", "/dashboard/tickets/", "/dashboard/what-if/"]:
        _visit(page, base + path, violations, seen)
    log_out(page)

    log_in(page, live_server, requester.username)
    for path in ["/portal/", "/portal/new/", f"/tickets/{ticket.pk}/"]:
        _visit(page, base + path, violations, seen)
    log_out(page)

    log_in(page, live_server, admin_user.username)
    for path in ["/admin/", "/admin/tickets/ticket/", f"/admin/tickets/ticket/{ticket.pk}/change/"]:
        _visit(page, base + path, violations, seen)

    assert {url: found for url, found in seen.items() if found} == {}
    assert len(seen) == 26  # every page above was visited
