"""Inbound email: new mail becomes a ticket, a reply becomes a public comment.

The parsing core (process_message) takes RFC 822 bytes, so it runs the same for
IMAP, a maildir, or a test. Mailbox readers share one small interface (MailSource).

process_message, step by step:
1. Parse (email package, policy=default); the Message-ID is the idempotency key —
   an InboundMessage row is inserted first, so the same mail read twice does nothing.
2. Drop loops (our own From address, our loop header) and auto-replies
   (Auto-Submitted, X-Autoreply, Precedence bulk/junk/list, bounces).
3. Match a ticket: a signed reply address (replyaddress: support+HD-000123.<token>@…),
   else [HD-000123] in the subject, or In-Reply-To/References naming a Message-ID we
   sent (stored on email Notification rows) or a mail that made a ticket.
4. Find the sender's account (or create a requester, per INBOUND_UNKNOWN_SENDERS).
5. A match → reply_standing decides: a public comment as the sender (resumes a pending
   ticket), an internal flagged "unverified sender" note, or a refusal. No match →
   escalation.automation.ticket_create (channel email; trigger rules apply), the sender's
   own request with no authority from their roles. Attachments follow (internal on an unverified note).
"""

import hashlib
import imaplib
import logging
import mailbox
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils.html import strip_tags

from escalation import automation
from tickets import roles
from tickets import services as ticket_services
from tickets.access import may_see
from tickets.errors import DomainError
from tickets.models import Category, Channel, Ticket, User

from . import replyaddress
from .delivery import LOOP_HEADER
from .models import InboundMessage, InboundOutcome, Notification, NotificationChannel

logger = logging.getLogger(__name__)

REFERENCE_RE = re.compile(r"\[?\bHD-(\d{1,9})\b\]?", re.IGNORECASE)
THREAD_RE = re.compile(r"<ticket\.HD-(\d{1,9})@", re.IGNORECASE)
MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
AUTOMATED_SENDERS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply")

# A line where the quoted original begins; everything from it down is dropped.
QUOTE_MARKERS = [
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}", re.IGNORECASE),
    re.compile(r"^_{20,}\s*$"),  # Outlook's rule above "From: …"
    re.compile(r"^On .{1,200}wrote:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^Le .{1,200}a écrit\s*:\s*$", re.IGNORECASE),
    re.compile(r"^Am .{1,200}schrieb .{0,200}:\s*$", re.IGNORECASE),
    re.compile(r"^From:\s.+", re.IGNORECASE),
    re.compile(r"^Sent from my ", re.IGNORECASE),
    re.compile(r"^##+ ?Reply above this line", re.IGNORECASE),
    re.compile(r"^--\s*$"),  # signature delimiter
]


def process_message(raw: bytes) -> InboundMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    message_id = _message_id(message, raw)
    existing = InboundMessage.objects.filter(message_id=message_id).first()
    if existing is not None:
        return existing
    from_name, from_address = parseaddr(str(message.get("From", "")))
    from_address = from_address.strip().lower()
    subject = str(message.get("Subject", "")).strip()
    try:
        with transaction.atomic():
            record = InboundMessage.objects.create(
                message_id=message_id,
                from_address=from_address[:254],
                subject=subject[:300],
                outcome=InboundOutcome.ERROR,
            )
            _handle(record, message, from_name=from_name, from_address=from_address, subject=subject)
            record.save()
    except IntegrityError:
        # Another reader inserted the same Message-ID first: it owns this mail.
        return InboundMessage.objects.get(message_id=message_id)
    return record


