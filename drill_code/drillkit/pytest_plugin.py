"""The pytest plugin that ties test failures to a drill's planted flaws.

Tests mark what they catch with `@pytest.mark.flaw("D4-F2")` (or
`pytest.param(..., marks=pytest.mark.flaw("D4-F2"))` for one row of a table).
The plugin then

* refuses to run when a test names a flaw the drill does not list, or a listed flaw
  has no test: a flaw nobody tests is a flaw nobody can fix;
* names the flaw, in plain words, in every failure it explains;
* ends with a summary of which flaws are fixed and which are still open;
* with `expect_flaws` (the starter check CI runs), turns every flaw test into a strict
  xfail: it must fail with an assertion, and every other test must pass.
"""

from __future__ import annotations

import gc
import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

from drillkit.catalog import Flaw, shown
from drillkit.targets import Target

MARKER = "flaw"
POSTGRES_MARKER = "postgres"


def flaw_ids(item: pytest.Item) -> list[str]:
    return [marker.args[0] for marker in item.iter_markers(MARKER)]


class DrillPlugin:
    def __init__(
        self,
        target: Target,
        *,
        expect_flaws: bool = False,
        flaw_report: Path | None = None,
        only_flaws: frozenset[str] = frozenset(),
        learner_tests: bool = False,
        blind: bool = False,
        planted: frozenset[str] | None = None,
    ) -> None:
        self.target = target
        self.flaw_report = flaw_report  # where to write the outcome as JSON, for scorecards
        # Run only the tests of these flaws (a wrong fix needs only its own flaw's tests).
        self.only_flaws = only_flaws
        # The tests are the learner's own (graded against variants), not the drill's: they
        # carry no flaw markers, so there is no bookkeeping to check.
        self.learner_tests = learner_tests
        # A blind run names no flaw: drillkit.learner prints counts after the run instead.
        self.blind = blind
        # A mix plants only some flaws; the others are neither open nor fixed in it.
        self.planted = planted
        self.passed: set[str] = set()  # node ids whose test passed
        self.skipped: set[str] = set()  # node ids skipped (e.g. PostgreSQL-only on SQLite)
        self.failed: set[str] = set()  # node ids that failed or errored in any phase
        self.errored: set[str] = set()  # flaw ids with a test that could not run
        self.failed_flaws: dict[str, list[str]] = {}  # failed node id -> its flaw ids
        self.drill = target.drill
        self.expect_flaws = expect_flaws
        # flaw id -> for each of its tests that ran, whether that test saw the flaw
        self.seen: dict[str, list[bool]] = defaultdict(list)
        self.collected: dict[str, list[str]] = defaultdict(list)
        self.collected_count = 0

    # -- collection ------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line(
            "markers", f"{MARKER}(id): the test fails while the planted flaw `id` is present"
        )
        config.addinivalue_line(
            "markers",
            f"{POSTGRES_MARKER}(reason=...): the test needs PostgreSQL; skipped on SQLite, "
            "and an error under CI outside its SQLite pass",
        )

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        from drillkit.backends import database_url, is_postgres

        marker = item.get_closest_marker(POSTGRES_MARKER)
        if marker is None or is_postgres(database_url()):
            return
        why = marker.kwargs.get("reason", "it relies on PostgreSQL's behaviour")
        reason = (
            f"needs PostgreSQL: {why}. Run with `--database postgres` and the harness "
            "starts a PostgreSQL server of its own (nothing to install), or set "
            "DATABASE_URL to a server of yours"
        )
        # CI runs every drill twice: on SQLite, then on PostgreSQL. Only the SQLite pass,
        # which .ci/run marks, may skip these; anywhere else under CI, a skip would hide
        # that PostgreSQL was never there.
        if os.environ.get("CI") == "true" and os.environ.get("DRILLKIT_SQLITE_PASS") != "1":
            pytest.fail(f"{reason}. Under CI a missing service is an error, not a skip.")
        pytest.skip(reason)

    def pytest_report_header(self) -> str:
        from drillkit.backends import database_url, describe

        mode = " (starter check: flaw tests must fail)" if self.expect_flaws else ""
        return (
            f"{self.drill.name}: {self.drill.title} | target: {self.target.label}{mode} | "
            f"database: {describe(database_url())}"
        )

    @pytest.hookimpl(tryfirst=True)  # before -k/-m deselect, so the check sees every test
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        self.collected_count = len(items)
        if self.learner_tests:
            return
        self._check_flaw_markers(items)
        if self.only_flaws:
            kept = [item for item in items if self.only_flaws & set(flaw_ids(item))]
            dropped = [item for item in items if item not in kept]
            if dropped:
                config.hook.pytest_deselected(items=dropped)
                items[:] = kept

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self) -> None:
        # By now Django, DRF, the drill's tests and every library they import are loaded,
        # and stay until the process ends, yet each full garbage collection during the
        # tests would scan them all again. gc.freeze() sets them aside; what the tests
        # create is collected as usual. (`nox -s loopbench` shows the CPU time a run
        # takes.)
        gc.collect()
        gc.freeze()

    def pytest_unconfigure(self) -> None:
        # A process that runs pytest more than once (the harness's own tests do) gets
        # back what this run set aside, rather than keeping every run's objects for good.
        gc.unfreeze()

    def _check_flaw_markers(self, items: list[pytest.Item]) -> None:
        listed = {flaw.id for flaw in self.drill.flaws}
        for item in items:
            for flaw_id in flaw_ids(item):
                if flaw_id not in listed:
                    raise pytest.UsageError(
                        f"{item.nodeid} is marked with flaw {flaw_id!r}, which "
                        f"{shown(self.drill.folder)}/drill.toml does not list."
                    )
                self.collected[flaw_id].append(item.nodeid)
                if self.expect_flaws:
                    item.add_marker(
                        pytest.mark.xfail(
                            strict=True,
                            raises=AssertionError,
                            reason=f"{flaw_id} is planted in the starter",
                        )
                    )
        untested = sorted(listed - self.collected.keys())
        if untested and items:
            raise pytest.UsageError(
                f"{self.drill.name} lists flaws that no test catches: {', '.join(untested)}. "
                "Mark the tests that catch them with @pytest.mark.flaw(...)."
            )

    # -- running ---------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report: pytest.TestReport = yield
        if report.failed:
            self.failed.add(item.nodeid)
            self.failed_flaws[item.nodeid] = flaw_ids(item)
        elif report.when == "call" and report.passed:
            self.passed.add(item.nodeid)
        elif report.skipped and not hasattr(report, "wasxfail"):
            self.skipped.add(item.nodeid)
        ids = flaw_ids(item)
        if not ids or self.learner_tests:
            return report
        flaws = [self.drill.flaw(flaw_id) for flaw_id in ids]
        if report.when != "call":
            if report.failed:  # a fixture or the setup broke: the test said nothing
                self.errored.update(flaw.id for flaw in flaws)
            return report
        if report.skipped and not hasattr(report, "wasxfail"):
            return report  # skipped inside the test: it said nothing about the flaw either
        # Under expect_flaws the strict xfail turns "failed with an assertion" into xfailed.
        seen = hasattr(report, "wasxfail") if self.expect_flaws else report.failed
        if self.expect_flaws and report.failed:
            # A strict xfail that passed, or failed with something other than an assertion:
            # either way the test does not prove the flaw is there.
            self._explain(
                report,
                flaws,
                "is planted in the starter, but this test did not "
                "fail with an assertion, so it does not catch it",
            )
        elif report.failed:
            self._explain(report, flaws, "is still present")
        for flaw in flaws:
            self.seen[flaw.id].append(seen)
        return report

    def _explain(self, report: pytest.TestReport, flaws: list[Flaw], state: str) -> None:
        if self.blind:
            return
        for flaw in flaws:
            report.sections.append(
                (
                    f"planted flaw {flaw.id}",
                    f"{flaw.id} {flaw.title} {state}.\n\nWhy it matters: {flaw.why}\n"
                    f"Stuck? See the hints for {flaw.id} in "
                    f"{shown(self.drill.folder)}/hints.md or on the drill's page.",
                )
            )
        # The one-line summary at the end of the run shows this message: lead with the flaw.
        crash = getattr(report.longrepr, "reprcrash", None)
        if crash is not None:
            names = "; ".join(f"{flaw.id} {flaw.title}" for flaw in flaws)
            crash.message = f"[{names}] {crash.message}"

    # -- summary ---------------------------------------------------------------------

    def flaw_states(self) -> dict[str, str]:
        """Each listed flaw as "fixed", "open", "error", "not run" or, in a mix that did
        not plant it, "not planted", in drill.toml order."""
        states = {}
        for flaw in self.drill.flaws:
            seen = self.seen.get(flaw.id)
            if self.planted is not None and flaw.id not in self.planted:
                states[flaw.id] = "not planted"
            elif flaw.id in self.errored:
                states[flaw.id] = "error"
            elif not seen:
                states[flaw.id] = "not run"
            else:
                states[flaw.id] = "open" if any(seen) else "fixed"
        return states

    def pytest_sessionfinish(self) -> None:
        if self.flaw_report is not None:
            outcome = {
                "passed": len(self.passed - self.failed),
                "failed": len(self.failed),
                "flaws": self.flaw_states(),
                # Which tests failed, with the flaws each one is marked with: the variant
                # checks use it to prove that only the planted flaw's tests failed.
                "failed_tests": {
                    node_id: self.failed_flaws.get(node_id, []) for node_id in sorted(self.failed)
                },
                "skipped_tests": sorted(self.skipped),
            }
            self.flaw_report.write_text(json.dumps(outcome, indent=2))

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.blind:
            return
        states = self.flaw_states()
        ran = [f for f in self.drill.flaws if states[f.id] not in ("not run", "not planted")]
        if not ran:
            return
        write = terminalreporter.write_line
        if self.expect_flaws:
            caught = [f for f in ran if states[f.id] == "open" and all(self.seen[f.id])]
            terminalreporter.section(
                f"{self.drill.name} starter check: {len(caught)} of {len(ran)} planted flaws "
                "caught by their tests",
                sep="=",
            )
            for flaw in ran:
                mark = "caught " if flaw in caught else "MISSED "
                write(f"  {mark} {flaw.id:<7} {flaw.title}")
        else:
            fixed = [f for f in ran if states[f.id] == "fixed"]
            terminalreporter.section(
                f"{self.drill.name} on {self.target.label}: {len(fixed)} of {len(ran)} flaws fixed",
                sep="=",
            )
            labels = {"fixed": "fixed  ", "open": "OPEN   ", "error": "ERROR  "}
            for flaw in ran:
                write(f"  {labels[states[flaw.id]]} {flaw.id:<7} {flaw.title}")
        if any(states[f.id] == "error" for f in ran):
            write("  (ERROR: a test of that flaw could not run; read the errors above first)")
        not_run = [f.id for f in self.drill.flaws if states[f.id] == "not run"]
        if not_run:
            write(f"  (not run this time: {', '.join(not_run)})")
