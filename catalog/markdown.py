"""Offering descriptions: Markdown (CommonMark, raw HTML off) rendered, then sanitised with nh3.

Headings are moved two levels down (a "# Title" becomes <h3>), since the description sits under the page's
own h1 and an h2; images become links to them (no outside resources on our pages); links may only be http(s) or
mailto and always get rel="nofollow noopener".
"""
import html

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup

TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
        "h3", "h4", "h5", "h6"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
HEADING_SHIFT = 2

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _image_as_link(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or token.attrGet("src") or ""
    return f'<a href="{escapeHtml(str(token.attrGet("src") or ""))}">{escapeHtml(alt)}</a>'


_md.add_render_rule("image", _image_as_link)


def _shift_headings(tokens) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + HEADING_SHIFT, 6)
            token.tag = f"h{level}"


def render(text: str | None) -> Markup:
    """Safe HTML for a description written in Markdown."""
    if not text or not text.strip():
        return Markup("")
    tokens = _md.parse(text)
    _shift_headings(tokens)
    html = _md.renderer.render(tokens, _md.options, {})
    clean = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                      link_rel="nofollow noopener", clean_content_tags={"script", "style"})
    return Markup(clean)


def plain(text: str | None, limit: int = 200) -> str:
    """The description as short plain text (for cards and structured data), cut at a word."""
    if not text:
        return ""
    words = html.unescape(nh3.clean(str(render(text)), tags=set())).split()
    out = " ".join(words)
    if len(out) <= limit:
        return out
    return out[:limit].rsplit(" ", 1)[0] + "…"
