"""The handbook as readers see it, checked in a real browser: `nox -s browser`.

Builds the site as a GitHub Pages project site would serve it (under /handbook/), serves it
on 127.0.0.1 with no network beyond, and drives the system's Chromium (through Playwright)
through every page at desktop (1366x900) and phone (390x844) width, in the light and the
dark scheme. A page fails on:

- a console error (the one allowed exception is ALLOWED_CONSOLE_ERROR) or an uncaught error;
- a request that fails, answers 4xx/5xx, or leaves 127.0.0.1 (the handbook works offline);
- content wider than the viewport, outside elements meant to scroll;
- raw macro or Markdown text in the rendered page;
- a content tab or a code annotation that does not open when clicked;
- an axe-core violation caused by the handbook's content (the theme's own are counted apart,
  see THEME_FINDINGS);
- a planted flaw's title visible without opening a spoiler;
- a drill page taller than MAX_SCREENS desktop screens with its collapsibles closed.

Site search must also find each drill's page by a word from its title. A screenshot of every
page in every mode goes to .cache/browser/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from drillkit import remember
from drillkit.catalog import PROJECT_ROOT, all_drills

PREFIX = "/handbook/"  # served like a Pages project site, so site_url is exercised
OUTPUT = PROJECT_ROOT / ".cache" / "browser"
VIEWPORTS = {"desktop": (1366, 900), "phone": (390, 844)}
SCHEMES = ("light", "dark")
MAX_SCREENS = 12
PARALLEL = 3
# What each mode checks. The desktop light pass does everything; the others add what can
# differ there (layout on a phone, colours in the dark scheme), so the run stays short.
CHECKS = {
    "desktop-light": {"overflow", "text", "height", "axe", "interact", "full-shot"},
    "desktop-dark": {"axe"},  # contrast only, see check_page
    "phone-light": {"overflow", "text", "full-shot"},
    "phone-dark": {"overflow"},
}
# The 404 page is served for a missing address with status 404, and Chromium logs that
# status as a console error for the document itself. It is the point of that page.
ALLOWED_CONSOLE_ERROR = "Failed to load resource: the server responded with a status of 404"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # Chromium refuses to start as root (CI, containers) without it
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# axe-core findings that come from mkdocs-material's own markup on every page, not from
# anything the handbook writes. (rule id, CSS selector fragment of the node) -> why.
THEME_FINDINGS = {
    ("aria-dialog-name", ".md-search"): "the theme's search dialog has no accessible name",
    ("scrollable-region-focusable", ".tabbed-labels"): (
        "the theme's tab bar scrolls when a block has many tabs; its labels are reached "
        "through the theme's hidden radio inputs, not focused themselves"
    ),
}
# The theme's palette (syntax colours, muted text) sits at 4.44-4.48:1, just under axe's
# 4.5:1; the handbook adds no colours of its own to text.
THEME_CONTRAST = (4.4, 4.5)
# Theme-generated parts inside the content area: code toolbars and copy buttons.
THEME_NODES = (
    ".md-clipboard",
    ".md-code__",
    ".md-search",
    ".md-header",
    ".md-footer",
    ".md-nav",
    ".md-sidebar",
    ".md-top",
    ".md-tabs",
    ".md-dialog",
    ".md-source",
)
# Markdown or macro syntax that must never survive into a rendered page's text.
RAW_PATTERNS = ("{{", "}}", "{%", "%}", "--8<--", "```", "!!! ", "??? ", '=== "', "](")


class BrowserMissing(Exception):
    pass


def find_chromium() -> str:
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(
        "The browser check needs Chromium, and none was found. On Debian or Ubuntu: "
        "`sudo apt-get install -y chromium chromium-driver`; on macOS: `brew install "
        "--cask chromium`; or point CHROMIUM at any Chrome or Chromium binary. "
        "(Playwright's own `playwright install` is not needed.)"
    )


@dataclass
class PageReport:
    url: str
    mode: str
    problems: list[str] = field(default_factory=list)
    theme_findings: int = 0
    theme_rules: dict[str, int] = field(default_factory=dict)
    own_findings: int = 0
    screens: float = 0.0


# --- serving ------------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site under PREFIX, and its 404.html for anything missing, as Pages does."""

    def translate_path(self, path):
        path = urlsplit(path).path
        if path.startswith(PREFIX):
            path = "/" + path[len(PREFIX) :]
        return super().translate_path(path)

    def send_head(self):
        path = urlsplit(self.path).path
        target = Path(self.translate_path(self.path))
        if not path.startswith(PREFIX) or not (
            target.is_file() or (target / "index.html").is_file()
        ):
            body = (Path(self.directory) / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            import io

            return io.BytesIO(body)
        return super().send_head()

    def log_message(self, *args):  # quiet: problems are reported by the check itself
        pass


@contextlib.contextmanager
def serve(folder: Path, port: int = 0):
    handler = functools.partial(_Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_site(folder: Path, site_url: str) -> None:
    env = {**os.environ, "SITE_URL": site_url, "NO_MKDOCS_2_WARNING": "1"}
    env["PYTHONPATH"] = str(PROJECT_ROOT / "drill_code")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(folder)],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
    )


