"""The docs macros' helpers and the check that pages show exactly the files."""

from pathlib import Path

from drillkit.catalog import PROJECT_ROOT
from drillkit.check_site import check_site, expected_text
from drillkit.docs import _sections, _tests_cell

SAMPLE = """x = 0
# --8<-- [start:part]
y = 1
# --8<-- [start:inner]
z = 2
# --8<-- [end:inner]
# --8<-- [end:part]
"""


def test_a_region_is_its_lines_without_any_markers(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(SAMPLE)
    assert expected_text(source, "part") == "y = 1\nz = 2"
    assert expected_text(source, None) == "x = 0\ny = 1\nz = 2"


def _site(tmp_path, title, code):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        f'<div class="highlight"><span class="filename">{title}</span>'
        f"<pre><span></span><code>{code}</code></pre></div>"
    )
    return site


def test_the_site_check_accepts_a_block_equal_to_its_file(tmp_path):
    path = "drill_code/checklist.yml"
    text = (PROJECT_ROOT / path).read_text().strip("\n")
    checked, problems = check_site(_site(tmp_path, path, text))
    assert (checked, problems) == (1, [])


def test_the_site_check_reports_a_block_that_drifted(tmp_path):
    path = "drill_code/checklist.yml"
    checked, problems = check_site(_site(tmp_path, path, "items: []"))
    assert checked == 1
    assert problems == [f"index.html: the block titled '{path}' differs from the file"]


def test_hint_sections_split_on_second_level_headings():
    text = "# Title\n\nintro\n\n## D1-F1 First\n\n1. a\n\n## D1-F2 Second\n\nb\n"
    assert _sections(text) == [("D1-F1 First", "1. a"), ("D1-F2 Second", "b")]


def test_parametrized_cases_are_grouped_under_their_test():
    cell = _tests_cell(
        ["t.py::test_matrix[user GET /a/]", "t.py::test_matrix[staff GET /a/]", "t.py::test_b"]
    )
    assert cell == "`test_matrix` (user GET /a/; staff GET /a/)<br>`test_b`"


# --- the built site keeps the drills' secrets ------------------------------------------------


def _site_with(tmp_path, body: str, index_text: str = ""):
    import json

    page = tmp_path / "drills" / "drill4" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(f"<html><body><article>{body}</article></body></html>")
    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "search_index.json").write_text(
        json.dumps({"docs": [{"location": "drills/drill4/", "title": "", "text": index_text}]})
    )
    return tmp_path


def _a_flaw_title() -> str:
    from drillkit.catalog import get_drill

    return get_drill("drill4").flaws[0].title


def test_a_flaw_title_in_a_hint_heading_is_reported(tmp_path):
    from drillkit.check_site import check_spoilers

    body = f'<details class="tip"><summary>{_a_flaw_title()}</summary><p>hint</p></details>'
    problems = check_spoilers(_site_with(tmp_path, body))
    assert any("the collapsible title" in problem for problem in problems), problems


def test_a_flaw_title_inside_a_spoiler_is_allowed(tmp_path):
    from drillkit.check_site import check_spoilers

    body = (
        '<details class="tip spoiler"><summary>Finding 1</summary>'
        f"<p>{_a_flaw_title()}</p></details>"
    )
    assert check_spoilers(_site_with(tmp_path, body)) == []


def test_a_flaw_title_in_the_search_index_or_the_toc_is_reported(tmp_path):
    from drillkit.check_site import check_spoilers

    title = _a_flaw_title()
    body = f'<nav class="md-nav md-nav--secondary"><a href="#x">{title}</a></nav>'
    problems = check_spoilers(_site_with(tmp_path, body, index_text=f"<p>{title}</p>"))
    assert any("table of contents" in problem for problem in problems), problems
    assert any("search index" in problem for problem in problems), problems


def test_a_hint_title_names_the_finding_and_its_file_never_the_flaw(tmp_path):
    import dataclasses

    import pytest

    from drillkit.catalog import get_drill
    from drillkit.docs import hint_title

    real = get_drill("drill4")
    first, second = real.flaws[0], real.flaws[1]
    # drill.toml gives the second flaw a location and the first none.
    (tmp_path / "drill.toml").write_text(
        f'[[flaws]]\nid = "{first.id}"\n\n'
        f'[[flaws]]\nid = "{second.id}"\n'
        'locations = [{file = "notes/views.py", lines = [1, 9]}]\n'
    )
    drill = dataclasses.replace(real, folder=tmp_path)
    assert hint_title(drill, f"{first.id} {first.title}") == "Finding 1"
    assert hint_title(drill, f"{second.id} {second.title}") == "Finding 2 · in notes/views.py"
    with pytest.raises(ValueError, match="does not start with one of its flaw ids"):
        hint_title(drill, first.title)


