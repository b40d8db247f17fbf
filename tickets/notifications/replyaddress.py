"""Per-ticket reply addresses that cannot be forged: support+HD-000123.<token>@domain.

The token is a truncated HMAC of the ticket id under a SECRET_KEY-derived key, so
only mail we sent about a ticket carries it; a reply to that address proves the
sender received our mail about that ticket (not who they are: the From header
never proves that). Compared in constant time.
"""

import re
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from tickets.models import Ticket, format_reference

TOKEN_LENGTH = 20  # 80 bits of HMAC-SHA256
_SALT = "handoff.notifications.reply-address"
_ADDRESS_RE = re.compile(r"\+HD-(\d{1,9})\.([0-9a-z]+)@", re.IGNORECASE)
# Where a mail server records the address a message was delivered to, besides To and Cc.
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


def reply_token(ticket_id: int) -> str:
    return salted_hmac(_SALT, str(ticket_id), algorithm="sha256").hexdigest()[:TOKEN_LENGTH]


def base_address() -> str:
    return settings.INBOUND_REPLY_ADDRESS or parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "support@handoff.local"


def reply_address(ticket: Ticket) -> str:
    local, _, domain = base_address().partition("@")
    return f"{local}+{format_reference(ticket.pk)}.{reply_token(ticket.pk)}@{domain}"


def addressed_ticket(message: EmailMessage) -> tuple[int | None, bool]:
    """(ticket id, token valid?) from the first reply address among the recipients, else (None, False).

    A wrong token still names a ticket (as a subject reference would), but proves nothing.
    """
    values = [str(value) for header in RECIPIENT_HEADERS for value in message.get_all(header, [])]
    claimed = None
    for _name, address in getaddresses(values):
        found = _ADDRESS_RE.search(address)
        if not found:
            continue
        ticket_id = int(found.group(1))
        if constant_time_compare(found.group(2).lower(), reply_token(ticket_id)):
            return ticket_id, True
        claimed = claimed or ticket_id
    return claimed, False
