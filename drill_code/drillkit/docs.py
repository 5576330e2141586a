"""mkdocs-macros module: the handbook pages are prose plus calls to these macros.

Every code block is produced here as a pymdownx.snippets include of a file the tests
run (whole files or named regions, never line numbers), and every list or figure
comes from drill metadata or from running code. `check_site.py` then verifies that
the built pages show exactly the files' text.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):  # loaded by mkdocs-macros from its file path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from drillkit import remember
from drillkit.catalog import PROJECT_ROOT, all_drills, get_drill, shown
from drillkit.scorecards import ChecklistItem, checklist

CACHE = PROJECT_ROOT / ".cache" / "drillkit"
# mkdocs-macros executes this file afresh for every build, `mkdocs serve`'s rebuilds too,
# so a module-level functools.cache here lasts one build: a drill's digest, collection,
# scorecard and hint locations are read once per build rather than once per macro call,
# and a file edited during `serve` is read again on the next rebuild.
PAGE_INDEPENDENT = ("DATABASE_URL", "CELERY_BROKER_URL", "CI", "DRILLKIT_SQLITE_PASS")
# Files shown first, in the order a reviewer reads a Django project; the rest follow by name.
READING_ORDER = [
    "config/settings.py",
    "models.py",
    "serializers.py",
    "permissions.py",
    "authentication.py",
    "views.py",
    "urls.py",
    "config/urls.py",
]
TAB = "    "
SPOILER = "spoiler"  # the block type site_hooks.py keeps out of search and the TOC


def indent(text: str, prefix: str = TAB) -> str:
    return "\n".join(prefix + line if line.strip() else line for line in text.splitlines())


def code_block(path: Path, region: str | None = None, title: str | None = None) -> str:
    """A fenced block whose body is a snippets include: the build fails if the file or
    region is missing, and check_site.py compares the rendered text with the file."""
    lang = {
        ".py": "python",
        ".yml": "yaml",
        ".yaml": "yaml",
        ".toml": "toml",
        ".md": "markdown",
        ".diff": "diff",
        ".patch": "diff",
        ".sql": "sql",
        ".html": "html+django",
    }.get(path.suffix, "text")
    source = shown(path) + (f":{region}" if region else "")
    label = title or (shown(path) + (f" ({region})" if region else ""))
    return f'```{lang} title="{label}"\n--8<-- "{source}"\n```'


def _target_files(folder: Path) -> list[Path]:
    # Python modules and Django templates: what a reviewer reads. Migrations are generated.
    files = [
        p
        for pattern in ("*.py", "*.html")
        for p in folder.rglob(pattern)
        if "migrations" not in p.parts and p.stat().st_size > 0 and "__pycache__" not in p.parts
    ]

    def rank(path: Path) -> tuple[int, str]:
        relative = path.relative_to(folder).as_posix()
        for index, suffix in enumerate(READING_ORDER):
            if relative.endswith(suffix) and not (suffix == "urls.py" and "config" in relative):
                return index, relative
        return len(READING_ORDER), relative

    return sorted(files, key=rank)


def file_tabs(folder: Path) -> str:
    """One content tab per source file of a starter or solution."""
    tabs = []
    for path in _target_files(folder):
        label = path.relative_to(folder).as_posix()
        tabs.append(f'=== "{label}"\n\n{indent(code_block(path))}\n')
    return "\n".join(tabs)


def _sections(markdown: str) -> list[tuple[str, str]]:
    """Split a Markdown file on its `## ` headings: [(heading, body), ...]."""
    parts = re.split(r"^## (.+)$", markdown, flags=re.M)
    return [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts), 2)]


@functools.cache
def _inputs_digest(name: str) -> str:
    """A digest of everything that decides a drill's test runs: every file of the drill
    (tests, targets, contracts, fixtures data) except its generated results, the harness,
    and the dependency bounds."""
    drill = get_drill(name)
    skip = frozenset({"results"})
    return remember.digest(drill.folder, remember.harness_digest(), skip=skip)[:16]


def _drillkit_output(name: str, *args: str) -> tuple[int, str]:
    """Run `python -m drillkit ARGS` for a drill and return (exit code, output).

    Cached by `_inputs_digest`, so a warm build does not start Django again, and any
    change to the drill or the harness runs it afresh.
    """
    key = hashlib.sha256(repr(args).encode()).hexdigest()[:8]
    cached = CACHE / f"{name}-{_inputs_digest(name)}-{key}.json"
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        # Pages show SQLite runs with the in-memory broker, whatever this shell has set.
        env = {k: v for k, v in os.environ.items() if k not in PAGE_INDEPENDENT}
        env.update(PYTHONPATH=str(PROJECT_ROOT / "drill_code"), COLUMNS="88")
        result = subprocess.run(
            [sys.executable, "-m", "drillkit", *args],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            env=env,
        )
        output = result.stdout + result.stderr
        if result.returncode not in (0, 1):  # 1 is a test run that failed, as shown on purpose
            return result.returncode, output  # never cache a crash: the next build retries
        cached.write_text(json.dumps([result.returncode, output]))
    code, output = json.loads(cached.read_text())
    return code, output


def md_text(value: str) -> str:
    """Data (a flaw's why, a patch's summary, a scorecard's evidence) as Markdown text:
    `<`, `>` and `&` are escaped outside code spans, so `<script>` or `/projects/<id>/`
    reads as written instead of becoming an element that swallows the page after it."""
    parts = re.split(r"(`[^`]*`)", value)
    return "".join(
        part
        if part.startswith("`") and part.endswith("`") and len(part) > 1
        else html.escape(part, quote=False)
        for part in parts
    )


def md_title(value: str) -> str:
    """Data as the quoted title of a collapsible block: escaped as text, and its quotes
    too, which would end the title."""
    return md_text(value).replace('"', "&quot;")


def spoiler(kind: str, title: str, body: str) -> str:
    """A collapsed block that gives something away. The `spoiler` type is the one mark
    site_hooks.py acts on: out of search, out of the table of contents, labelled."""
    return f'??? {kind} {SPOILER} "{title}"\n\n{indent(body)}\n'


def _flaw_locations(drill) -> dict[str, list[str]]:
    """{flaw id: [files]} from the `locations` drill.toml gives a flaw, if any."""
    return _locations_in(drill.folder)


@functools.cache
def _locations_in(folder: Path) -> dict[str, list[str]]:
    data = tomllib.loads((folder / "drill.toml").read_text(encoding="utf-8"))
    files = {}
    for flaw in data.get("flaws", []):
        found = [str(where["file"]) for where in flaw.get("locations", []) if "file" in where]
        files[str(flaw["id"])] = list(dict.fromkeys(found))
    return files


def hint_title(drill, heading: str) -> str:
    """A hint's visible title: which finding, and the file(s) it is in when drill.toml
    says so. Never the flaw itself: the learner opens the hint to learn that."""
    ids = [flaw.id for flaw in drill.flaws]
    match = re.match(r"(D\d+-F\d+)\b", heading)
    if match is None or match[1] not in ids:
        raise ValueError(
            f"{drill.name}'s hints.md has a section {heading!r} that does not start with "
            f"one of its flaw ids ({', '.join(ids)})"
        )
    files = _flaw_locations(drill).get(match[1], [])
    where = f" · in {', '.join(files)}" if files else ""
    return f"Finding {ids.index(match[1]) + 1}{where}"


def _hint_block(title: str, body: str) -> str:
    """A flaw's numbered hints as nested collapsibles: each one opens the next, so the
    learner reads the gentle hint without seeing the answer below it."""
    steps = [step.strip() for step in re.split(r"^\d+\.\s+", body, flags=re.M) if step.strip()]
    if len(steps) < 2:
        return spoiler("tip", title, body)
    nested = f'??? success "The answer"\n\n{indent(steps[-1])}'
    for step in reversed(steps[1:-1]):
        nested = f'??? note "A stronger hint"\n\n{indent(step)}\n\n{indent(nested)}'
    return spoiler("tip", title, f"{steps[0]}\n\n{nested}")


@functools.cache
def collected_tests(name: str) -> dict:
    """{"tests": how many, "flaws": {flaw id: [node ids of the tests that catch it]}},
    from a real pytest collection of the drill's tests."""
    out = CACHE / f"collection-{name}-{_inputs_digest(name)}.json"
    code, output = _drillkit_output(name, "collect", name, "--json", str(out))
    if code != 0 or not out.exists():
        raise RuntimeError(f"collecting {name}'s tests failed:\n{output}")
    return json.loads(out.read_text())


def _tests_cell(node_ids: list[str]) -> str:
    """Group parametrized cases under their test: `test_x` (case a, case b)."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for node_id in node_ids:
        path_and_name, _, case = node_id.partition("[")
        test = path_and_name.rsplit("::", 1)[-1]
        grouped[test].append(case.rstrip("]"))
    cells = []
    for test, cases in grouped.items():
        cases = [c for c in cases if c]
        cells.append(f"`{test}`" + (f" ({'; '.join(cases)})" if cases else ""))
    return "<br>".join(cells)


@functools.cache
def _scorecard(name: str) -> dict:
    return yaml.safe_load((get_drill(name).folder / "scorecard.yml").read_text())


def _checklist() -> dict[str, ChecklistItem]:
    """The checklist, validated; an id a drill names but the checklist lacks is an error
    that says so, not a KeyError in the middle of a build."""
    items = checklist()
    for drill in all_drills():
        unknown = set(drill.checklist) - set(items)
        if unknown:
            raise ValueError(f"{drill.name} names checklist items that do not exist: {unknown}")
    return items


# A named region longer than this many lines is shown collapsed, its title saying what it
# holds: a drill page stays a few screens of prose a reader can scan, not a wall of code.
LONG_BLOCK = 40


def _collapsed_if_long(
    path: Path, region: str | None, title: str | None, *, always: bool = False
) -> str:
    from drillkit.check_site import expected_text

    block = code_block(path, region, title)
    lines = len(expected_text(path, region).splitlines())
    if lines <= LONG_BLOCK and not always:
        return block
    label = title or (shown(path) + (f" ({region})" if region else ""))
    return f'??? example "{label}: {lines} lines"\n\n{indent(block)}\n'


def _chart_pair(name: str, results: Path, alt: str) -> str:
    from drillkit import charts

    digest = hashlib.sha256(Path(charts.__file__).read_bytes() + results.read_bytes())
    images = []
    for scheme in charts.SCHEMES:
        cached = CACHE / f"chart-{name}-{scheme.name}-{digest.hexdigest()[:16]}.svg"
        if not cached.exists():  # matplotlib is slow to start: redraw only what changed
            CACHE.mkdir(parents=True, exist_ok=True)
            cached.write_text(charts.CHARTS[name](results, scheme), encoding="utf-8")
        data = base64.b64encode(cached.read_bytes()).decode()
        images.append(
            f'<img class="chart" src="data:image/svg+xml;base64,{data}#only-{scheme.name}" '
            f'alt="{alt}">'
        )
    return f'<figure class="chart">{"".join(images)}</figure>'


def _permission_grid(path: Path, region: str) -> str:
    """Run the region (plain assignments of literals) and draw its PERMISSION_MATRIX as a
    Markdown table: one row per method and path, one column per role, a flaw's id beside
    the status the starter gets wrong."""
    from drillkit.check_site import expected_text

    names: dict = {}
    exec(compile(expected_text(path, region), str(path), "exec"), names)  # our own test file
    header = ["Method", "Endpoint", *names["ROLES"]]
    rows = [f"| {' | '.join(header)} |", "|" + "---|" * len(header)]
    for method, endpoint, *cells in names["PERMISSION_MATRIX"]:
        shown_cells = [
            f"{cell[0]} <small>({cell[1]})</small>" if isinstance(cell, tuple) else str(cell)
            for cell in cells
        ]
        rows.append(f"| {method} | `{endpoint}` | {' | '.join(shown_cells)} |")
    return "\n".join(rows)


def define_env(env) -> None:
    @env.macro
    def drill_intro(name: str) -> str:
        """The summary box at the top of a drill page, with the learner's commands."""
        drill = get_drill(name)
        checklist = _checklist()
        items = ", ".join(
            f"[{checklist[item].name}](../checklist.md#{item})" for item in drill.checklist
        )
        collection = collected_tests(name)
        flaw_tests = len({node for ids in collection["flaws"].values() for node in ids})
        return "\n".join(
            [
                f'!!! abstract "{drill.title}"',
                "",
                indent(md_text(drill.summary)),
                "",
                indent(f"**Checklist:** {items}  "),
                indent(f"**Time box:** {drill.time_box}  "),
                indent(
                    f"**Planted flaws:** {len(drill.flaws)}, caught by {flaw_tests} of the "
                    f"drill's {collection['tests']} tests"
                ),
                "",
                indent("```bash"),
                indent(f"nox -s start -- {drill.name}                      # copy the starter"),
                indent(f"nox -s {drill.name} -- --target workspace/{drill.name}   # check it"),
                indent("```"),
            ]
        )

    @env.macro
    def drill_brief(name: str) -> str:
        return (get_drill(name).folder / "brief.md").read_text(encoding="utf-8")

    @env.macro
    def starter_tabs(name: str) -> str:
        return file_tabs(get_drill(name).starter)

    @env.macro
    def solution_tabs(name: str) -> str:
        """The reference solution, collapsed so nobody reads it by accident."""
        body = file_tabs(get_drill(name).solution)
        return spoiler("success", "Reference solution (open it after your own attempt)", body)

    @env.macro
    def drill_hints(name: str) -> str:
        drill = get_drill(name)
        text = (drill.folder / "hints.md").read_text(encoding="utf-8")
        return "\n".join(
            _hint_block(hint_title(drill, heading), body) for heading, body in _sections(text)
        )

    @env.macro
    def flaw_table(name: str) -> str:
        """Every planted flaw and the tests that catch it, from drill.toml and pytest."""
        drill = get_drill(name)
        caught_by = collected_tests(name)["flaws"]
        rows = ["| Flaw | What goes wrong | Why it matters | Caught by |", "|---|---|---|---|"]
        for flaw in drill.flaws:
            why = md_text(" ".join(flaw.why.split()))
            rows.append(
                f"| {flaw.id} | {md_text(flaw.title)} | {why} | "
                f"{_tests_cell(caught_by.get(flaw.id, []))} |"
            )
        return "\n".join(rows)

    @env.macro
    def wrong_fixes(name: str) -> str:
        """The drill's bank of fixes that look right but aren't, each with why it is wrong,
        the test that rejects it and its diff, straight from variants/wrong-fixes/."""
        from drillkit.variants import KINDS, bank

        drill = get_drill(name)
        entries = []
        for variant in bank(drill, "wrong-fix"):
            body = "\n\n".join(
                [
                    f"**Why it is wrong:** {md_text(variant.why_wrong)}",
                    f"**Kind of mistake:** {KINDS[variant.header['Kind']]}.",
                    f"**Caught by:** `{variant.caught_by}`",
                    code_block(variant.path, title=shown(variant.path)),
                ]
            )
            heading = md_title(f"{variant.flaw}: {variant.summary}")
            entries.append(f'??? example "{heading}"\n\n{indent(body)}')
        intro = (
            f"{len(entries)} plausible fixes that leave a flaw open. CI applies each one to "
            "the reference solution and proves the drill's tests reject it, naming the flaw."
        )
        return spoiler("danger", "Fixes that look right but aren't", "\n\n".join([intro, *entries]))

    @env.macro
    def scorecard_table(name: str) -> str:
        """The self-audit template as a rubric table, collapsed: it is read when scoring,
        after the drill, and would otherwise be the longest block on the page."""
        card = _scorecard(name)
        title = f"The rubric: {len(card['criteria'])} criteria, each scored 0 to 3"
        return f'??? abstract "{title}"\n\n{indent(_rubric_table(name))}\n'

    def _rubric_table(name: str) -> str:
        card = _scorecard(name)
        checklist = _checklist()
        rows = ["| Criterion | 0 | 1 | 2 | 3 |", "|---|---|---|---|---|"]
        for criterion in card["criteria"]:
            item = checklist[criterion["checklist"]]
            head = (
                f"**{md_text(criterion['title'])}**<br>{md_text(criterion['question'])}<br>"
                f"*[{item.name}](../checklist.md#{item.id})*"
            )
            levels = [
                md_text(" ".join(str(criterion["rubric"][level]).split())) for level in range(4)
            ]
            rows.append(f"| {head} | " + " | ".join(levels) + " |")
        return "\n".join(rows)

    @env.macro
    def region(path: str, name: str, title: str | None = None, collapsed: bool = False) -> str:
        """A named region (`# --8<-- [start:name]` ... `[end:name]`) of a project file;
        `collapsed` keeps even a short one closed, where the prose around it says enough."""
        return _collapsed_if_long(PROJECT_ROOT / path, name, title, always=collapsed)

    @env.macro
    def source_file(path: str, title: str | None = None) -> str:
        # Whole files: the pages put the long ones in a collapsible of their own.
        return code_block(PROJECT_ROOT / path, None, title)

    @env.macro
    def result_figure(path: str, alt: str) -> str:
        """A chart a drill's command generated (an SVG under results/), inline as a data
        URI: no copy in docs/, and Markdown never touches the SVG's markup."""
        data = base64.b64encode((PROJECT_ROOT / path).read_bytes()).decode()
        return f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{alt}"></figure>'

    @env.macro
    def result_table(path: str) -> str:
        """A Markdown table a drill's command generated (under results/), as it is, except
        that a blank first header cell gets a name: a table header must not be empty."""
        lines = (PROJECT_ROOT / path).read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            if line.startswith("|"):  # the header row of the first table
                lines[index] = re.sub(r"^\|( *)\|", "| Measure |", line)
                break
        return "\n".join(lines)

    @env.macro
    def result_prose(path: str) -> str:
        """A generated results file without its tables: the summary lines a chart on the
        same page does not show."""
        text = (PROJECT_ROOT / path).read_text(encoding="utf-8")
        return "\n".join(line for line in text.splitlines() if not line.startswith("|"))

    @env.macro
    def chart(name: str, results: str, alt: str) -> str:
        """A chart drawn from a drill's committed results JSON (drillkit/charts.py), as a
        light/dark pair of inline SVGs: Material shows the one for the reader's scheme."""
        return _chart_pair(name, PROJECT_ROOT / results, alt)

    @env.macro
    def permission_grid(path: str, region: str) -> str:
        """The role x endpoint grid of a permission matrix region in a test file."""
        return _permission_grid(PROJECT_ROOT / path, region)

    @env.macro
    def checklist_table() -> str:
        """One section per checklist item, linked to the drills that exercise it."""
        sections = []
        for item in _checklist().values():
            drills = [
                f"[Drill {d.number}: {d.title}](drills/{d.name}.md)"
                for d in all_drills()
                if item.id in d.checklist
            ]
            sections.append(
                f"## {item.name} {{#{item.id}}}\n\n{md_text(item.ready)}\n\n"
                f"**Practised in:** {', '.join(drills) or 'no drill yet'}\n"
            )
        return "\n".join(sections)

    @env.macro
    def test_run(name: str, *args: str) -> str:
        """The real terminal output of `nox -s NAME -- ARGS`, captured at build time."""
        code, output = _drillkit_output(name, "test", name, *args)
        command = " ".join(["nox -s", name, "--", *args])
        # Drop pytest's platform banner: it names this machine, not anything the reader needs.
        lines = [
            line
            for line in output.splitlines()
            if not line.startswith(
                ("platform ", "rootdir:", "configfile:", "plugins:", "cachedir:")
            )
        ]
        block = f'```text title="$ {command}   (exit code {code})"\n' + "\n".join(lines) + "\n```"
        # A run that fails on planted flaws prints their titles: keep it behind a click.
        flat = " ".join(output.split())
        if any(" ".join(flaw.title.split()) in flat for flaw in get_drill(name).flaws):
            return spoiler("example", f"A real run: {command} (it names the flaws it finds)", block)
        return block

    @env.macro
    def scorecard_view(path: str) -> str:
        """A filled scorecard as a table: criterion, score, evidence."""
        from drillkit.scorecards import load

        card, problems = load(PROJECT_ROOT / path)
        if problems:
            raise ValueError("\n".join(problems))
        rows = [
            f"**{card.drill}**, scored on {card.date}. Flaws fixed in the learner's copy: "
            f"{len(card.measured.flaws_fixed)} of "
            f"{len(card.measured.flaws_fixed) + len(card.measured.flaws_open)}.",
            "",
            "| Criterion | Checklist item | Score | Evidence |",
            "|---|---|---|---|",
        ]
        for c in card.criteria:
            rows.append(
                f"| {md_text(c.title)} | {c.checklist} | {c.score} | "
                f"{md_text(' '.join(c.evidence.split()))} |"
            )
        return "\n".join([*rows, "", f"*Notes:* {md_text(card.notes)}"])

    def _cards(folder: str):
        return list(_loaded_cards(folder))  # a list of its own for each page to filter

    @functools.cache
    def _loaded_cards(folder: str) -> tuple:
        # Three pages report on the same folder of scorecards: validate it once.
        from drillkit import scorecards, team

        root = PROJECT_ROOT / folder
        return tuple(team.load_cards(root, scorecards.filled_scorecards(root)))

    def _chart(kind: str, cards, alt: str) -> str:
        """A team or person chart, drawn once per set of scorecards and inlined as a data
        URI: no generated file in docs/, and Markdown never touches the SVG's markup."""
        from drillkit import team

        digest = hashlib.sha256(Path(team.__file__).read_bytes() + kind.encode())
        for card in cards:
            digest.update(card.path.read_bytes())
        chart_file = CACHE / f"{kind}-{digest.hexdigest()[:16]}.svg"
        if not chart_file.exists():  # matplotlib is slow to start; reuse an unchanged chart
            draw = team.team_chart if kind == "team" else team.person_chart
            draw(cards, chart_file)
        source = "data:image/svg+xml;base64," + base64.b64encode(chart_file.read_bytes()).decode()
        return f'<figure><img src="{source}" alt="{alt}"></figure>'

    @env.macro
    def team_report(folder: str, on: str) -> str:
        """`nox -s scorecard -- report --dir FOLDER` for a team, as it read on the day `on`
        (the worked example's meeting), so the page does not change as the calendar does."""
        import datetime as dt

        from drillkit import team

        cards = _cards(folder)
        day = dt.date.fromisoformat(on)
        notes = team.team_notes(cards, day, team.DEFAULT_CADENCE_DAYS)
        alt = "Stacked bars: how many people sit at each score for every checklist item"
        return "\n\n".join([team.team_table(cards), *notes, _chart("team", cards, alt)])

    @env.macro
    def person_report(folder: str, person: str) -> str:
        """`nox -s scorecard -- report --person NAME`: scores with the evidence beside."""
        from drillkit import team

        cards = team.only(_cards(folder), person)
        alt = f"Line chart of {person}'s self-audit scores over time per checklist item"
        return "\n\n".join(
            [
                team.person_table(cards),
                _chart("person", cards, alt),
                f"{person}'s attempts, drill by drill, each redo beside the first:",
                team.attempts_table(cards),
            ]
        )

    @env.macro
    def team_agenda(folder: str, on: str, since: str = "30d") -> str:
        """`nox -s scorecard -- agenda` as it read on the day `on`, its headings one level
        down so they stay inside the page's section."""
        import datetime as dt

        from drillkit import team

        text = team.agenda(
            _cards(folder),
            dt.date.fromisoformat(on),
            team.parse_days(since),
            team.DEFAULT_CADENCE_DAYS,
        )
        body = re.sub(r"^(#+) ", r"\1## ", text, flags=re.M)
        return body.split("\n", 2)[2]  # the page gives the title

    @env.macro
    def drills_table() -> str:
        rows = [
            "| Drill | What you practise | Checklist | Flaws | Time box |",
            "|---|---|---|---|---|",
        ]
        checklist = _checklist()
        for drill in all_drills():
            items = ", ".join(checklist[item].name for item in drill.checklist)
            summary = md_text(" ".join(drill.summary.split()))
            rows.append(
                f"| [{drill.number}. {drill.title}](drills/{drill.name}.md) | {summary} | "
                f"{items} | {len(drill.flaws)} | {drill.time_box} |"
            )
        return "\n".join(rows)
