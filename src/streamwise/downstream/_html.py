"""The HTML side of template compiling: keeping Jinja intact through CSS inlining, and text.

CSS is inlined into a template's *source*, once. The HTML5 parser inside ``css_inline`` would
mangle Jinja (escape ``<`` in ``{{ a < b }}``, move ``{% for %}`` out of a ``<table>``), so each
construct is first swapped for a placeholder the parser leaves in place: an HTML comment between
tags (comments stay where they are, even inside tables), a bare word inside an attribute value
or a comment. A construct between a tag's attributes is refused: the inliner may reorder
attributes. After inlining every placeholder must come back, or the template is refused.
"""

from __future__ import annotations

import re
import secrets
from html.parser import HTMLParser

from streamwise.errors import ConfigError

__all__ = ["TextMaker", "html_to_text", "protect", "restore", "tidy_text"]

_JINJA = re.compile(
    r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL
)
_BLANK_LINES = re.compile(r"[ \t]+\n|\n[ \t]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def tidy_text(text: str) -> str:
    """Trailing blanks off every line, at most one empty line in a row, one final newline."""
    return _MANY_NEWLINES.sub("\n\n", _BLANK_LINES.sub("\n", text)).strip() + "\n"


def advance(state: str, chunk: str) -> str:
    """Where the HTML scanner stands after ``chunk``: text, tag, comment or a quote character."""
    i, n = 0, len(chunk)
    while i < n:
        c = chunk[i]
        if state == "text":
            if chunk.startswith("<!--", i):
                state, i = "comment", i + 4
                continue
            if c == "<" and i + 1 < n and (chunk[i + 1].isalpha() or chunk[i + 1] in "/!?"):
                state = "tag"
        elif state == "comment":
            if chunk.startswith("-->", i):
                state, i = "text", i + 3
                continue
        elif state == "tag":
            state = c if c in "\"'" else "text" if c == ">" else "tag"
        elif c == state:
            state = "tag"
        i += 1
    return state


def protect(source: str, what: str) -> tuple[str, list[str], str]:
    """Swap Jinja constructs for placeholders the HTML parser leaves alone: an HTML comment
    between tags, a bare word inside an attribute value or a comment."""
    nonce = "jx" + secrets.token_hex(4)
    parts: list[str] = []
    found: list[str] = []
    state, pos = "text", 0
    for match in _JINJA.finditer(source):
        chunk = source[pos : match.start()]
        state = advance(state, chunk)
        if state == "tag":
            raise ConfigError(
                f"{what}: {match.group(0)} sits between a tag's attributes, where CSS inlining "
                "may reorder it; put it inside a quoted attribute value "
                '(class="{% if vip %}vip{% endif %}") or around the whole element'
            )
        parts.append(chunk)
        i = len(found)
        parts.append(f"<!--{nonce}:{i}-->" if state == "text" else f"{nonce}t{i}x")
        found.append(match.group(0))
        pos = match.end()
    parts.append(source[pos:])
    return "".join(parts), found, nonce


def restore(text: str, found: list[str], nonce: str, *, what: str | None) -> str:
    """Put the Jinja constructs back; unless ``what`` is None, refuse when one was lost."""
    pattern = re.compile(rf"<!--{nonce}:(\d+)-->|&lt;!--{nonce}:(\d+)--&gt;|{nonce}t(\d+)x")
    seen: list[int] = []

    def put(m: re.Match[str]) -> str:
        i = int(next(g for g in m.groups() if g is not None))
        seen.append(i)
        return found[i]

    out = pattern.sub(put, text)
    if what is not None and sorted(seen) != list(range(len(found))):
        lost = [found[i] for i in range(len(found)) if i not in seen]
        raise ConfigError(
            f"{what}: Jinja construct(s) {', '.join(lost[:3])} did not survive CSS inlining; keep "
            "Jinja out of <style> (CSS must be static) and inside the document's elements"
        )
    return out


class TextMaker(HTMLParser):
    """HTML to plain text: blocks become lines, links keep their URL, placeholders pass."""

    _BLOCK = frozenset(
        {"p", "div", "br", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
        | {"blockquote", "hr", "section", "article", "header", "footer", "center"}
    )
    _SKIP = frozenset({"style", "script", "head", "title"})

    def __init__(self, nonce: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce, self.out, self.skip, self.link = nonce, [], 0, None  # type: ignore[var-annotated]
        self.link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skip += 1
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in self._BLOCK:
            self.out.append("\n\n" if tag in ("p", "table", "h1", "h2", "h3") else "\n")
        elif tag == "a":
            self.link = dict(attrs).get("href") or ""
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self._BLOCK and tag != "br":
            self.out.append("\n")
        elif tag == "a" and self.link is not None:
            href, self.link = self.link.strip(), None
            label = "".join(self.link_text).strip()
            shown = href.removeprefix("mailto:")
            if href and not href.startswith(("#", "javascript:")) and shown != label:
                self.out.append(f" ({shown})" if label else shown)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = re.sub(r"\s+", " ", data)
        if self.nonce is not None and "{" in text:
            text = text.replace("{", "\x01")  # escaped after the placeholders are back
        self.out.append(text)
        if self.link is not None:
            self.link_text.append(text)

    def handle_comment(self, data: str) -> None:
        if self.nonce is not None and data.startswith(self.nonce + ":") and not self.skip:
            self.out.append(f"<!--{data}-->")
            if self.link is not None:
                self.link_text.append(f"<!--{data}-->")

    def text(self) -> str:
        return tidy_text("".join(self.out))


def html_to_text(html: str) -> str:
    """Plain text from rendered HTML: tags dropped, blocks on their own lines, link URLs kept."""
    maker = TextMaker(None)
    maker.feed(html)
    maker.close()
    return maker.text()
