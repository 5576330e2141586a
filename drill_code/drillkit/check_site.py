"""Prove that the built handbook shows exactly the code in drill_code/, and keeps the
drills' secrets.

Every embedded code block carries its source as its title: `path` for a whole file,
`path (region)` for a named region. This reads the built HTML, takes the text of each
such block, and compares it with the file as pymdownx.snippets would include it.

No planted flaw's title may appear where a learner reads it without asking: in a
collapsible's visible title (hint headings), in a table of contents, in a page's text
outside spoiler blocks, or in the site search index.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import lxml.html

from drillkit.catalog import PROJECT_ROOT, all_drills
from drillkit.errors import DrillError
from drillkit.site_hooks import first, select, text_of

CODE_BLOCKS = select("div.highlight")
FILENAME = select("span.filename")
CODE = select("code")
SPOILER_BLOCKS = select("details.spoiler, div.admonition.spoiler")
TITLES = select("summary, p.admonition-title")
TOC = select("nav.md-nav--secondary")
ARTICLE = select("article")

MARKER = re.compile(r"^\s*(?:#|//|<!--)?\s*-{1,}8<-{1,}\s*\[(start|end):([^\]]+)\]")
TITLE = re.compile(r"^(?P<path>[^\s()]+)(?: \((?P<region>[^)]+)\))?$")
# A Material code annotation marker appended to a line (`  # (3)!`): the theme's script
# turns it into a tooltip, so it is not part of the code the block shows.
ANNOTATION = re.compile(r"[ \t]*# \(\d+\)!$", re.M)


def expected_text(path: Path, region: str | None) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    if region is not None:
        starts = [i for i, line in enumerate(lines) if _marker(line) == ("start", region)]
        ends = [i for i, line in enumerate(lines) if _marker(line) == ("end", region)]
        if len(starts) != 1 or len(ends) != 1:
            raise DrillError(f"{path} has no single region named {region!r}.")
        lines = lines[starts[0] + 1 : ends[0]]
    return "\n".join(line for line in lines if not _marker(line)).strip("\n")


def _marker(line: str) -> tuple[str, str] | None:
    match = MARKER.match(line)
    return (match[1], match[2]) if match else None


# Languages a page may show without a source file: commands to type and captured output.
TYPED_LANGUAGES = {"bash", "console", "shell", "sh", "text"}


def check_site(site: Path) -> tuple[int, list[str]]:
    """Return (blocks checked against their files, problems).

    A problem is a block that differs from its file, a title naming a file that does not
    exist, or a code block with no source file at all, i.e. code typed into a page.
    """
    if not site.is_dir():
        raise DrillError(f"{site} does not exist: build the handbook first with `nox -s docs`.")
    checked, problems = 0, []
    pages = _parsed(site)  # each page parsed once, for both checks
    for name, page in pages.items():
        for block in CODE_BLOCKS(page):
            title = first(FILENAME, block)
            label = text_of(title).strip() if title is not None else ""
            if label.startswith("$ "):
                continue  # captured output of a command the page names
            match = TITLE.match(label)
            if match is None:
                language = _language(block)
                if language not in TYPED_LANGUAGES:
                    problems.append(
                        f"{name}: a {language or 'plain'} block with no source "
                        f"file, starting {text_of(block).strip()[:50]!r}: embed it from a file"
                    )
                continue
            source = PROJECT_ROOT / match["path"]
            if not source.is_file():
                problems.append(f"{name}: {label!r} names no file")
                continue
            shown = ANNOTATION.sub("", text_of(CODE(block)[0])).strip("\n")
            checked += 1
            if _visible(shown) != _visible(expected_text(source, match["region"])):
                problems.append(f"{name}: the block titled {label!r} differs from the file")
    problems += check_data_texts(pages)
    problems += check_spoilers(site, pages)
    from drillkit.vendor import check_mermaid

    problems += check_mermaid()
    return checked, problems


def _flat(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def flaw_titles() -> dict[str, str]:
    return {_flat(flaw.title): flaw.id for drill in all_drills() for flaw in drill.flaws}


def _outside_spoilers(page: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The page as a learner sees it before opening a spoiler: each spoiler block keeps
    only its title."""
    for block in SPOILER_BLOCKS(page):
        # lxml keeps text between children on the elements before it (the block's .text,
        # each child's .tail): the block's own text goes, and remove() takes a child's
        # tail with it.
        block.text = None
        for child in list(block):
            if child.tag == "summary" or (child.tag == "p" and "admonition-title" in child.classes):
                child.tail = None
            else:
                block.remove(child)
    return page


