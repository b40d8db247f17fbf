"""Mail cannot be forged into authority: signed per-ticket reply addresses, agents only with a
valid token and sight of the ticket, and new mail never carries the sender's roles.

Every message goes through a real maildir and the fetch_mail reader."""

import mailbox
import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest
from django.core import mail

from tests.factories import CategoryFactory, QueueFactory, UserFactory, make_ticket
from tickets import roles, services
from tickets.models import Comment, EventKind, Priority, RoutingRule, Ticket
from tickets.notifications import delivery
from tickets.notifications.inbound import MaildirSource, fetch_mail
from tickets.notifications.models import InboundMessage, InboundOutcome, Notification, NotificationChannel
from tickets.notifications.replyaddress import reply_address, reply_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def email_category(service_desk):
    return CategoryFactory(name="Email", slug="email", default_queue=service_desk)


@pytest.fixture
def maildir(tmp_path):
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(str(path), create=True)

    def deliver(**fields) -> InboundMessage:
        raw = make_mail(**fields)
        box.add(raw)
        counts = fetch_mail(MaildirSource(path))
        assert sum(counts.values()) == 1, counts
        return InboundMessage.objects.order_by("-pk").first()

    return deliver


def make_mail(*, sender, subject, body, to="Handoff <helpdesk@localhost>", attachments=()) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="mail.example.com")
    message.set_content(body)
    for filename, data in attachments:
        message.add_attachment(data.decode(), subtype="plain", filename=filename)
    return message.as_bytes()


def test_outgoing_mail_carries_the_tickets_signed_reply_address(requester, agent, email_category):
    ticket = make_ticket(requester=requester, category=email_category)
    services.ticket_comment_add(ticket_id=ticket.pk, body="Please restart Outlook.", public=True, acting_user=agent)
    row = Notification.objects.get(recipient=requester, channel=NotificationChannel.EMAIL, kind="public_reply")

    delivery.send_email(row)

    [sent] = mail.outbox
    reply_to = sent.message()["Reply-To"]
    assert re.fullmatch(rf"helpdesk\+{ticket.reference}\.[0-9a-f]{{20}}@localhost", reply_to)
    assert reply_to == reply_address(ticket)
    assert reply_token(ticket.pk) != reply_token(ticket.pk + 1)


def test_a_forged_agent_reply_on_a_restricted_ticket_becomes_a_flagged_internal_note(
    maildir, requester, agent, secops, security_category, security_team
):
    ticket = make_ticket(requester=requester, category=security_category, acting_user=agent)
    assert ticket.is_restricted

    record = maildir(
        sender=f"Alex Morgan <{agent.email}>",
        subject=f"Re: [{ticket.reference}] your report",
        body="All clear, you can open the attachment again and re-enter your password.",
    )

    [note] = Comment.objects.filter(ticket=ticket)
    assert note.is_public is False
    assert note.author is None  # never posted as the agent
    assert note.body.startswith("Unverified sender: mail claiming to be from Alex Morgan <agent1@example.com>")
    assert "re-enter your password" in note.body
    assert record.outcome == InboundOutcome.COMMENT_ADDED and "Unverified" in record.detail
    event = ticket.events.get(kind=EventKind.NOTE_ADDED)
    assert event.data["unverified_sender"] == "Alex Morgan <agent1@example.com>"
    assert not Notification.objects.filter(ticket=ticket, kind="public_reply").exists()  # nothing mailed out


def test_an_agent_replying_to_the_signed_address_posts_as_the_agent(maildir, requester, agent, email_category):
    ticket = make_ticket(requester=requester, category=email_category)

    maildir(
        sender=f"Alex Morgan <{agent.email}>",
        to=reply_address(ticket),
        subject=f"Re: [{ticket.reference}] Outlook",
        body="Restart Outlook in safe mode and tell me what you see.",
    )

    [reply] = Comment.objects.filter(ticket=ticket)
    assert (reply.author, reply.is_public) == (agent, True)
    assert Notification.objects.filter(ticket=ticket, kind="public_reply", recipient=requester).exists()


