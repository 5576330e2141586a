"""A slow check is reused only on exactly the inputs it passed on."""

import re

import pytest

from drillkit import browsercheck, remember
from drillkit.catalog import PROJECT_ROOT


@pytest.fixture
def memory(tmp_path, monkeypatch):
    monkeypatch.setattr(remember, "MEMORY", tmp_path / "memory")
    monkeypatch.delenv("DRILLKIT_FRESH", raising=False)
    folder = tmp_path / "drill"
    (folder / "tests").mkdir(parents=True)
    (folder / "tests" / "test_a.py").write_text("def test_a(): pass\n")
    (folder / "results").mkdir()
    (folder / "results" / "figures.json").write_text("{}")
    return folder


def test_what_passed_is_recalled_on_the_same_inputs_only(memory):
    key = remember.digest(memory, "bench")
    assert remember.recall("results", key) is None
    remember.keep("results", key, {"caught": ["D1-F1"]})
    assert remember.recall("results", key) == {"caught": ["D1-F1"]}
    assert remember.recall("proofs", key) is None  # another check's memory

    (memory / "tests" / "test_a.py").write_text("def test_a(): assert False\n")
    assert remember.digest(memory, "bench") != key
    assert remember.digest(memory, "audit") != key


def test_files_in_skipped_or_generated_folders_are_not_inputs(memory):
    key = remember.digest(memory, skip=frozenset({"results"}))
    (memory / "results" / "figures.json").write_text('{"p99": 1}')
    (memory / "tests" / "__pycache__").mkdir()
    (memory / "tests" / "__pycache__" / "test_a.pyc").write_bytes(b"\0")
    (memory / ".drillkit").mkdir()
    (memory / ".drillkit" / "progress.json").write_text("{}")
    assert remember.digest(memory, skip=frozenset({"results"})) == key
    assert remember.digest(memory) != key  # results count where they are not skipped


@pytest.mark.parametrize(
    "name", ["DATABASE_URL", "CELERY_BROKER_URL", "DRILLKIT_DATABASE", "DRILLKIT_SQLITE_PASS"]
)
def test_a_check_on_another_database_or_broker_is_another_check(memory, monkeypatch, name):
    monkeypatch.delenv(name, raising=False)
    key = remember.digest(memory)
    monkeypatch.setenv(name, "postgres://127.0.0.1/test")
    assert remember.digest(memory) != key


def test_fresh_runs_and_damaged_entries_run_the_check(memory, monkeypatch):
    key = remember.digest(memory)
    remember.keep("browser", key)
    assert remember.recall("browser", key) is True
    monkeypatch.setenv("DRILLKIT_FRESH", "1")
    assert remember.recall("browser", key) is None
    monkeypatch.delenv("DRILLKIT_FRESH")
    (remember.MEMORY / "browser" / f"{key}.json").write_text('{"half')
    assert remember.recall("browser", key) is None


def test_another_release_of_an_installed_package_is_another_check(memory, monkeypatch):
    key = remember.digest(memory)
    installed = remember.installed_packages()
    assert "django==" in installed
    assert "pytest==" in installed
    upgraded = re.sub(r"django==[^;]+", "django==99.0", installed)
    monkeypatch.setattr(remember, "installed_packages", lambda: upgraded)
    assert remember.digest(memory) != key


def test_the_browser_check_is_rerun_when_anything_the_site_is_built_from_changes():
    # mkdocs.yml's `watch:` names the folders outside docs/ that pages are built from;
    # a change in any of them must give the browser check another digest.
    config = (PROJECT_ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    watched = re.search(r"^watch:\n((?:  - .+\n)+)", config, re.MULTILINE)
    assert watched, "mkdocs.yml has no watch: list"
    folders = {line.strip()[2:] for line in watched.group(1).splitlines()}
    assert "scorecards" in folders
    assert folders <= set(browsercheck.SITE_SOURCES)
    assert {"docs", "mkdocs.yml"} <= set(browsercheck.SITE_SOURCES)
