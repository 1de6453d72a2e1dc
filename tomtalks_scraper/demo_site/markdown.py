"""The small Markdown subset the demo issues are written in, rendered to HTML.

Paragraphs, ``##`` headings, ``-`` lists, ``>`` quotes, **bold**, *italic* and [links](url):
enough for realistic demo pages without another dependency.
"""

from __future__ import annotations

import html
import re

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")


def inline(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', escaped)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _ITALIC.sub(r"<em>\1</em>", escaped)


def to_html(markdown: str) -> str:
    """Render blank-line separated blocks."""
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", markdown.strip()) if b.strip()]
    rendered = []
    for block in blocks:
        lines = block.splitlines()
        if block.startswith("## "):
            rendered.append(f"<h2>{inline(block[3:].strip())}</h2>")
        elif all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{inline(line[2:].strip())}</li>" for line in lines)
            rendered.append(f"<ul>{items}</ul>")
        elif all(line.startswith(">") for line in lines):
            quoted = " ".join(line.lstrip("> ").strip() for line in lines)
            rendered.append(f"<blockquote><p>{inline(quoted)}</p></blockquote>")
        else:
            rendered.append(f"<p>{inline(' '.join(line.strip() for line in lines))}</p>")
    return "\n".join(rendered)
