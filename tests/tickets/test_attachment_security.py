"""Attachments cannot be fetched around the permission check, nor run as our origin."""

import importlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import clear_url_caches, reverse

from tickets.models import Attachment

from ..factories import make_ticket

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/tickets/')</script></body></html>"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, ticket, name, content, content_type, **extra):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": file, **extra}, format="multipart")


@pytest.fixture
def debug_urls(settings):
    """The URL conf as `make run` builds it (DEBUG on), reloaded for this test and restored after."""
    import helpdesk.urls

    settings.DEBUG = True
    importlib.reload(helpdesk.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(helpdesk.urls)
    clear_url_caches()


def test_media_path_is_404_even_with_debug_on_for_anyone(debug_urls, client, api_for, agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    assert upload(api_for(agent), ticket, "note.txt", b"internal only\n", "text/plain", public=False).status_code == 201
    stored = Attachment.objects.get(ticket=ticket).file.name

    anonymous = client.get(f"/media/{stored}")
    client.force_login(requester)
    as_requester = client.get(f"/media/{stored}")

    assert anonymous.status_code == 404
    assert as_requester.status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "declared"),
    [
        ("readme.txt", HTML, "text/plain"),
        ("logo.png", SVG_WITH_SCRIPT, "image/png"),
        ("photo.jpg", PNG, "image/jpeg"),
        ("data.json", b"not json at all, just words", "application/json"),
        ("report.pdf", b"MZ\x90\x00 a windows executable", "application/pdf"),
    ],
)
def test_a_declared_type_the_content_does_not_match_is_refused(api_for, requester, category, name, content, declared):
    ticket = make_ticket(requester=requester, category=category)

    response = upload(api_for(requester), ticket, name, content, declared)

    assert response.status_code == 400
    assert name in response.json()["attachments"][0]
    assert "not accepted" in response.json()["attachments"][0]
    assert not Attachment.objects.exists()
    assert not ticket.events.filter(kind="attachment_added").exists()


def test_content_that_matches_its_declared_type_is_kept(api_for, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    client = api_for(requester)

    assert upload(client, ticket, "screen.png", PNG, "image/png").status_code == 201
    assert upload(client, ticket, "trace.log", b"ERROR <timeout> at 10:42\n", "text/plain").status_code == 201
    assert upload(client, ticket, "export.json", b'{"ok": false}', "application/json").status_code == 201

    assert sorted(Attachment.objects.values_list("filename", flat=True)) == ["export.json", "screen.png", "trace.log"]


def test_the_page_form_refuses_a_mismatch_with_a_field_error(client, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    client.force_login(requester)
    disguised = SimpleUploadedFile("cat.png", SVG_WITH_SCRIPT, content_type="image/png")

    response = client.post(
        reverse("ticket-comment", args=[ticket.pk]), {"body": "Here is a screenshot", "attachments": [disguised]}
    )

    assert response.status_code == 400
    assert "cat.png was sent as image/png but its content is not image/png" in response.content.decode()
    assert not Attachment.objects.exists()
    assert not ticket.comments.exists()  # the reply and its file go together or not at all


@pytest.mark.parametrize(
    ("name", "content", "declared"), [("screen.png", PNG, "image/png"), ("a.txt", b"hi", "text/plain")]
)
def test_every_download_is_an_attachment_that_cannot_run_script(
    client, api_for, agent, requester, category, name, content, declared
):
    ticket = make_ticket(requester=requester, category=category)
    upload(api_for(requester), ticket, name, content, declared)
    attachment = Attachment.objects.get()
    client.force_login(agent)

    response = client.get(reverse("attachment-download", args=[attachment.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert name in response["Content-Disposition"]
    assert response["Content-Type"] == declared
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert b"".join(response.streaming_content) == content


def test_requester_never_sees_an_internal_file_not_even_its_name(client, api_for, agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    upload(api_for(agent), ticket, "forensics-dump.txt", b"attacker IPs\n", "text/plain", public=False)
    upload(api_for(agent), ticket, "how-to-reset.txt", b"steps\n", "text/plain", public=True)
    internal = Attachment.objects.get(filename="forensics-dump.txt")

    timeline = api_for(requester).get(f"/api/v1/tickets/{ticket.pk}/timeline/").json()
    client.force_login(requester)
    page = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    download = client.get(reverse("attachment-download", args=[internal.pk]))

    assert "forensics-dump.txt" not in str(timeline)
    assert "how-to-reset.txt" in str(timeline)
    assert "forensics-dump.txt" not in page
    assert "how-to-reset.txt" in page
    assert download.status_code == 404
    # the agent still sees both on the timeline
    agent_timeline = api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/timeline/").json()
    assert {e["message"] for e in agent_timeline if e["kind"] == "attachment_added"} == {
        "forensics-dump.txt",
        "how-to-reset.txt",
    }
