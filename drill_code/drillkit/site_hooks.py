"""MkDocs hooks: what every rendered page gets, whoever wrote it.

Spoilers are marked once. A collapsible block whose type includes `spoiler`
(`??? danger spoiler "..."`, or `docs.spoiler()` from a macro) is:
- kept out of site search (`data-search-exclude` on the block and on every heading in it),
- kept out of the page's table of contents (its headings are dropped from `page.toc`),
- labelled "Spoiler" in its visible title, so a learner knows what opening it costs.

It also gives generated markup what assistive technology needs: the task-list checkboxes
of the review checklist get their item's text as a label.
"""

from __future__ import annotations

import html

import lxml.etree
import lxml.html
from cssselect import HTMLTranslator

SPOILER = "spoiler"
LABEL_LENGTH = 120


def select(css: str) -> lxml.etree.XPath:
    """A CSS selector compiled once to the XPath lxml runs in C. Called on an element, it
    returns the matching elements below it in document order, never the element itself
    (which lxml's own CSSSelector would also match)."""
    return lxml.etree.XPath(HTMLTranslator().css_to_xpath(css, prefix="descendant::"))


SPOILER_BLOCKS = select(f"details.{SPOILER}, div.admonition.{SPOILER}")
HEADINGS = select("h1, h2, h3, h4, h5, h6")
LABELS = select(".spoiler-label")
TASK_ITEMS = select("li.task-list-item")
CHECKBOX = select("input[type=checkbox]")
# An element's text as the checks read it: every text node below it (comments are none),
# except the contents of script, style and template, which are code or inert markup, and
# of ruby annotations (rt, rp), as BeautifulSoup's get_text() read it when check_site.py's
# rules were written. (It also shortened each run of blanks between tags to one; every
# check splits those away, so only the quoted start of a message can show the difference.)
UNREAD = ("script", "style", "template", "rt", "rp")
ALL_TEXT = lxml.etree.XPath("descendant::text()", smart_strings=False)
READ_TEXT = lxml.etree.XPath(
    "descendant::text()[not(" + " or ".join(f"ancestor::{tag}" for tag in UNREAD) + ")]",
    smart_strings=False,
)


def text_of(element, separator: str = "") -> str:
    """The element's text nodes joined with `separator`, as they are in the source."""
    # Filtering every text node by its ancestors costs several times more than taking
    # them all, on a whole page; pages rarely hold an unread element, so look first.
    unread = next(element.iter(*UNREAD), None) is not None or any(
        ancestor.tag in UNREAD for ancestor in element.iterancestors()
    )
    return separator.join((READ_TEXT if unread else ALL_TEXT)(element))


def first(selector: lxml.etree.XPath, element):
    """The first element below `element` that `selector` matches, or None."""
    found = selector(element)
    return found[0] if found else None


def mark_spoilers(root) -> set[str]:
    """Exclude spoiler blocks from search and label them; return their headings' ids."""
    hidden: set[str] = set()
    for block in SPOILER_BLOCKS(root):
        block.set("data-search-exclude", "")
        for heading in HEADINGS(block):
            heading.set("data-search-exclude", "")
            if heading.get("id"):
                hidden.add(heading.get("id"))
        title = next((child for child in block if child.tag in ("summary", "p")), None)
        if title is not None and first(LABELS, title) is None:
            label = lxml.html.Element("span", {"class": "spoiler-label"})
            label.text = "Spoiler"
            # lxml keeps an element's leading text on the element itself: the title's
            # words become the label's tail so that they read after it.
            label.tail, title.text = title.text, None
            title.insert(0, label)
    return hidden


def label_checkboxes(root) -> None:
    """pymdownx.tasklist renders a checkbox with no name; name it after its item."""
    for item in TASK_ITEMS(root):
        box = first(CHECKBOX, item)
        if box is None or box.get("aria-label"):
            continue
        words = " ".join(text_of(item, " ").split())
        label = words[:LABEL_LENGTH] + ("…" if len(words) > LABEL_LENGTH else "")
        box.set("aria-label", label)


def _drop(items: list, ids: set[str]) -> list:
    kept = []
    for item in items:
        if item.id in ids:
            continue
        item.children = _drop(item.children, ids)
        kept.append(item)
    return kept


def on_page_content(html_text: str, page, config, files) -> str:
    if "task-list-item" not in html_text and SPOILER not in html_text:
        return html_text
    # The fragment goes in a body of its own, so a leading <script> or <style> stays where
    # it was rather than moving to a <head>, and only the body's contents go back.
    body = lxml.html.document_fromstring(f"<html><body>{html_text}</body></html>").body
    hidden = mark_spoilers(body)
    label_checkboxes(body)
    if hidden and page.toc is not None:
        page.toc.items = _drop(page.toc.items, hidden)
    # Text before the first element is the body's own .text, which tostring() of the
    # children does not include: it is escaped here as the serialiser escapes text.
    return html.escape(body.text or "", quote=False) + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in body
    )
