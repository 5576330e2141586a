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

from bs4 import BeautifulSoup

SPOILER = "spoiler"
HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
LABEL_LENGTH = 120


def mark_spoilers(soup: BeautifulSoup) -> set[str]:
    """Exclude spoiler blocks from search and label them; return their headings' ids."""
    hidden: set[str] = set()
    for block in soup.select(f"details.{SPOILER}, div.admonition.{SPOILER}"):
        block["data-search-exclude"] = ""
        for heading in block.find_all(HEADINGS):
            heading["data-search-exclude"] = ""
            if heading.get("id"):
                hidden.add(heading["id"])
        title = block.find(["summary", "p"], recursive=False)
        if title is not None and not title.select_one(".spoiler-label"):
            label = soup.new_tag("span", attrs={"class": "spoiler-label"})
            label.string = "Spoiler"
            title.insert(0, label)
    return hidden


def label_checkboxes(soup: BeautifulSoup) -> None:
    """pymdownx.tasklist renders a checkbox with no name; name it after its item."""
    for item in soup.select("li.task-list-item"):
        box = item.select_one("input[type=checkbox]")
        if box is None or box.get("aria-label"):
            continue
        text = " ".join(item.get_text(" ").split())
        box["aria-label"] = text[:LABEL_LENGTH] + ("…" if len(text) > LABEL_LENGTH else "")


def _drop(items: list, ids: set[str]) -> list:
    kept = []
    for item in items:
        if item.id in ids:
            continue
        item.children = _drop(item.children, ids)
        kept.append(item)
    return kept


def on_page_content(html: str, page, config, files) -> str:
    if "task-list-item" not in html and SPOILER not in html:
        return html
    # lxml builds the tree several times faster than html.parser. The fragment goes in a
    # body of its own, so a leading <script> or <style> stays where it was rather than
    # moving to a <head>, and only the body's contents go back.
    soup = BeautifulSoup(f"<html><body>{html}</body></html>", "lxml")
    hidden = mark_spoilers(soup)
    label_checkboxes(soup)
    if hidden and page.toc is not None:
        page.toc.items = _drop(page.toc.items, hidden)
    return soup.body.decode_contents()
