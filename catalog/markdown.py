"""Offering descriptions: Markdown (CommonMark, raw HTML off) rendered, then sanitised with nh3.

Headings are renumbered to sit under the page's own h1 and h2 without gaps: the first heading of the
description becomes <h3> whatever its level, and each later one is one level below the nearest earlier
heading of a higher rank ("## A", "#### B", "### C", "# D" become h3, h4, h4, h3), at most <h6>; images become links to them (no outside resources on our pages); links may only be http(s) or
mailto and always get rel="nofollow noopener".
"""
import html
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup

TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
        "h3", "h4", "h5", "h6"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
TOP_HEADING = 3  # the page has its h1 and the description's own h2

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _image_as_link(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or token.attrGet("src") or ""
    return f'<a href="{escapeHtml(str(token.attrGet("src") or ""))}">{escapeHtml(alt)}</a>'


_md.add_render_rule("image", _image_as_link)


def _shift_headings(tokens, top: int = TOP_HEADING) -> None:
    """Renumber headings from `top` down, never skipping a level (axe's "heading-order")."""
    open_ranks: list[tuple[int, int]] = []  # (level written, level given) of the headings still "open"
    for token in tokens:
        if token.type == "heading_open":
            written = int(token.tag[1])
            while open_ranks and open_ranks[-1][0] >= written:
                open_ranks.pop()
            level = min(open_ranks[-1][1] + 1, 6) if open_ranks else top
            open_ranks.append((written, level))
            token.tag = f"h{level}"
        elif token.type == "heading_close":
            token.tag = f"h{open_ranks[-1][1]}"


# Rendering is a pure function of the text, so results are kept per process for the texts met most
# recently: a description read again (its page, its card, the search API) is not parsed and sanitised
# again, and an edited description is a different key.
CACHED_TEXTS = 512


def render(text: str | None, top: int = TOP_HEADING) -> Markup:
    """Safe HTML for a description written in Markdown; its first heading becomes <h`top`> (a page whose
    text follows its h1 directly, such as the terms, passes 2)."""
    if not text or not text.strip():
        return Markup("")
    return _render(str(text), top)


@lru_cache(maxsize=CACHED_TEXTS)
def _render(text: str, top: int) -> Markup:
    tokens = _md.parse(text)
    _shift_headings(tokens, top)
    html = _md.renderer.render(tokens, _md.options, {})
    tags = TAGS | {f"h{n}" for n in range(top, 7)}
    clean = nh3.clean(html, tags=tags, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                      link_rel="nofollow noopener", clean_content_tags={"script", "style"})
    return Markup(clean)


def plain(text: str | None, limit: int = 200) -> str:
    """The description as short plain text (for cards and structured data), cut at a word."""
    if not text:
        return ""
    return _plain(str(text), limit)


@lru_cache(maxsize=CACHED_TEXTS)
def _plain(text: str, limit: int) -> str:
    words = html.unescape(nh3.clean(str(render(text)), tags=set())).split()
    out = " ".join(words)
    if len(out) <= limit:
        return out
    return out[:limit].rsplit(" ", 1)[0] + "…"
