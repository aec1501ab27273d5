"""``notice_html``: a privacy notice's plain text as headings, paragraphs and lists.

The notice files (``portal/notices/<version>.<lang>.txt``) are plain text so that their
hash proves exactly which words a person was shown. Shown as one block of lines, a
screen reader user cannot jump between its parts and a phone reader sees a wall of text;
this filter gives the same words their structure without changing any of them: in a
paragraph of several lines, a first line without closing punctuation is its heading
(``<h2>``), lines starting with ``- `` form a list, and every other line is a paragraph.
"""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def is_heading(first: str, lines: list[str]) -> bool:
    """A paragraph's first line is its heading when more lines follow and it does not
    end like a sentence or a lead-in."""
    return len(lines) > 1 and not first.rstrip().endswith((".", ":", ";", ","))


@register.filter
def notice_html(text: str) -> SafeString:
    """The notice's text as escaped HTML with headings, paragraphs and lists."""
    html: list[str] = []
    for block in text.strip().split("\n\n"):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if is_heading(lines[0], lines):
            html.append(f"<h2>{escape(lines[0])}</h2>")
            lines = lines[1:]
        items: list[str] = []
        for line in lines:
            if line.startswith("- "):
                items.append(f"<li>{escape(line[2:])}</li>")
                continue
            if items:
                html.append(f"<ul>{''.join(items)}</ul>")
                items = []
            html.append(f"<p>{escape(line)}</p>")
        if items:
            html.append(f"<ul>{''.join(items)}</ul>")
    return mark_safe("\n".join(html))  # every piece of text above is escaped
