"""Every main page at 1366 and 768 px: no horizontal scroll, the key actions on screen, and axe-core
(vendored under static/vendor/axe-core) finds no serious or critical accessibility violation.

Screenshots of each page at both widths go to the screenshots folder (see conftest.shoot).
"""

import pytest

from escalation import services as escalation_services
from escalation.models import EscalationPath
from tests.factories import make_article, make_ticket

from .conftest import SCREENSHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 768)
# The deepest elements that stick out past the right edge, to say what to fix.
WIDEST = """
[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > document.documentElement.clientWidth + 1))
  .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
"""


@pytest.fixture
def desk(requester, other_requester, agent, engineer, category, service_desk, identity_team):
    EscalationPath.objects.create(name="Access → Identity", trigger="access_restriction", to_queue=identity_team)
    tickets = [
        make_ticket(requester=requester, category=category, acting_user=agent, title=title)
        for title in (
            "Locked out after the password change this morning",
            "Outlook asks for the password again and again",
            "Shared drive is read-only for the finance team",
        )
    ]
    escalated = make_ticket(
        requester=other_requester, category=category, acting_user=agent, title="Payroll export blocked"
    )
    escalation_services.ticket_escalate(
        ticket_id=escalated.pk,
        trigger="access_restriction",
        handoff=escalation_services.Handoff(
            problem_summary="Payroll export button greyed out for the payroll clerk since the role change.",
            steps_tried="Checked the role in the HR portal (assigned); cleared cache; another clerk has the same.",
            error_evidence="HTTP 403 Forbidden: missing scope payroll.export",
            affected_scope="team",
            affected_count=3,
            urgency="slowed",
            checklist={},
        ),
        acting_user=agent,
    )
    article = make_article(
        author=agent,
        title="Locked out of your account",
        body="If you are **locked out**, wait 15 minutes or use the self-service unlock page.",
        category=category,
        public=True,
    )
    return {"tickets": tickets, "escalated": escalated, "article": article}


def check_page(page, name: str, *, must_see: tuple[str, ...] = ()):
    """At each width: no horizontal scroll, the named controls inside the viewport, no serious axe finding."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(450)  # let the layout (and the menu's slide) settle after the resize
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            widest = page.evaluate(WIDEST)
            problems.append(f"{name} @ {width}px scrolls sideways by {overflow}px (widest: {widest})")
        for label in must_see:
            box = page.get_by_role("button", name=label).first.bounding_box()
            if box is None or box["x"] < 0 or box["x"] + box["width"] > width:
                problems.append(f"{name} @ {width}px: '{label}' is off-screen ({box})")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=False)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # by URL, from our own origin: the Content-Security-Policy refuses inline script
        page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    for violation in result["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"][:3]]
            problems.append(f"{name}: axe {violation['impact']} {violation['id']} ({violation['help']}) at {targets}")
    return problems


def test_every_main_page_fits_768px_and_passes_axe(page, live_server, desk, agent, engineer, manager, requester):
    problems = []
    page.goto(f"{live_server.url}/login/")
    problems += check_page(page, "01-login")

    log_in(page, live_server, "agent1")
    ticket = desk["tickets"][0]
    for path, name, buttons in (
        ("/desk/", "02-tier1-desk", ()),
        ("/desk/log-call/", "03-log-a-call", ()),
        (f"/tickets/{ticket.pk}/", "04-ticket-page", ("Send reply",)),
        (f"/tickets/{ticket.pk}/escalate/", "05-escalate", ()),
        ("/search/?q=password", "13-search", ()),
        ("/kb/?q=locked+out", "10-knowledge-base", ()),
        (f"/kb/articles/{desk['article'].pk}/", "11-article", ()),
        ("/notifications/", "14-notifications", ()),
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        problems += check_page(page, name, must_see=buttons)

    page.context.clear_cookies()
    log_in(page, live_server, "engineer1")
    page.goto(f"{live_server.url}/tier2/")
    page.wait_for_load_state("networkidle")
    ref = desk["escalated"].reference
    problems += check_page(page, "06-tier2-queue", must_see=(f"Accept {ref}",))

    page.context.clear_cookies()
    log_in(page, live_server, "manager1")
    for path, name in (("/dashboard/", "09-dashboard"), ("/dashboard/at-risk/", "12-at-risk")):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        problems += check_page(page, name)

    page.context.clear_cookies()
    log_in(page, live_server, "requester1")
    for path, name in (
        ("/portal/", "07-requester-portal"),
        ("/portal/new/", "15-portal-ask-for-help"),
        (f"/tickets/{ticket.pk}/", "16-portal-ticket"),
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        problems += check_page(page, name)

    assert not problems, "\n".join(problems)


def test_menu_button_opens_the_sidebar_at_768(page, live_server, desk, agent):
    page.set_viewport_size({"width": 768, "height": 900})
    log_in(page, live_server, "agent1")
    page.goto(f"{live_server.url}/desk/")
    nav_link = page.get_by_role("link", name="Knowledge base")
    assert not nav_link.is_visible()
    page.get_by_role("button", name="Menu").click()
    page.wait_for_timeout(300)
    assert nav_link.is_visible()
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert not nav_link.is_visible()


def test_slash_focuses_global_search_and_a_reference_opens_the_ticket(page, live_server, desk, agent):
    log_in(page, live_server, "agent1")
    page.goto(f"{live_server.url}/kb/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "global-q"
    escalated = desk["escalated"]
    page.keyboard.type(escalated.reference)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{escalated.pk}/")


def test_requester_lookup_picks_with_arrow_down_and_enter_without_submitting(page, live_server, desk, agent, requester):
    log_in(page, live_server, "agent1")
    page.goto(f"{live_server.url}/desk/log-call/")
    page.locator("#id_requester").type("Chris")
    page.wait_for_selector("#requester-matches [data-pick-requester]")

    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")

    assert page.url.endswith("/desk/log-call/")  # not submitted
    assert page.locator("#id_requester").input_value() == "requester1"
    assert "Chris Taylor" in page.locator("#requester-chosen").inner_text()
    assert page.evaluate("document.activeElement.id") == "id_category"
