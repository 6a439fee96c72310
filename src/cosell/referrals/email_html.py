"""An HTML email body as plain-text lines, for an email that has no text/plain part.

The line structure a reader sees is kept, because the prospect readers work line by line:
``<br>``, ``<p>``, ``<div>``, ``<li>``, table rows and headings end a line; list items start with
``- ``; text inside ``<blockquote>`` (how Gmail, Apple Mail and Yahoo quote the message replied to)
gets a ``> `` per level, as a plain-text client would show it. Scripts, styles and the head are
dropped; entities are decoded; runs of spaces inside a line collapse as a browser collapses them,
except inside ``<pre>``. Built on the standard library's lenient ``html.parser``: any markup, however
broken, gives some lines and never an error.

>>> html_to_lines("<p>Hi Bob,</p><div>Meet <b>Jane&nbsp;Doe</b><br>VP Finance</div><ul><li>x</li></ul>")
['Hi Bob,', 'Meet Jane Doe', 'VP Finance', '- x']
"""

from __future__ import annotations

from html.parser import HTMLParser

# Tags that end the current line where they open and where they close. Table cells do not: a row
# "Company: | Globex" reads as one line.
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "fieldset",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "tbody", "tfoot", "thead", "tr", "ul",
})  # fmt: skip
_SKIPPED_TAGS = frozenset({"head", "script", "style", "title", "template", "noscript"})
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"})


class _Lines(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skipping: list[str] = []
        self.quote_depth = 0
        self.pre_depth = 0

    def _end_line(self, blank: bool = False) -> None:
        """End the line being built; ``blank`` keeps an empty one (a ``<br>`` on its own)."""
        raw = "".join(self.current)
        self.current = []
        if self.pre_depth:  # preformatted text keeps its own lines and spaces
            for line in raw.rstrip().split("\n") if raw.strip() else []:
                self.lines.append(("> " * self.quote_depth + line).rstrip())
            return
        text = " ".join(raw.replace("\u00a0", " ").split())
        if text or (blank and self.lines and self.lines[-1]):
            self.lines.append(("> " * self.quote_depth + text).rstrip() if text else "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping.append(tag)
            return
        if self.skipping:
            return
        if tag == "br":
            self._end_line(blank=True)
        elif tag in _BLOCK_TAGS:
            self._end_line()
            if tag == "li":
                self.current.append("- ")
            elif tag == "blockquote":
                self.quote_depth += 1
            elif tag == "pre":
                self.pre_depth += 1
            elif tag == "p" and self.lines and self.lines[-1]:
                self.lines.append("")  # a paragraph is set apart, as a text client shows it
        elif tag in ("td", "th"):
            self.current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1] or tag in self.skipping:
                while self.skipping and self.skipping.pop() != tag:
                    pass
            return
        if tag in _BLOCK_TAGS:
            self._end_line()
            if tag == "blockquote" and self.quote_depth:
                self.quote_depth -= 1
            elif tag == "pre" and self.pre_depth:
                self.pre_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.current.append(data if self.pre_depth else data.replace("\n", " "))


def html_to_lines(html: str) -> list[str]:
    """The text lines of an HTML document, as a plain-text mail client would show them; leading and
    trailing blank lines dropped, inner runs of blank lines kept to one."""
    parser = _Lines()
    parser.feed(html)
    parser.close()
    parser._end_line()
    lines = parser.lines
    while lines and not lines[-1]:
        lines.pop()
    return lines