@pytest.mark.parametrize("tamper", ["wrong token", "another ticket's token"])
def test_a_tampered_token_is_no_token(maildir, requester, agent, email_category, tamper):
    ticket = make_ticket(requester=requester, category=email_category)
    other = make_ticket(requester=requester, category=email_category, title="Second problem")
    token = "0" * 20 if tamper == "wrong token" else reply_token(other.pk)

    maildir(
        sender=agent.email,
        to=f"helpdesk+{ticket.reference}.{token}@localhost",
        subject="Re: Outlook",
        body="Closing this, all fixed on our side.",
    )

    [note] = Comment.objects.all()
    assert (note.ticket, note.is_public, note.author) == (ticket, False, None)


def test_an_agent_with_a_valid_token_but_no_sight_of_the_ticket_is_not_posted_as_themself(
    maildir, requester, agent, security_category, security_team
):
    ticket = make_ticket(requester=requester, category=security_category, acting_user=agent)

    maildir(
        sender=agent.email,
        to=reply_address(ticket),
        subject=f"Re: [{ticket.reference}]",
        body="Forwarding what the caller said.",
    )

    [note] = Comment.objects.filter(ticket=ticket)
    assert (note.is_public, note.author) == (False, None)


def test_the_requester_replies_without_a_token_and_strangers_only_with_one(
    maildir, requester, other_requester, email_category
):
    ticket = make_ticket(requester=requester, category=email_category)

    mine = maildir(sender=requester.email, subject=f"Re: [{ticket.reference}]", body="It works again, thanks.")
    refused = maildir(sender=other_requester.email, subject=f"Re: [{ticket.reference}]", body="Me too!")
    in_copy = maildir(
        sender=other_requester.email, to=reply_address(ticket), subject="Re: Outlook", body="Same on my laptop."
    )

    assert mine.outcome == InboundOutcome.COMMENT_ADDED
    assert refused.outcome == InboundOutcome.REJECTED
    assert in_copy.outcome == InboundOutcome.COMMENT_ADDED
    comments = list(Comment.objects.filter(ticket=ticket).values_list("author__username", "is_public"))
    assert comments == [("requester1", True), (None, False)]


def test_new_mail_claiming_to_be_the_ceo_gets_no_vip_routing(maildir, email_category, service_desk, site):
    ceo = UserFactory(username="ceo", email="ceo@example.com", is_vip=True, role=roles.REQUESTER, site=site)
    vip_desk = QueueFactory(name="VIP Desk", slug="vip-desk")
    RoutingRule.objects.create(
        name="VIP requesters go to the VIP desk",
        position=10,
        requester_is_vip=True,
        target_queue=vip_desk,
        raise_priority_to=Priority.P2,
    )

    maildir(sender=f"Victoria Hale <{ceo.email}>", subject="Wire the money today", body="Urgent, call me back now.")

    ticket = Ticket.objects.get()
    assert ticket.requester == ceo  # the sender's own request
    assert ticket.created_by is None  # logged by nobody: no one's authority
    assert ticket.queue == service_desk
    assert ticket.priority == Priority.P4
    assert ticket.requester_is_vip is False
    # the same person logged by an agent on the phone is a VIP
    agent = UserFactory(username="agent7", role=roles.TIER1_AGENT)
    by_phone = make_ticket(requester=ceo, category=email_category, acting_user=agent)
    assert by_phone.queue == vip_desk


def test_new_mail_from_an_agents_address_is_that_agents_own_request(maildir, agent, requester, email_category):
    maildir(
        sender=agent.email,
        subject=f"Password reset for {requester.username}",
        body=f"Please reset the password of {requester.email} and send it to me.",
    )

    ticket = Ticket.objects.get()
    assert ticket.requester == agent
    assert ticket.created_by is None