def test_a_spoiler_block_leaves_search_and_the_toc_and_says_it_is_a_spoiler():
    from types import SimpleNamespace

    from drillkit import site_hooks

    html = (
        '<h2 id="hints">Hints</h2>'
        '<details class="tip spoiler"><summary>Finding 1</summary>'
        '<h3 id="the-fix">The fix</h3><p>answer</p></details>'
        '<ul><li class="task-list-item"><label><input type="checkbox" disabled></label>'
        " Scope every queryset</li></ul>"
    )
    fix = SimpleNamespace(id="the-fix", children=[])
    toc = SimpleNamespace(items=[SimpleNamespace(id="hints", children=[fix])])
    out = site_hooks.on_page_content(html, SimpleNamespace(toc=toc), None, None)
    assert '<details class="tip spoiler" data-search-exclude=""' in out
    assert '<h3 id="the-fix" data-search-exclude="">' in out
    assert '<h2 id="hints">' in out  # a heading outside the spoiler stays searchable
    assert '<span class="spoiler-label">Spoiler</span>Finding 1' in out
    assert 'aria-label="Scope every queryset"' in out
    assert [item.id for item in toc.items] == ["hints"]
    assert toc.items[0].children == []


# --- data reaches the page as written ----------------------------------------------------


def test_data_is_escaped_as_markdown_text_outside_code_spans():
    from drillkit.docs import md_text, md_title

    assert md_text("removes <script> tags, keeps `<br>` & more") == (
        "removes &lt;script&gt; tags, keeps `<br>` &amp; more"
    )
    assert md_title('D6-F11: "<script>"') == "D6-F11: &quot;&lt;script&gt;&quot;"


def test_a_flaws_why_that_became_an_element_is_reported(tmp_path):
    """D4-F3's why names /projects/<id>/notes/: unescaped, <id> is an element and the
    reader sees /projects//notes/."""
    import html

    from drillkit.catalog import get_drill
    from drillkit.check_site import check_data_texts, parse
    from drillkit.variants import bank

    def page(escape) -> str:
        drill = get_drill("drill4")
        cells = [f"<td>{escape(t)}</td>" for f in drill.flaws for t in (f.title, f.why)]
        fixes = [
            f"<details><summary>{escape(v.summary)}</summary><p>{escape(v.why_wrong)}</p></details>"
            for v in bank(drill, "wrong-fix")
        ]
        return f"<article><table><tr>{''.join(cells)}</tr></table>{''.join(fixes)}</article>"

    def problems_for(markup: str) -> list[str]:
        pages = {Path("drills") / "drill4" / "index.html": parse(markup)}
        return [p for p in check_data_texts(pages) if p.startswith("drills/drill4:")]

    assert problems_for(page(html.escape)) == []
    raw = problems_for(page(lambda text: text))
    assert any("D4-F3's why does not read on the page as written" in p for p in raw), raw
    # Another drill's page missing from a site with drill pages is a problem too.
    pages = {Path("drills") / "drill4" / "index.html": parse(page(html.escape))}
    assert "drills/drill1: the drill has no page in the site" in check_data_texts(pages)


def test_the_site_hook_keeps_a_pages_leading_style_and_marks_its_spoilers():
    from types import SimpleNamespace

    from drillkit.site_hooks import on_page_content

    html = (
        "<style>.x{}</style><p>intro</p>"
        '<details class="danger spoiler"><summary>Fixes</summary><p>body</p></details>'
    )
    out = on_page_content(html, SimpleNamespace(toc=None), None, None)
    assert out.startswith("<style>.x{}</style><p>intro</p>")
    assert '<span class="spoiler-label">Spoiler</span>Fixes' in out


def test_the_text_the_checks_read_leaves_out_scripts_styles_and_comments():
    from drillkit.check_site import parse
    from drillkit.site_hooks import text_of

    page = parse(
        "<ul><li>Scope <code>every</code> queryset<script>var leak = 1</script>"
        "<style>.x{}</style><!-- a note --> now</li></ul>"
        "<p>plain <em>words</em></p>"
    )
    item, paragraph = page.find(".//li"), page.find(".//p")
    assert text_of(item, " ") == "Scope  every  queryset  now"
    assert text_of(paragraph) == "plain words"  # the path for text with nothing to leave out