def _handle(record: InboundMessage, message: EmailMessage, *, from_name: str, from_address: str, subject: str) -> None:
    def outcome(value: str, detail: str = "", ticket: Ticket | None = None) -> None:
        record.outcome, record.detail, record.ticket = value, detail[:500], ticket

    if _is_loop(message, from_address):
        return outcome(InboundOutcome.IGNORED_LOOP, "Sent by Handoff itself.")
    reason = auto_reply_reason(message, from_address)
    if reason:
        return outcome(InboundOutcome.IGNORED_AUTO_REPLY, reason)
    if not from_address or "@" not in from_address:
        return outcome(InboundOutcome.REJECTED, "No sender address.")
    sender = _sender(from_address, from_name)
    if sender is None:
        return outcome(InboundOutcome.REJECTED, f"Unknown sender {from_address} (INBOUND_UNKNOWN_SENDERS=reject).")
    text = strip_quoted(_body_text(message))
    addressed_id, verified = replyaddress.addressed_ticket(message)
    ticket = Ticket.objects.filter(pk=addressed_id).first() if addressed_id else match_ticket(message, subject)
    try:
        # A savepoint: a refused action leaves the InboundMessage row to say why.
        with transaction.atomic():
            if ticket is not None:
                standing = reply_standing(ticket, sender, verified=verified)
                if standing == REFUSED:
                    return outcome(
                        InboundOutcome.REJECTED, f"{from_address} is not the requester of {ticket.reference}.", ticket
                    )
                if standing == UNVERIFIED:
                    comment = ticket_services.ticket_unverified_mail_add(
                        ticket_id=ticket.pk,
                        body=text or "(empty reply)",
                        claimed_sender=f"{from_name} <{from_address}>",
                    )
                    _attach(message, ticket=ticket, sender=None, comment=comment, record=record, public=False)
                    return outcome(
                        InboundOutcome.COMMENT_ADDED, f"Unverified sender: internal note on {ticket.reference}.", ticket
                    )
                comment = ticket_services.ticket_comment_add(
                    ticket_id=ticket.pk, body=text or "(empty reply)", public=True, acting_user=sender
                )
                _attach(message, ticket=ticket, sender=sender, comment=comment, record=record)
                return outcome(InboundOutcome.COMMENT_ADDED, f"Reply on {ticket.reference}.", ticket)
            category = _category()
            if category is None:
                return outcome(InboundOutcome.ERROR, f"No category {settings.INBOUND_DEFAULT_CATEGORY!r} for new mail.")
            title = _title(subject)
            # A From header proves nothing: the ticket is the sender's own request, logged by nobody
            # (no agent authority) and routed without their VIP status or department.
            created = automation.ticket_create(
                intake=ticket_services.TicketIntake(
                    title=title,
                    description=text if len(text.strip()) >= 10 else f"{title}\n\n(sent by email without a body)",
                    category=category,
                    impact=category.default_impact,
                    urgency=category.default_urgency,
                    requester=sender,
                    channel=Channel.EMAIL,
                ),
                acting_user=None,
            )
            _attach(message, ticket=created, sender=sender, comment=None, record=record)
            return outcome(InboundOutcome.TICKET_CREATED, f"Created {created.reference}.", created)
    except DomainError as exc:
        return outcome(InboundOutcome.REJECTED, str(getattr(exc, "errors", None) or exc))


# How a reply is posted: as its sender, as an internal "unverified sender" note, or not at all.
AS_SENDER, UNVERIFIED, REFUSED = "as_sender", "unverified", "refused"


def reply_standing(ticket: Ticket, sender: User, *, verified: bool) -> str:
    """Whose words a mailed reply may become.

    - An agent's reply counts as the agent only with the ticket's valid reply token and
      only if the agent may see the ticket; otherwise anyone could forge an agent's From
      header into a public "agent" reply. It lands as a flagged internal note instead.
    - The requester's (or a watcher's, in copy) reply lands as theirs (the From header is all
      mail offers).
    - Anyone else: with a valid token (someone our mail reached, e.g. in copy) a flagged
      internal note; without one, refused.
    """
    if roles.is_agent(sender):
        return AS_SENDER if verified and may_see(sender, ticket) else UNVERIFIED
    if sender.pk == ticket.requester_id or ticket.watchers.filter(pk=sender.pk).exists():
        return AS_SENDER
    return UNVERIFIED if verified else REFUSED


def _message_id(message: EmailMessage, raw: bytes) -> str:
    value = str(message.get("Message-ID", "")).strip()
    found = MESSAGE_ID_RE.search(value)
    if found:
        return found.group(0)[:255]
    # No Message-ID (rare, broken clients): the content identifies the mail.
    return f"<sha256.{hashlib.sha256(raw).hexdigest()}@inbound>"


