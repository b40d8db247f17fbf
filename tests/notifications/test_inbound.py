"""Inbound email: RFC 822 bytes in, tickets and public replies out; loops and auto-replies ignored."""

import mailbox
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest
from django.core.management import call_command

from tests.factories import CategoryFactory, make_ticket
from tickets import roles, services
from tickets.models import Channel, EventKind, Ticket, TicketStatus, User
from tickets.notifications.inbound import MaildirSource, fetch_mail, process_message, strip_quoted
from tickets.notifications.models import InboundMessage, InboundOutcome, Notification, NotificationChannel


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def email_category(service_desk):
    return CategoryFactory(name="Email", slug="email", default_queue=service_desk)


def make_mail(
    *,
    subject="Outlook keeps asking for my password",
    body="Since this morning Outlook asks for my password every five minutes.",
    sender="requester1@example.com",
    name="Chris Taylor",
    message_id=None,
    headers=(),
    attachments=(),
) -> bytes:
    message = EmailMessage()
    message["From"] = f"{name} <{sender}>"
    message["To"] = "Handoff <helpdesk@localhost>"
    message["Subject"] = subject
    message["Date"] = formatdate()
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    for header, value in headers:
        message[header] = value
    message.set_content(body)
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        if maintype == "text":
            message.add_attachment(data.decode(), subtype=subtype, filename=filename)
        else:
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def test_new_mail_creates_a_ticket_for_the_sender_with_attachments(requester, email_category, agent):
    raw = make_mail(attachments=[("error.log", "text/plain", b"0x80070005 access denied\n")])

    record = process_message(raw)

    assert record.outcome == InboundOutcome.TICKET_CREATED
    ticket = Ticket.objects.get()
    assert record.ticket == ticket
    assert (ticket.title, ticket.requester, ticket.channel, ticket.category) == (
        "Outlook keeps asking for my password",
        requester,
        Channel.EMAIL,
        email_category,
    )
    assert ticket.description == "Since this morning Outlook asks for my password every five minutes."
    [attachment] = ticket.attachments.all()
    assert (attachment.filename, attachment.content_type) == ("error.log", "text/plain")
    assert attachment.file.read() == b"0x80070005 access denied\n"
    assert ticket.events.filter(kind=EventKind.CREATED, data__channel="email").count() == 1


def test_the_same_message_read_twice_makes_one_ticket(requester, email_category):
    raw = make_mail(message_id="<once@mail.example.com>")

    first = process_message(raw)
    second = process_message(raw)

    assert first.pk == second.pk
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_a_reply_by_reference_threads_and_resumes_the_paused_ticket(requester, email_category, agent):
    ticket = make_ticket(requester=requester, category=email_category)
    services.ticket_set_pending(ticket_id=ticket.pk, reason="Which Outlook version?", acting_user=agent)
    reply = make_mail(
        subject=f"RE: [{ticket.reference}] Waiting for you",
        body="It is Outlook 2021.\n\nOn Mon, 9 Mar 2026 at 10:00, Handoff <helpdesk@localhost> wrote:\n> Which Outlook version?\n",
    )

    record = process_message(reply)

    assert (record.outcome, record.ticket) == (InboundOutcome.COMMENT_ADDED, ticket)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    comment = ticket.comments.get()
    assert (comment.body, comment.is_public, comment.author) == ("It is Outlook 2021.", True, requester)
    resumed = ticket.events.get(kind=EventKind.RESUMED)
    assert resumed.data["old_status"] == TicketStatus.PENDING and resumed.actor == requester
    assert Ticket.objects.count() == 1


def test_a_reply_to_our_email_threads_by_in_reply_to(requester, email_category, agent):
    ticket = make_ticket(requester=requester, category=email_category)
    services.ticket_comment_add(ticket_id=ticket.pk, body="Please restart Outlook.", public=True, acting_user=agent)
    sent = Notification.objects.get(recipient=requester, channel=NotificationChannel.EMAIL, kind="public_reply")
    assert sent.message_id

    record = process_message(
        make_mail(subject="Re: that thing", body="Restarted, still broken.", headers=[("In-Reply-To", sent.message_id)])
    )

    assert (record.outcome, record.ticket) == (InboundOutcome.COMMENT_ADDED, ticket)
    assert ticket.comments.filter(author=requester).get().body == "Restarted, still broken."