def site_pages(folder: Path) -> list[str]:
    """Every page's address relative to the site root, plus a missing one for 404.html."""
    pages = sorted(
        str(p.parent.relative_to(folder)).replace(".", "") + "/"
        for p in folder.rglob("index.html")
        if "search" not in p.parts and "assets" not in p.parts
    )
    return [page.lstrip("/") for page in pages] + ["no-such-page/"]


# --- in-page checks -------------------------------------------------------------------------

# Elements wider than the viewport, unless an ancestor scrolls them (tables, code blocks).
OVERFLOW_JS = r"""() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width + 1) return [];
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1 && !scrolls(el)) {
      const classes = typeof el.className === 'string' && el.className ?
        '.' + el.className.trim().split(/\s+/).join('.') : '';
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes +
               ` (right edge ${Math.round(r.right)} px)`);
      if (out.length >= 3) break;
    }
  }
  return out.length ? out : ['the page scrolls sideways'];
}"""
# The page's prose as text, code and scripts left out (they may show `{{ }}` legitimately).
PROSE_JS = """() => {
  const root = (document.querySelector('article') || document.body).cloneNode(true);
  root.querySelectorAll('pre, code, script, style, .md-annotation').forEach(e => e.remove());
  return root.textContent;
}"""
# Text a reader sees without opening anything: closed <details> render only their summary.
VISIBLE_JS = "() => document.body.innerText"
HEIGHT_JS = "() => document.documentElement.scrollHeight / window.innerHeight"


# Material makes a code block or table that scrolls sideways focusable (tabindex) from a
# resize observer, a moment after load: axe must not look before it has.
SETTLED_JS = """() => [...document.querySelectorAll('pre > code, .md-typeset__table')]
  .filter(el => el.scrollWidth > el.clientWidth && el.offsetParent !== null)
  .every(el => el.hasAttribute('tabindex') || el.closest('[tabindex]'))"""


async def _settle(page) -> None:
    with contextlib.suppress(Exception):  # if it never settles, axe reports what it sees
        await page.wait_for_function(SETTLED_JS, timeout=10000)


# Labels that more than one visible tab set has: content.tabs.link must keep them in step.
LINKED_TABS_JS = """() => {
  const counts = {};
  for (const set of document.querySelectorAll('.tabbed-set')) {
    if (!set.offsetParent) continue;
    for (const label of set.querySelectorAll(':scope > .tabbed-labels > label'))
      counts[label.innerText.trim()] = (counts[label.innerText.trim()] || 0) + 1;
  }
  const names = Object.keys(counts);
  // "SQLite" beside "SQLite (in memory)": meant to be one choice, but never linked.
  const first = (name) => name.split(/[ :(]/)[0];
  const near = names.filter(a => names.some(b => a !== b && first(a) === first(b)));
  return {names: names.filter(name => counts[name] > 1), near};
}"""
# How many visible sets have the label but show another tab.
LINKED_CHECK_JS = """(name) => [...document.querySelectorAll('.tabbed-set')]
  .filter(set => set.offsetParent)
  .filter(set => [...set.querySelectorAll(':scope > .tabbed-labels > label')]
    .some(label => label.innerText.trim() === name))
  .filter(set => {
    const labels = [...set.querySelectorAll(':scope > .tabbed-labels > label')];
    const inputs = [...set.querySelectorAll(':scope > input')];
    const at = labels.findIndex(label => label.innerText.trim() === name);
    return !(inputs[at] && inputs[at].checked);
  }).length"""


