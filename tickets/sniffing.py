"""Does an upload's content match the type it declares?

A browser trusts the bytes more than the label: HTML declared as text/plain, or
an SVG with a script declared as image/png, would run as our origin if ever
rendered. So the declared type must agree with what `filetype` (magic numbers)
finds, and the text types must not look like markup.
"""

import json

import filetype

SNIFF_BYTES = 8192

# Declared types that are text: no binary signature may be found, and the start must not be markup.
TEXT_TYPES = frozenset({"text/plain", "text/csv", "application/json", "message/rfc822"})

# Byte prefixes a browser takes for HTML, SVG or XML (WHATWG MIME sniffing, "identify an unknown
# type"), compared case-insensitively after leading whitespace and a BOM.
MARKUP_PREFIXES = (
    b"<!doctype",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<iframe",
    b"<svg",
    b"<?xml",
    b"<style",
    b"<title",
    b"<table",
    b"<div",
    b"<font",
    b"<br",
    b"<p",
    b"<a",
    b"<b",
    b"<h1",
    b"<!--",
    b"<img",
    b"<object",
    b"<embed",
    b"<meta",
    b"<link",
)


def content_problem(*, head: bytes, declared: str) -> str | None:
    """Why the first bytes of a file do not fit its declared type, or None when they do."""
    kind = filetype.guess(head) if head else None
    if declared in TEXT_TYPES:
        if kind is not None:
            return f"its content is {kind.mime}, not {declared}"
        if b"\x00" in head:
            return f"its content is binary, not {declared}"
        if _looks_like_markup(head):
            return f"its content is HTML/XML markup, not {declared}"
        if declared == "application/json" and not _parses_as_json(head):
            return "its content is not JSON"
        return None
    if kind is None:
        return f"its content is not {declared}"
    if kind.mime != declared:
        return f"its content is {kind.mime}, not {declared}"
    return None


def _looks_like_markup(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf").lstrip(b" \t\r\n\x0c").lower()
    for prefix in MARKUP_PREFIXES:
        # A tag name ends at a space, ">" or "/"; "<p" must not match "<pre-flight log".
        if text.startswith(prefix):
            following = text[len(prefix) : len(prefix) + 1]
            if prefix in (b"<!--", b"<?xml", b"<!doctype") or following in (b"", b" ", b">", b"/", b"\t", b"\n"):
                return True
    return False


def _parses_as_json(head: bytes) -> bool:
    if len(head) >= SNIFF_BYTES:
        return True  # only the start was read; a prefix of a large document does not parse
    try:
        json.loads(head.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True
