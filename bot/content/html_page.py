"""A saved web page reduced to its article, as Markdown, before the page parser reads it.

trafilatura finds the main text and leaves navigation, ads, comment threads and "related
articles" behind; its Markdown keeps lists, code blocks and tables. What it left behind is counted
block by block so `--dry-run` can say how much of the page was not the article.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import trafilatura
from lxml import etree
from lxml.html import HtmlElement

from bot.content.structure import Dropped

# Elements that hold a block of text a reader sees as one piece.
_BLOCK_TAGS = frozenset({
    "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "td", "th", "dt", "dd", "blockquote",
    "figcaption", "caption", "div", "section", "aside", "nav", "header", "footer",
})
_INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})
_NOT_TEXT = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class PageText:
    title: str
    markdown: str
    dropped: tuple[Dropped, ...]  # the page's own blocks that are not part of the article


class PageError(Exception):
    """The page cannot be read, or has no article in it; the message says which."""


def page_to_markdown(data: bytes) -> PageText:
    """The article of an HTML page as Markdown, with its title and the blocks left out."""
    # trafilatura logs every page it finds no article in; the caller reports that itself.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    tree = trafilatura.load_html(data)
    if tree is None:
        raise PageError("not an HTML page that can be read")
    markdown = trafilatura.extract(
        data,
        output_format="markdown",
        include_tables=True,
        include_formatting=True,
        include_links=False,
        include_images=False,
        include_comments=False,
        favor_recall=True,
    )
    if not markdown or not markdown.strip():
        raise PageError("no article text found in the page")
    metadata = trafilatura.extract_metadata(tree)
    title = (metadata.title or "").strip() if metadata else ""
    return PageText(title, _with_code_languages(markdown, tree), _left_out(tree, markdown))


def _with_code_languages(markdown: str, tree: HtmlElement) -> str:
    """Put back the languages of code blocks (`class="language-python"`), which the extraction
    drops; only when the page's code blocks and the Markdown's fences pair up one to one."""
    languages = [_code_language(pre) for pre in tree.iter("pre")]
    lines = markdown.split("\n")
    openings = [i for i, line in enumerate(lines) if line.strip() == "```"][::2]
    if len(openings) != len(languages) or not any(languages):
        return markdown
    for index, language in zip(openings, languages, strict=True):
        lines[index] = lines[index].rstrip() + language
    return "\n".join(lines)


def _code_language(pre: HtmlElement) -> str:
    for element in (pre, *pre.iter("code")):
        for name in (element.get("class") or "").split():
            if name.startswith(("language-", "lang-")):
                return name.split("-", 1)[1]
    return ""


def _left_out(tree: HtmlElement, markdown: str) -> tuple[Dropped, ...]:
    """Text blocks of the page whose words never made it into the article."""
    kept = _NOT_TEXT.sub("", markdown)
    dropped: list[Dropped] = []
    for element in _leaf_blocks(tree):
        text = " ".join(element.text_content().split())
        key = _NOT_TEXT.sub("", text)
        if key and key not in kept:
            dropped.append(Dropped("page", 0, text))
    return tuple(dropped)


def _leaf_blocks(tree: HtmlElement) -> list[HtmlElement]:
    """The innermost text blocks: a block counts once, not again for every element around it."""
    body = tree.find(".//body")
    root = body if body is not None else tree
    leaves: list[HtmlElement] = []
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag not in _BLOCK_TAGS:
            continue
        if any(a.tag in _INVISIBLE_TAGS for a in element.iterancestors()):
            continue
        inner = (e for e in element.iterdescendants() if isinstance(e.tag, str))
        if any(e.tag in _BLOCK_TAGS and _own_text(e) for e in inner):
            continue
        if _own_text(element):
            leaves.append(element)
    return leaves


def _own_text(element: etree._Element) -> bool:
    return bool(" ".join(element.itertext()).strip())