def our_addresses() -> set[str]:
    addresses = {parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()}
    addresses.update(a.lower() for a in getattr(settings, "INBOUND_OWN_ADDRESSES", []))
    return {a for a in addresses if a}


def _is_loop(message: EmailMessage, from_address: str) -> bool:
    return from_address in our_addresses() or message.get(LOOP_HEADER) is not None


def auto_reply_reason(message: EmailMessage, from_address: str) -> str:
    """Why this mail looks machine-sent (answering it would start a loop), or ''."""
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if message.get(header) is not None:
            return f"{header} header"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    local_part = from_address.partition("@")[0]
    if local_part in AUTOMATED_SENDERS:
        return f"Automated sender {from_address}"
    if message.get_content_type() == "multipart/report":
        return "Delivery report"
    return ""


def match_ticket(message: EmailMessage, subject: str) -> Ticket | None:
    found = REFERENCE_RE.search(subject)
    if found:
        ticket = Ticket.objects.filter(pk=int(found.group(1))).first()
        if ticket is not None:
            return ticket
    referenced = MESSAGE_ID_RE.findall(f"{message.get('In-Reply-To', '')} {message.get('References', '')}")
    if not referenced:
        return None
    for value in referenced:
        thread = THREAD_RE.match(value)
        if thread:
            ticket = Ticket.objects.filter(pk=int(thread.group(1))).first()
            if ticket is not None:
                return ticket
    sent = (
        Notification.objects.filter(channel=NotificationChannel.EMAIL, message_id__in=referenced, ticket__isnull=False)
        .select_related("ticket")
        .first()
    )
    if sent is not None:
        return sent.ticket
    earlier = InboundMessage.objects.filter(message_id__in=referenced, ticket__isnull=False).select_related("ticket")
    first = earlier.first()
    return first.ticket if first else None


def _sender(address: str, name: str) -> User | None:
    user = User.objects.filter(email__iexact=address, is_active=True).order_by("pk").first()
    if user is not None or settings.INBOUND_UNKNOWN_SENDERS != "create":
        return user
    first, _, last = name.strip().partition(" ")
    username = address[:150]
    suffix = 1
    while User.objects.filter(username=username).exists():
        suffix += 1
        username = f"{address[:140]}-{suffix}"
    user = User(username=username, email=address, first_name=first[:150], last_name=last[:150])
    user.set_unusable_password()  # a portal login needs a password reset first
    user.save()
    roles.ensure_role_groups()
    user.groups.add(Group.objects.get(name=roles.REQUESTER))
    return user


def _category() -> Category | None:
    return Category.objects.filter(slug=settings.INBOUND_DEFAULT_CATEGORY, is_active=True).first()