@pytest.mark.parametrize(
    "headers, sender",
    [
        ([("Auto-Submitted", "auto-replied")], "requester1@example.com"),
        ([("X-Autoreply", "yes")], "requester1@example.com"),
        ([("Precedence", "bulk")], "requester1@example.com"),
        ([("X-Auto-Response-Suppress", "All")], "requester1@example.com"),
        ([], "MAILER-DAEMON@mail.example.com"),
    ],
)
def test_auto_replies_are_ignored(requester, email_category, headers, sender):
    record = process_message(make_mail(subject="Out of office", headers=headers, sender=sender))

    assert record.outcome == InboundOutcome.IGNORED_AUTO_REPLY
    assert not Ticket.objects.exists()


def test_auto_submitted_no_is_a_person(requester, email_category):
    record = process_message(make_mail(headers=[("Auto-Submitted", "no")]))
    assert record.outcome == InboundOutcome.TICKET_CREATED


@pytest.mark.parametrize(
    "headers, sender", [([], "helpdesk@localhost"), ([("X-Handoff-Loop", "localhost")], "requester1@example.com")]
)
def test_our_own_mail_coming_back_is_a_loop(requester, email_category, headers, sender):
    record = process_message(make_mail(headers=headers, sender=sender))

    assert record.outcome == InboundOutcome.IGNORED_LOOP
    assert not Ticket.objects.exists()


def test_unknown_senders_get_a_requester_account_when_the_setting_says_create(email_category, settings):
    settings.INBOUND_UNKNOWN_SENDERS = "create"

    record = process_message(make_mail(sender="New.Person@Partner.example", name="New Person"))

    person = User.objects.get(email="new.person@partner.example")
    assert record.ticket.requester == person
    assert person.groups.filter(name=roles.REQUESTER).exists()
    assert not person.has_usable_password()
    assert (person.first_name, person.last_name) == ("New", "Person")


def test_unknown_senders_are_refused_when_the_setting_says_reject(email_category, settings):
    settings.INBOUND_UNKNOWN_SENDERS = "reject"

    record = process_message(make_mail(sender="stranger@elsewhere.example"))

    assert record.outcome == InboundOutcome.REJECTED
    assert "stranger@elsewhere.example" in record.detail
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email="stranger@elsewhere.example").exists()


def test_a_stranger_replying_on_someone_elses_ticket_is_refused(requester, other_requester, email_category):
    ticket = make_ticket(requester=requester, category=email_category)

    record = process_message(make_mail(subject=f"Re: {ticket.reference}", sender=other_requester.email))

    assert record.outcome == InboundOutcome.REJECTED
    assert not ticket.comments.exists()


def test_quoted_text_is_stripped_above_common_markers():
    assert strip_quoted("Thanks, fixed.\n\n-----Original Message-----\nFrom: Handoff\nold text") == "Thanks, fixed."
    assert strip_quoted("Works now\n\nOn Tue, 10 Mar 2026, Handoff wrote:\n> old") == "Works now"
    assert strip_quoted("Yes\n________________________________\nFrom: Handoff") == "Yes"
    assert strip_quoted("Above\n## Reply above this line to add a reply to HD-000001 ##\nbelow") == "Above"
    assert strip_quoted("Line one\n> quoted\nLine two\n-- \nChris") == "Line one\nLine two"


def test_maildir_reader_end_to_end(requester, email_category, agent, tmp_path):
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    box.add(make_mail(subject="VPN drops every hour", body="The VPN disconnects every hour on the hour."))
    box.add(make_mail(subject="Out of office", headers=[("Auto-Submitted", "auto-replied")]))

    call_command("fetch_mail", maildir=str(tmp_path / "Maildir"))

    assert list(Ticket.objects.values_list("title", flat=True)) == ["VPN drops every hour"]
    ticket = Ticket.objects.get()
    box.add(make_mail(subject=f"Re: [{ticket.reference}] VPN drops every hour", body="It happened again at 3pm."))
    counts = fetch_mail(MaildirSource(tmp_path / "Maildir"))

    assert counts == {InboundOutcome.COMMENT_ADDED: 1}  # the first two were marked seen
    assert ticket.comments.get().body == "It happened again at 3pm."
    assert all("S" in box.get_message(key).get_flags() for key in box.keys())  # noqa: SIM118 (a Maildir iterates messages)
    assert fetch_mail(MaildirSource(tmp_path / "Maildir")) == {}
