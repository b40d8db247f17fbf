"""Deflection in the portal: suggestions while typing, counted when the requester leaves with an
article; knowledge-base search that matches error codes, typos and "locked out"; portal attachments."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from knowledgebase import selectors as kb_selectors
from knowledgebase.models import SuggestionShown
from tickets.models import Attachment, Ticket

from ..factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(agent, category):
    return {
        "lockout": make_article(
            author=agent,
            title="Locked out of your account",
            body="Your account **locks** after 10 wrong passwords. Wait 30 minutes, then sign in once.",
            tags="lockout, unlock, sign-in",
            category=category,
            public=True,
        ),
        "mailbox": make_article(
            author=agent,
            title="Add a shared mailbox in Outlook",
            body="Open **File › Account Settings** and add the mailbox. Your account needs access first.",
            tags="outlook, mailbox",
            public=True,
        ),
        "vpn809": make_article(
            author=agent,
            title="VPN cannot connect",
            body="## Error 809\n\nSomething between you and us blocks the VPN. Try your phone's hotspot.",
            tags="vpn, globalprotect",
            public=True,
        ),
    }


def titles(hits):
    return [hit.article.title for hit in hits]


def test_portal_suggestions_while_typing_and_following_one_is_a_deflection(client, requester, articles):
    client.force_login(requester)

    response = client.get(
        "/kb/suggest/", {"context": "portal", "title": "Locked out", "description": "I am locked out of my account"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Locked out of your account" in html
    shown = SuggestionShown.objects.get(article=articles["lockout"], shown_to=requester, context="portal")
    assert f"?shown={shown.pk}" in html
    assert kb_selectors.deflection_stats().left_with_article == 0

    client.get(f"/kb/articles/{articles['lockout'].pk}/?shown={shown.pk}")  # they read it …

    assert kb_selectors.deflection_stats().left_with_article == 1  # … and filed nothing: deflected


def test_filing_after_all_is_not_a_deflection(client, requester, category, articles):
    client.force_login(requester)
    client.get("/kb/suggest/", {"context": "portal", "title": "Locked out", "description": "locked out again"})
    shown = SuggestionShown.objects.get(article=articles["lockout"])
    client.get(f"/kb/articles/{articles['lockout'].pk}/?shown={shown.pk}")

    response = client.post(
        "/portal/new/",
        {
            "category": category.slug,
            "title": "Locked out again",
            "description": "Waited 30 minutes, still locked out.",
            "impact": "individual",
            "urgency": "stopped",
        },
    )

    assert response.status_code == 302
    shown.refresh_from_db()
    assert shown.ticket == Ticket.objects.get(title="Locked out again")
    assert kb_selectors.deflection_stats().left_with_article == 0


def test_someone_elses_showing_is_not_marked(client, requester, other_requester, articles):
    client.force_login(requester)
    client.get("/kb/suggest/", {"context": "portal", "title": "Locked out", "description": "locked out"})
    shown = SuggestionShown.objects.get(article=articles["lockout"])
    client.force_login(other_requester)
    client.get(f"/kb/articles/{articles['lockout'].pk}/?shown={shown.pk}")
    shown.refresh_from_db()
    assert shown.opened_at is None


def test_locked_out_ranks_the_lockout_article_first(requester, articles):
    hits = kb_selectors.suggest_for_text(requester, "I'm locked out of my account")
    assert titles(hits)[0] == "Locked out of your account"


def test_error_codes_are_found(requester, articles):
    assert titles(kb_selectors.article_search(requester, "809")) == ["VPN cannot connect"]
    assert "VPN cannot connect" in titles(kb_selectors.suggest_for_text(requester, "vpn says error 809"))


@pytest.mark.postgres
def test_typos_are_found_on_postgres(requester, articles):
    assert titles(kb_selectors.article_search(requester, "outlok"))[0] == "Add a shared mailbox in Outlook"
    assert titles(kb_selectors.article_search(requester, "mailbx"))[0] == "Add a shared mailbox in Outlook"


def test_snippets_are_rendered_text_not_markdown(requester, articles):
    [hit] = kb_selectors.article_search(requester, "809")
    assert "##" not in hit.snippet and "**" not in hit.snippet
    assert "Error 809" in hit.snippet


def test_portal_takes_attachments_with_the_same_checks_as_an_agents(client, requester, category):
    client.force_login(requester)
    body = {
        "category": category.slug,
        "title": "Printer shows an error",
        "description": "The screen says paper jam but there is no paper stuck.",
        "impact": "individual",
        "urgency": "slowed",
    }
    text = SimpleUploadedFile("printer.txt", b"Paper jam in tray 2 (code 41)\n", content_type="text/plain")

    response = client.post("/portal/new/", {**body, "attachments": [text]})

    assert response.status_code == 302
    ticket = Ticket.objects.get(title="Printer shows an error")
    [attachment] = Attachment.objects.filter(ticket=ticket)
    assert attachment.filename == "printer.txt" and attachment.is_public and attachment.uploaded_by == requester

    exe = SimpleUploadedFile("fix.exe", b"MZ\x90\x00", content_type="application/x-msdownload")
    refused = client.post("/portal/new/", {**body, "title": "Printer error again", "attachments": [exe]})
    assert refused.status_code == 400
    assert "not accepted" in refused.content.decode()
    assert not Ticket.objects.filter(title="Printer error again").exists()  # nothing half-filed


def test_portal_page_has_the_live_suggestions_box(client, requester):
    client.force_login(requester)
    html = client.get("/portal/new/").content.decode()
    assert 'id="portal-suggestions"' in html and "context=portal" in html
    assert 'enctype="multipart/form-data"' in html