def check_data_texts(pages: dict[Path, lxml.html.HtmlElement]) -> list[str]:
    """Every flaw's title and why reads in the flaw table of its drill's page as written,
    and every wrong fix's summary and why in its block. Text from data that holds `<id>`
    or `<script>` and reaches the page unescaped becomes an element: the words vanish, or
    the rest of the page does."""
    from drillkit.variants import bank

    if not any(name.parts[:1] == ("drills",) for name in pages):
        return []  # a site without drill pages (the check's own tests build such sites)
    problems = []
    for drill in all_drills():
        page = pages.get(Path("drills") / drill.name / "index.html")
        if page is None:
            problems.append(f"drills/{drill.name}: the drill has no page in the site")
            continue

        cells, titles, paragraphs = (_texts(page, tag) for tag in ("td", "summary", "p"))
        texts = [
            (f"{f.id}'s {part}", getattr(f, part), cells)
            for f in drill.flaws
            for part in ("title", "why")
        ]
        for variant in bank(drill, "wrong-fix"):
            texts.append((f"{variant.name}'s summary", variant.summary, titles))
            texts.append((f"{variant.name}'s why", variant.why_wrong, paragraphs))
        for what, value, where in texts:
            wanted = _flat(value)
            if not any(wanted in text for text in where):
                problems.append(
                    f"drills/{drill.name}: {what} does not read on the page as written: "
                    f"{value[:60]!r}"
                )
    return problems


def _texts(page: lxml.html.HtmlElement, tag: str) -> list[str]:
    # No separator: code spans sit inside sentences.
    return [_flat(text_of(element)) for element in page.iter(tag)]


def parse(markup: str) -> lxml.html.HtmlElement:
    """A page of the site as a tree. lxml's C parser and XPath selectors check every page
    of the handbook in a fraction of the time a pure-Python tree takes."""
    return lxml.html.document_fromstring(markup)


def _parsed(site: Path) -> dict[Path, lxml.html.HtmlElement]:
    return {
        page.relative_to(site): parse(page.read_text(encoding="utf-8"))
        for page in sorted(site.rglob("*.html"))
    }


def check_spoilers(site: Path, pages: dict[Path, lxml.html.HtmlElement] | None = None) -> list[str]:
    """Flaw titles a learner could read without opening a spoiler. `pages` are the parsed
    pages, when the caller has them; they are changed (spoilers emptied)."""
    titles = flaw_titles()
    problems = []

    def scan(where: str, text: str) -> None:
        flat = _flat(text)
        problems.extend(
            f"{where} names {flaw_id} ({title!r}): keep it in a spoiler block"
            for title, flaw_id in titles.items()
            if title in flat
        )

    for name, page in (_parsed(site) if pages is None else pages).items():
        page = _outside_spoilers(page)
        for summary in TITLES(page):
            scan(
                f"{name}: the collapsible title {text_of(summary, ' ').strip()!r}",
                text_of(summary, " "),
            )
        for toc in TOC(page):
            scan(f"{name}: the table of contents", text_of(toc, " "))
        article = first(ARTICLE, page)
        if article is not None:
            scan(f"{name}: the page text outside spoilers", text_of(article, " "))
    index = site / "search" / "search_index.json"
    if index.is_file():
        for entry in json.loads(index.read_text(encoding="utf-8"))["docs"]:
            text = re.sub(r"<[^>]+>", " ", f"{entry.get('title', '')} {entry.get('text', '')}")
            scan(f"the search index entry {entry['location']!r}", text)
    return problems


def _visible(text: str) -> str:
    """Text as a reader sees it: Markdown drops trailing blanks, such as the lone space
    that marks an empty context line in a diff, and a block's blank last lines with it."""
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip("\n")


def _language(block) -> str:
    for css_class in block.classes:
        if css_class.startswith("language-"):
            return css_class.removeprefix("language-")
    return ""
