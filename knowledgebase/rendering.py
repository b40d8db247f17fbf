"""Markdown → safe HTML: Python-Markdown with raw HTML disabled, then nh3 as the sanitizer.

Two layers on purpose: raw HTML in an article is shown as text (never parsed),
and whatever Markdown emits still passes an allow-list, so a Markdown quirk
cannot smuggle a script, an event handler or a javascript: URL through.
"""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}


class _NoRawHtml(markdown.Extension):
    """Treat inline and block HTML as literal text (it is escaped on output)."""

    def extendMarkdown(self, md):  # noqa: N802 (Markdown's API name)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def render_markdown(text: str) -> SafeString:
    html = markdown.markdown(
        text or "",
        extensions=["extra", "sane_lists", _NoRawHtml()],
        output_format="html",
    )
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 — sanitized by nh3 just above


def plain_text(text: str) -> str:
    """Markdown source without its markup, for snippets (never rendered as HTML)."""
    lines = []
    for line in (text or "").splitlines():
        stripped = line.strip().lstrip("#>*-+ ").strip()
        if stripped.startswith("```"):
            continue
        lines.append(stripped.replace("**", "").replace("`", ""))
    return " ".join(part for part in lines if part)