async def _check_tabs(page) -> list[str]:
    problems = []
    sets = await page.query_selector_all(".tabbed-set")
    for index, tabbed in enumerate(sets):
        if not await tabbed.is_visible():
            continue
        labels = await tabbed.query_selector_all(":scope > .tabbed-labels > label")
        blocks = await tabbed.query_selector_all(":scope > .tabbed-content > .tabbed-block")
        for label, block in zip(labels, blocks, strict=False):
            name = (await label.inner_text()).strip()
            await label.click()
            if not await block.is_visible():
                problems.append(f"content tab {name!r} (set {index + 1}) does not open")
    # content.tabs.link: choosing a label in one set chooses it in every set that has it.
    linked = await page.evaluate(LINKED_TABS_JS)
    if linked["near"]:
        problems.append(
            f"tab labels {sorted(linked['near'])} differ only after their first word: label "
            "them identically so content.tabs.link keeps them in step"
        )
    for name in linked["names"]:
        await page.locator(
            ".tabbed-set:visible > .tabbed-labels > label", has_text=name
        ).first.click()
        unlinked = await page.evaluate(LINKED_CHECK_JS, name)
        if unlinked:
            problems.append(
                f"choosing the {name!r} tab does not choose it in {unlinked} other sets"
            )
    return problems


async def _check_annotations(page) -> list[str]:
    problems = []
    await page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    markers = await page.query_selector_all(".md-annotation__index")
    for marker in markers[:3]:  # one per code block is enough to prove the script runs
        if not await marker.is_visible():
            continue
        await marker.click(force=True)  # the marker pulses, so it is never "stable"
        try:
            await page.wait_for_selector(
                ".md-annotation .md-tooltip--active, .md-annotation--active .md-tooltip",
                timeout=3000,
            )
        except Exception:
            problems.append("a code annotation does not open when its marker is clicked")
        await page.keyboard.press("Escape")
    if await page.query_selector(".annotate") and not markers:
        problems.append("a code block has annotations but no markers were rendered")
    return problems


def _classify(violations: list[dict]) -> tuple[list[str], dict[str, int]]:
    """Split axe violations into the handbook's own (returned as messages) and the
    theme's (counted per rule)."""
    own, theme = [], {}
    for violation in violations:
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node.get("target", []))
            html = node.get("html", "")
            ratio = (node.get("any") or [{}])[0].get("data") or {}
            ratio = ratio.get("contrastRatio", 0) if isinstance(ratio, dict) else 0
            if (
                any(
                    rule == violation["id"] and fragment in (target + html)
                    for rule, fragment in THEME_FINDINGS
                )
                or any(part in target for part in THEME_NODES)
                or (
                    violation["id"] == "color-contrast"
                    and THEME_CONTRAST[0] <= ratio < THEME_CONTRAST[1]
                )
            ):
                theme[violation["id"]] = theme.get(violation["id"], 0) + 1
            else:
                own.append(f"axe {violation['id']}: {violation['help']} at {target}")
    return own, theme


