import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tickets.models import Attachment, EventKind

from ..factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_attachment_is_stored_with_its_metadata_and_on_the_timeline(api_for, agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    log = SimpleUploadedFile("vpn.log", b"ERROR 0x80070005 access denied\n", content_type="text/plain")

    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": log}, format="multipart")

    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get(ticket=ticket)
    assert (attachment.filename, attachment.content_type, attachment.size) == ("vpn.log", "text/plain", 31)
    assert attachment.file.read() == b"ERROR 0x80070005 access denied\n"
    assert ticket.events.get(kind=EventKind.ATTACHMENT_ADDED).data["filename"] == "vpn.log"


def test_oversized_and_disallowed_files_are_refused(api_for, agent, requester, category, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    ticket = make_ticket(requester=requester, category=category)
    client = api_for(agent)
    big = SimpleUploadedFile("big.txt", b"x" * 11, content_type="text/plain")
    exe = SimpleUploadedFile("run.exe", b"MZ", content_type="application/x-msdownload")

    too_big = client.post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": big}, format="multipart")
    wrong_type = client.post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": exe}, format="multipart")

    assert too_big.status_code == 400
    assert "larger than" in too_big.json()["attachments"][0]
    assert wrong_type.status_code == 400
    assert "not accepted" in wrong_type.json()["attachments"][0]
    assert not Attachment.objects.exists()


def test_other_requesters_cannot_attach(api_for, other_requester, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    note = SimpleUploadedFile("a.txt", b"hi", content_type="text/plain")

    response = api_for(other_requester).post(
        f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": note}, format="multipart"
    )

    assert response.status_code == 404
