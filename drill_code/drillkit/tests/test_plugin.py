"""The flaw bookkeeping, run on small synthetic test files with pytester."""

import textwrap

import pytest

from drillkit.catalog import Drill, Flaw
from drillkit.pytest_plugin import DrillPlugin
from drillkit.targets import Target


@pytest.fixture
def drill(tmp_path):
    return Drill(
        name="drill0",
        number=0,
        title="Synthetic",
        summary="",
        checklist=(),
        time_box="",
        app="app",
        folder=tmp_path,
        flaws=(Flaw("D0-F1", "Doors left open", "Anyone walks in."),),
    )


@pytest.fixture
def run(pytester, drill):
    def run_tests(source, *, expect_flaws=False, starter=True):
        pytester.makepyfile(test_sample=textwrap.dedent(source))
        path = drill.starter if starter else drill.solution
        plugin = DrillPlugin(Target(drill, path, "starter"), expect_flaws=expect_flaws)
        return pytester.runpytest("-rs", "-p", "no:cacheprovider", plugins=[plugin])

    return run_tests


FLAW_TEST_FAILS = """
    import pytest

    @pytest.mark.flaw("D0-F1")
    def test_door_is_locked():
        assert "open" == "locked"

    def test_unrelated():
        assert "unrelated".isalpha()
"""

FLAW_TEST_PASSES = """
    import pytest

    @pytest.mark.flaw("D0-F1")
    def test_door_is_locked():
        assert "locked" == "locked"
"""


def test_a_failure_names_its_flaw_and_the_summary_lists_it_open(run):
    result = run(FLAW_TEST_FAILS)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*planted flaw D0-F1*",
            "D0-F1 Doors left open is still present.",
            "Why it matters: Anyone walks in.",
            "*drill0 on starter: 0 of 1 flaws fixed*",
            "*OPEN*D0-F1*Doors left open*",
        ]
    )


def test_a_passing_flaw_test_counts_the_flaw_as_fixed(run):
    result = run(FLAW_TEST_PASSES)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*drill0 on starter: 1 of 1 flaws fixed*", "*fixed*D0-F1*"])


def test_starter_check_passes_when_every_flaw_test_fails_with_an_assertion(run):
    result = run(FLAW_TEST_FAILS, expect_flaws=True)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*starter check: 1 of 1 planted flaws caught*"])


def test_starter_check_fails_when_a_flaw_test_passes(run):
    result = run(FLAW_TEST_PASSES, expect_flaws=True)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*did not fail with an assertion*", "*MISSED*D0-F1*"])


def test_starter_check_fails_when_a_flaw_test_errors_instead_of_asserting(run):
    result = run(
        """
        import pytest

        @pytest.mark.flaw("D0-F1")
        def test_door_is_locked():
            raise KeyError("door")
        """,
        expect_flaws=True,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*MISSED*D0-F1*"])


def test_a_flaw_id_the_drill_does_not_list_is_refused(run):
    result = run(
        """
        import pytest

        @pytest.mark.flaw("D0-F9")
        def test_something():
            assert "door".upper() == "DOOR"
        """
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*marked with flaw 'D0-F9', which*drill.toml does not list*"])


def test_a_listed_flaw_without_a_test_is_refused(run):
    result = run(
        """
        def test_something():
            assert "door".upper() == "DOOR"
        """
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*lists flaws that no test catches: D0-F1*"])


def test_a_broken_fixture_is_an_error_not_an_open_flaw(run):
    result = run(
        """
        import pytest

        @pytest.fixture
        def door():
            raise RuntimeError("the fixture itself is broken")

        @pytest.mark.flaw("D0-F1")
        def test_door_is_locked(door):
            assert door == "locked"
        """
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*ERROR*D0-F1*Doors left open*", "*could not run*"])
    result.stdout.no_fnmatch_line("*OPEN*D0-F1*")
    result.stdout.no_fnmatch_line("*is still present*")


POSTGRES_ONLY = """
    import pytest

    @pytest.mark.postgres(reason="SQLite cannot show it")
    @pytest.mark.flaw("D0-F1")
    def test_needs_postgres():
        assert False, "never reached on SQLite"
"""


@pytest.mark.parametrize(
    ("environment", "outcome", "message"),
    [
        (
            {},
            {"skipped": 1},
            "*needs PostgreSQL: SQLite cannot show it. Run with `--database postgres`*",
        ),
        ({"CI": "true"}, {"errors": 1}, "*Under CI a missing service is an error*"),
        ({"CI": "true", "DRILLKIT_SQLITE_PASS": "1"}, {"skipped": 1}, "*needs PostgreSQL*"),
    ],
    ids=["laptop skips", "CI fails", "CI's SQLite pass skips"],
)
def test_a_postgres_test_on_sqlite(run, monkeypatch, environment, outcome, message):
    for name in ("DATABASE_URL", "CI", "DRILLKIT_SQLITE_PASS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = run(POSTGRES_ONLY)
    result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines([message])


def test_a_flaw_test_that_skips_leaves_its_flaw_not_run(run):
    result = run(
        """
        import pytest

        @pytest.mark.flaw("D0-F1")
        def test_door_is_locked():
            pytest.skip("no door in this building")
        """
    )
    result.assert_outcomes(skipped=1)
    result.stdout.no_fnmatch_line("*fixed*D0-F1*")