async def check_page(
    browser,
    url: str,
    mode: str,
    *,
    flaw_titles=(),
    axe_script: str,
    shots: Path | None,
    screens_limit: float | None = None,
    checks=None,
) -> PageReport:
    view, scheme = mode.split("-")
    checks = CHECKS[mode] if checks is None else checks
    width, height = VIEWPORTS[view]
    report = PageReport(url=url, mode=mode)
    context = await browser.new_context(
        viewport={"width": width, "height": height}, color_scheme=scheme, service_workers="block"
    )
    context.set_default_timeout(5000)  # a click or a wait: a broken control fails fast
    context.set_default_navigation_timeout(60000)  # loading, on a busy 2-core machine
    page = await context.new_page()
    origin = urlsplit(url)
    is_missing_page = url.rstrip("/").endswith("no-such-page")

    async def route(request_route):
        if urlsplit(
            request_route.request.url
        ).netloc != origin.netloc and not request_route.request.url.startswith("data:"):
            report.problems.append(f"request leaves the machine: {request_route.request.url}")
            await request_route.abort()
        else:
            await request_route.continue_()

    await page.route("**/*", route)

    def on_console(message):
        if message.type != "error":
            return
        if is_missing_page and ALLOWED_CONSOLE_ERROR in message.text:
            return
        report.problems.append(f"console error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: report.problems.append(f"uncaught error: {error}"))
    page.on(
        "requestfailed",
        lambda r: (
            report.problems.append(f"request failed: {r.url} ({r.failure})")
            if not r.url.startswith("data:")
            else None
        ),
    )

    def on_response(response):
        if response.status >= 400 and not (is_missing_page and response.url == url):
            report.problems.append(f"HTTP {response.status}: {response.url}")

    page.on("response", on_response)
    try:
        await page.goto(url, wait_until="networkidle")
        if "overflow" in checks:
            for problem in await page.evaluate(OVERFLOW_JS):
                report.problems.append(f"wider than the {width} px viewport: {problem}")
        if "text" in checks:
            prose = await page.evaluate(PROSE_JS)
            for pattern in RAW_PATTERNS:
                if pattern in prose:
                    at = prose.index(pattern)
                    snippet = " ".join(prose[max(at - 30, 0) : at + 30].split())
                    report.problems.append(f"raw Markdown or macro text {pattern!r}: …{snippet}…")
            visible = " ".join((await page.evaluate(VISIBLE_JS)).split())
            for title in flaw_titles:
                if title in visible:
                    report.problems.append(
                        f"a flaw's title is visible outside a spoiler: {title!r}"
                    )
        if "height" in checks:
            report.screens = round(await page.evaluate(HEIGHT_JS), 1)
            if screens_limit and report.screens > screens_limit:
                report.problems.append(
                    f"{report.screens} desktop screens tall with its collapsibles closed "
                    f"(at most {screens_limit})"
                )
        if "axe" in checks:
            await _settle(page)
            await page.evaluate(axe_script)
            # The dark scheme changes colours only: its pass checks contrast alone.
            only = "runOnly: ['color-contrast'], " if scheme == "dark" else ""
            axe = await page.evaluate(f"axe.run(document, {{{only}resultTypes: ['violations']}})")
            own, report.theme_rules = _classify(axe["violations"])
            report.theme_findings = sum(report.theme_rules.values())
            report.own_findings = len(own)
            report.problems.extend(own)
        if shots is not None:
            name = (urlsplit(url).path.strip("/").replace("/", "_") or "home") + f"-{mode}.png"
            await page.screenshot(
                path=str(shots / name), full_page="full-shot" in checks, timeout=60000
            )
        if "interact" in checks:
            report.problems.extend(await _check_tabs(page))
            report.problems.extend(await _check_annotations(page))
    except Exception as error:  # report it with the page, and check the other pages
        report.problems.append(f"the check could not finish: {str(error).splitlines()[0]}")
    finally:
        await context.close()
    return report


async def check_search(browser, base: str, terms: dict[str, str]) -> list[str]:
    """Site search finds each drill's page by a word from its title."""
    problems = []
    context = await browser.new_context(viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    await page.goto(base, wait_until="networkidle")
    await page.keyboard.press("s")  # Material's shortcut: open the search dialog
    box = page.locator("input.md-search__input")
    for page_path, term in terms.items():
        await box.fill("")
        await box.press_sequentially(term)  # Material searches on key events, not on fill
        try:
            await page.wait_for_selector(
                f".md-search-result__item a[href*='{page_path}']", timeout=15000
            )
        except Exception:
            meta = await page.inner_text(".md-search-result__meta")
            problems.append(f"search for {term!r} does not find {page_path} ({meta.strip()})")
    await context.close()
    return problems


def flaw_titles() -> list[str]:
    return [" ".join(flaw.title.replace("`", "").split()) for d in all_drills() for flaw in d.flaws]


def search_terms() -> dict[str, str]:
    """A distinctive word from each drill's title, with the page it must find."""
    terms = {}
    for drill in all_drills():
        words = [w.strip("&,:") for w in drill.title.split() if len(w.strip("&,:")) > 3]
        terms[f"drills/{drill.name}/"] = max(words, key=len)
    return terms


async def run_checks(
    base: str,
    pages: list[str],
    *,
    chromium: str,
    shots: Path | None,
    with_search: bool = True,
    modes=None,
    screens_limit=MAX_SCREENS,
    titles=None,
    parallel: int = PARALLEL,
):
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    axe_script = Axe().axe_script
    titles = flaw_titles() if titles is None else titles
    modes = modes or [f"{v}-{s}" for v in VIEWPORTS for s in SCHEMES]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        gate = asyncio.Semaphore(parallel)

        async def one(page_path: str, mode: str) -> PageReport:
            async with gate:
                return await check_page(
                    browser,
                    base + page_path,
                    mode,
                    flaw_titles=titles,
                    axe_script=axe_script,
                    shots=shots,
                    screens_limit=screens_limit if page_path.startswith("drills/") else None,
                )

        reports = await asyncio.gather(*(one(p, m) for p in pages for m in modes))
        search_problems = await check_search(browser, base, search_terms()) if with_search else []
        await browser.close()
    return list(reports), search_problems


def summary_table(reports: list[PageReport]) -> str:
    by_page: dict[str, dict[str, PageReport]] = {}
    for report in reports:
        by_page.setdefault(urlsplit(report.url).path, {})[report.mode] = report
    modes = sorted({r.mode for r in reports})
    lines = ["page | screens (desktop) | axe: own / theme per mode (" + ", ".join(modes) + ")"]
    for path, per_mode in by_page.items():
        desktop = per_mode.get("desktop-light")
        counts = ", ".join(
            f"{per_mode[m].own_findings}/{per_mode[m].theme_findings}"
            for m in modes
            if m in per_mode
        )
        lines.append(f"{path} | {desktop.screens if desktop else '-'} | {counts}")
    rules: dict[str, int] = {}
    for report in reports:
        for rule, count in report.theme_rules.items():
            rules[rule] = rules.get(rule, 0) + count
    lines.append(
        "the theme's own axe findings, all pages and modes: "
        + (", ".join(f"{rule} {count}" for rule, count in sorted(rules.items())) or "none")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drillkit.browsercheck")
    parser.add_argument("--site", type=Path, help="check this built site instead of building")
    parser.add_argument("--json", type=Path, help="write every page's report as JSON")
    options = parser.parse_args(argv)
    try:
        chromium = find_chromium()
    except BrowserMissing as missing:
        print(f"\n{missing}\n", file=sys.stderr)
        if os.environ.get("CI") == "true":
            print("Under CI=true a missing browser fails the check.", file=sys.stderr)
            return 1
        print("Skipping the browser check on this machine.", file=sys.stderr)
        return 0
    key = None
    if options.site is None and options.json is None:
        key = _inputs_digest(chromium)
        if remember.recall("browser", key):
            print(
                "The handbook passed this browser check built from exactly these files, "
                "with this Chromium; nothing has changed since. DRILLKIT_FRESH=1 checks again."
            )
            return 0
    started = time.monotonic()
    port = free_port()
    folder = options.site or OUTPUT / "site"
    if options.site is None:
        build_site(folder, f"http://127.0.0.1:{port}{PREFIX}")
    shots = OUTPUT / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    pages = site_pages(folder)
    with serve(folder, port) as base:
        reports, search_problems = asyncio.run(
            run_checks(base, pages, chromium=chromium, shots=shots)
        )
    print(summary_table(reports))
    if options.json:
        options.json.write_text(json.dumps([r.__dict__ for r in reports], indent=1))
    problems = [f"{urlsplit(r.url).path} [{r.mode}]: {p}" for r in reports for p in r.problems]
    problems += search_problems
    for problem in problems:
        print(problem, file=sys.stderr)
    print(
        f"\n{len(pages)} pages x {len(reports) // max(len(pages), 1)} modes in "
        f"{time.monotonic() - started:.0f} s; screenshots in {shots.relative_to(PROJECT_ROOT)}; "
        f"{len(problems)} problems."
    )
    if key is not None and not problems:
        remember.keep("browser", key)
    return 1 if problems else 0


# What the built site is made from: the pages and their configuration, plus every folder
# mkdocs.yml watches (the pages embed drill code and scorecards). A harness test holds
# this list to mkdocs.yml's `watch:`.
SITE_SOURCES = ("docs", "mkdocs.yml", "drill_code", "scorecards")


def _inputs_digest(chromium: str) -> str:
    """Everything the built site and its check are made from: the pages, the drill code
    and scorecards they embed, the harness and theme bounds, and the browser binary."""
    binary = Path(chromium).resolve().stat()
    browser = f"{Path(chromium).resolve()}:{binary.st_size}:{binary.st_mtime_ns}"
    sources = [PROJECT_ROOT / name for name in SITE_SOURCES]
    return remember.digest(*sources, remember.PYPROJECT, browser)


if __name__ == "__main__":
    sys.exit(main())
