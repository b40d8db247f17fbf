"""Where a webhook may point: public addresses only, unless WEBHOOKS_ALLOW_PRIVATE_TARGETS is on.

A webhook URL is typed by an admin but fetched by our server, from inside our network: pointed at
127.0.0.1, 169.254.169.254 or 10.x it would probe services nobody outside can reach. The URL is
checked when it is saved (a literal address or a name that resolves to one) and again when it is
sent, against the address the name resolves to at that moment; the connection then goes to that
very address, so a name that changes its answer in between (DNS rebinding) cannot slip through.
"""

import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

REFUSED = "Webhooks may not target loopback, link-local or private addresses ({address})."


class TargetRefused(Exception):
    """The webhook's host is (or resolves to) an address we do not send to."""


def private_targets_allowed() -> bool:
    return getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)


def address_refused(address: str) -> bool:
    """True for anything but a globally routable unicast address (loopback, private, link-local, …)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def checked_address(host: str, port: int) -> str:
    """The address to connect to for `host`, after checking every address it resolves to."""
    try:
        addresses = resolve(host, port)
    except OSError as exc:
        raise TargetRefused(f"Cannot resolve {host}: {exc}") from exc
    if not private_targets_allowed():
        for address in addresses:
            if address_refused(address):
                raise TargetRefused(REFUSED.format(address=f"{host} is {address}"))
    return addresses[0]


def validate_webhook_url(url: str) -> None:
    """At save: http(s) only, and no host that is, or now resolves to, a refused address."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError("Use an http:// or https:// URL.")
    if private_targets_allowed():
        return
    host = parts.hostname
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            raise ValidationError(REFUSED.format(address=host))
        try:
            addresses = resolve(host, parts.port or 443)
        except OSError:
            addresses = []  # not resolvable from here now: checked again at every send
    for address in addresses:
        if address_refused(address):
            raise ValidationError(REFUSED.format(address=f"{host} is {address}" if address != host else host))


# -- sending: urllib handlers that connect only to the address checked for this request


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, *, address: str, **kwargs):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout, self.source_address)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, *, address: str, **kwargs):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout, self.source_address)
        # Certificate checked against the URL's host name, as for any HTTPS request.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _pinned(connection_class, request):
    parts = urlsplit(request.full_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = checked_address(parts.hostname or "", port)

    def make(host, **kwargs):
        return connection_class(host, address=address, **kwargs)

    return make


class CheckedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_pinned(_PinnedHTTPConnection, req), req)


class CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_pinned(_PinnedHTTPSConnection, req), req, context=self._context)
