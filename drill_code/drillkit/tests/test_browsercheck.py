"""The browser check fails on what it claims to catch: small synthetic pages, each with one
planted problem, served and checked exactly as the handbook is (`nox -s browser` runs
these first). A clean page proves the check does not fail on everything."""

from __future__ import annotations

import asyncio
import os

import pytest

from drillkit import browsercheck

pytest.importorskip("playwright", reason="runs in `nox -s browser`, which installs Playwright")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><article><h1>{title}</h1><p>A short page.</p>{body}</article></main></body></html>
"""
PLANTED = {
    "clean": "",
    "console": "<script>console.error('planted console error')</script>",
    "checkbox": "<ul><li><input type='checkbox'> an item</li></ul>",
    "wide": "<div style='width: 800px'>wider than a phone, narrower than a desktop</div>",
    "scrolls": "<div style='overflow-x: auto'><div style='width: 2000px'>a wide table</div></div>",
    "spoiled": "<p>Tokens never expire</p>",
    "hidden": "<details><summary>Spoiler: Finding 1</summary><p>Tokens never expire</p></details>",
    "raw": "<p>{{ drill_intro('drill4') }}</p>",
    "broken": "<img src='missing.png' alt='a chart'>",
    "online": "<img src='https://fonts.example.com/font.png' alt='a font sample'>",
}
TITLES = ["Tokens never expire"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    try:
        chromium = browsercheck.find_chromium()
    except browsercheck.BrowserMissing as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(str(missing))
        pytest.skip(str(missing))
    site = tmp_path_factory.mktemp("site")
    (site / "404.html").write_text(PAGE.format(title="Not found", body=""))
    for name, body in PLANTED.items():
        (site / name).mkdir()
        (site / name / "index.html").write_text(PAGE.format(title=name, body=body))
    with browsercheck.serve(site) as base:
        found, _ = asyncio.run(
            browsercheck.run_checks(
                base,
                [f"{name}/" for name in PLANTED],
                chromium=chromium,
                shots=None,
                with_search=False,
                modes=["desktop-light", "phone-light"],
                titles=TITLES,
            )
        )
    by_page: dict[str, list[str]] = {}
    for report in found:
        name = report.url.rstrip("/").rsplit("/", 1)[-1]
        by_page.setdefault(name, []).extend(report.problems)
    return by_page


def test_a_clean_page_passes(reports):
    assert reports["clean"] == []


def test_a_console_error_fails(reports):
    assert any("planted console error" in p for p in reports["console"]), reports["console"]


def test_an_unlabeled_checkbox_fails_axe(reports):
    assert any(p.startswith("axe label") for p in reports["checkbox"]), reports["checkbox"]


def test_a_page_wider_than_a_phone_fails(reports):
    assert any("wider than the 390 px viewport" in p for p in reports["wide"]), reports["wide"]
    assert not any("wider than the 1366" in p for p in reports["wide"])


def test_content_inside_a_scrolling_element_may_be_wide(reports):
    assert reports["scrolls"] == []


def test_a_flaw_title_outside_a_spoiler_fails(reports):
    assert any("flaw's title is visible" in p for p in reports["spoiled"]), reports["spoiled"]
    assert reports["hidden"] == []


def test_raw_macro_text_fails(reports):
    assert any("raw Markdown or macro text" in p for p in reports["raw"]), reports["raw"]


def test_a_failed_request_fails(reports):
    assert any(p.startswith("HTTP 404") and "missing.png" in p for p in reports["broken"])


def test_a_request_off_the_machine_fails(reports):
    assert any("request leaves the machine" in p for p in reports["online"]), reports["online"]


def test_a_missing_page_is_served_the_404_page(tmp_path):
    (tmp_path / "404.html").write_text("not here")
    (tmp_path / "index.html").write_text("home")
    from urllib.error import HTTPError
    from urllib.request import urlopen

    with browsercheck.serve(tmp_path) as base:
        assert urlopen(base, timeout=10).read() == b"home"
        with pytest.raises(HTTPError) as missing:
            urlopen(base + "nowhere/", timeout=10)
    assert missing.value.code == 404
    assert missing.value.read() == b"not here"
