"""Article Markdown is rendered, then sanitized: nothing executable survives."""

from html.parser import HTMLParser

from knowledgebase.rendering import render_markdown


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(html: str) -> list[tuple[str, dict]]:
    collector = _Collect()
    collector.feed(str(html))
    return collector.tags


def tag_names(html) -> set[str]:
    return {tag for tag, _ in parse(html)}


def test_script_tags_are_not_elements():
    html = render_markdown(
        "Hello\n\n<script>alert('x')</script>\n\nBye <script src='https://evil.example/x.js'></script>"
    )

    assert "script" not in tag_names(html)
    assert "<script" not in html


def test_javascript_links_lose_their_href():
    html = render_markdown(
        "[click me](javascript:alert(1)) and [also](JAVASCRIPT:alert(2)) and [data](data:text/html,hi)"
    )

    hrefs = [attrs.get("href") for tag, attrs in parse(html) if tag == "a"]
    assert hrefs == [None, None, None]
    assert "click me" in html


def test_event_handlers_are_gone():
    html = render_markdown(
        '<img src="x.png" onerror="alert(1)">\n\n<a href="https://ok.example" onclick="steal()">x</a>\n\n'
        '<p onmouseover="alert(2)">hover</p>'
    )

    for _tag, attrs in parse(html):
        assert not [name for name in attrs if name.startswith("on")]
    assert "img" not in tag_names(html)  # raw HTML is shown as text, never parsed


def test_raw_html_iframes_styles_and_forms_are_gone():
    html = render_markdown(
        '<iframe src="https://evil.example"></iframe>\n\n<style>body{display:none}</style>\n\n'
        '<form action="https://evil.example"><input name="password"></form>'
    )

    assert tag_names(html).isdisjoint({"iframe", "style", "form", "input"})


def test_normal_markdown_renders_headings_lists_code_tables_and_safe_links():
    html = render_markdown(
        "## Steps\n\n1. Open **Settings**\n2. Run the command:\n\n"
        "```powershell\nGet-ADUser alex | Unlock-ADAccount\n```\n\n"
        "| Error | Meaning |\n|---|---|\n| 0x80070005 | Access denied |\n\n"
        "See [the portal](https://sso.example.com/reset) or `ipconfig /all`."
    )

    names = tag_names(html)
    assert {"h2", "ol", "li", "strong", "pre", "code", "table", "th", "td", "a"} <= names
    links = [attrs for tag, attrs in parse(html) if tag == "a"]
    assert links == [{"href": "https://sso.example.com/reset", "rel": "noopener noreferrer"}]
    assert "Get-ADUser alex | Unlock-ADAccount" in html


def test_html_inside_code_blocks_stays_visible_text():
    html = render_markdown("```\n<script>alert(1)</script>\n```")

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "script" not in tag_names(html)
