"""Prove that the built handbook shows exactly the code in drill_code/.

Every embedded code block carries its source as its title: `path` for a whole file,
`path (region)` for a named region. This reads the built HTML, takes the text of each
such block, and compares it with the file as pymdownx.snippets would include it.
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

from drillkit.catalog import PROJECT_ROOT
from drillkit.errors import DrillError

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
    for page in sorted(site.rglob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for block in soup.select("div.highlight"):
            title = block.select_one("span.filename")
            label = title.get_text().strip() if title else ""
            if label.startswith("$ "):
                continue  # captured output of a command the page names
            match = TITLE.match(label)
            if match is None:
                language = _language(block)
                if language not in TYPED_LANGUAGES:
                    problems.append(
                        f"{page.relative_to(site)}: a {language or 'plain'} block with no source "
                        f"file, starting {block.get_text().strip()[:50]!r}: embed it from a file"
                    )
                continue
            source = PROJECT_ROOT / match["path"]
            if not source.is_file():
                problems.append(f"{page.relative_to(site)}: {label!r} names no file")
                continue
            shown = ANNOTATION.sub("", block.find("code").get_text()).strip("\n")
            checked += 1
            if _visible(shown) != _visible(expected_text(source, match["region"])):
                problems.append(
                    f"{page.relative_to(site)}: the block titled {label!r} differs from the file"
                )
    return checked, problems


def _visible(text: str) -> str:
    """Text as a reader sees it: Markdown drops trailing blanks, such as the lone space
    that marks an empty context line in a diff."""
    return "\n".join(line.rstrip() for line in text.splitlines())


def _language(block) -> str:
    for css_class in block.get("class", []):
        if css_class.startswith("language-"):
            return css_class.removeprefix("language-")
    return ""