def _title(subject: str) -> str:
    title = re.sub(r"^((re|fw|fwd|aw|wg)\s*:\s*)+", "", subject, flags=re.IGNORECASE).strip()
    title = title[:200]
    return title if len(title) >= 5 else f"Email: {title or '(no subject)'}"


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        content = part.get_payload(decode=True).decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        content = strip_tags(re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", content))
    return content.replace("\r\n", "\n")


def strip_quoted(text: str) -> str:
    """The new part of a reply: cut at the first quote marker, drop '>' lines."""
    kept = []
    for line in text.split("\n"):
        stripped = line.strip()
        if any(marker.match(stripped) for marker in QUOTE_MARKERS):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _attach(
    message: EmailMessage, *, ticket: Ticket, sender: User | None, comment, record: InboundMessage, public: bool = True
) -> None:
    skipped = []
    for part in message.iter_attachments():
        filename = part.get_filename() or "attachment"
        payload = part.get_payload(decode=True) or b""
        upload = SimpleUploadedFile(filename, payload, content_type=part.get_content_type())
        try:
            with transaction.atomic():
                ticket_services.attachment_add(
                    ticket_id=ticket.pk, upload=upload, acting_user=sender, public=public, comment=comment
                )
        except DomainError as exc:
            skipped.append(f"{filename}: {getattr(exc, 'errors', exc)}")
    if skipped:
        record.detail = ("Attachments skipped: " + "; ".join(skipped))[:400]


# --- mailbox readers ------------------------------------------------------------------


class MailSource:
    """Yields (key, raw bytes) for unread mail; mark_processed(key) once it is handled."""

    def messages(self) -> Iterator[tuple[str, bytes]]:
        raise NotImplementedError

    def mark_processed(self, key: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        return None


class MaildirSource(MailSource):
    """A maildir (e.g. delivered by the MTA): unread = no 'S' (seen) flag; processed → cur/ with S."""

    def __init__(self, path: str | Path):
        self.box = mailbox.Maildir(str(path), factory=None, create=False)

    def messages(self):
        for key in list(self.box.keys()):
            message = self.box.get_message(key)
            if "S" in message.get_flags():
                continue
            yield key, self.box.get_bytes(key)

    def mark_processed(self, key):
        message = self.box.get_message(key)
        message.set_subdir("cur")
        message.add_flag("S")
        self.box[key] = message


class ImapSource(MailSource):
    """An IMAP folder: unread = UNSEEN; processed → \\Seen. BODY.PEEK leaves failures unread."""

    def __init__(self, *, host, port, user, password, folder="INBOX", use_ssl=True, timeout=30):
        client_class = imaplib.IMAP4_SSL if use_ssl else imaplib.IMAP4
        self.client = client_class(host, port, timeout=timeout)
        self.client.login(user, password)
        status, _ = self.client.select(folder)
        if status != "OK":
            raise OSError(f"IMAP folder {folder!r} cannot be selected")

    def messages(self):
        status, data = self.client.uid("search", None, "UNSEEN")
        if status != "OK":
            raise OSError("IMAP search failed")
        for uid in (data[0] or b"").split():
            status, parts = self.client.uid("fetch", uid, "(BODY.PEEK[])")
            if status != "OK":
                continue
            raw = next((part[1] for part in parts if isinstance(part, tuple)), None)
            if raw is not None:
                yield uid.decode(), raw

    def mark_processed(self, key):
        self.client.uid("store", key, "+FLAGS", "(\\Seen)")

    def close(self):
        try:
            self.client.close()
            self.client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def source_from_settings() -> MailSource:
    if not settings.INBOUND_IMAP_HOST:
        raise ValueError("INBOUND_IMAP_HOST is not set; use fetch_mail --maildir PATH or configure IMAP.")
    return ImapSource(
        host=settings.INBOUND_IMAP_HOST,
        port=settings.INBOUND_IMAP_PORT,
        user=settings.INBOUND_IMAP_USER,
        password=settings.INBOUND_IMAP_PASSWORD,
        folder=settings.INBOUND_IMAP_FOLDER,
        use_ssl=settings.INBOUND_IMAP_SSL,
        timeout=settings.INBOUND_IMAP_TIMEOUT,
    )


def fetch_mail(source: MailSource) -> dict[str, int]:
    """Process every unread mail in the source; counts by outcome.

    A mail that raises is recorded as an error and marked processed, so one poison
    message cannot block the mailbox (its InboundMessage row says what went wrong).
    """
    counts: dict[str, int] = {}
    try:
        for key, raw in source.messages():
            try:
                record = process_message(raw)
                result = record.outcome
            except Exception as exc:
                logger.exception("Inbound mail %s failed", key)
                result = InboundOutcome.ERROR
                _record_error(raw, exc)
            source.mark_processed(key)
            counts[result] = counts.get(result, 0) + 1
    finally:
        source.close()
    return counts


def _record_error(raw: bytes, exc: Exception) -> None:
    message = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    message_id = _message_id(message, raw)
    InboundMessage.objects.get_or_create(
        message_id=message_id,
        defaults={
            "from_address": parseaddr(str(message.get("From", "")))[1][:254],
            "subject": str(message.get("Subject", ""))[:300],
            "outcome": InboundOutcome.ERROR,
            "detail": repr(exc)[:500],
        },
    )
