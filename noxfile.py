"""Sessions for the handbook. Thin on purpose: the logic lives in drill_code/drillkit.

nox                          every check CI runs (drills, starter checks, harness, docs, lint)
nox -s serve                 the handbook at http://127.0.0.1:8000
nox -s browser               every page of the handbook checked in a real Chromium
nox -s start -- drill4       copy Drill 4's starter into workspace/drill4
nox -s drill4 -- --target workspace/drill4    check your copy
"""

import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
sys.path.insert(0, str(ROOT / "drill_code"))

if sys.version_info < (3, 11):  # noqa: UP036  (nox itself may run on an older Python)
    sys.exit(
        f"nox runs on Python {sys.version_info.major}.{sys.version_info.minor}, and the "
        "handbook needs 3.11 or newer. Install nox with a newer Python, e.g. "
        '`pipx install --python python3.12 "nox[uv]"`, then run nox again.'
    )

from drillkit import workspace  # noqa: E402  (needs the sys.path line above)
from drillkit.browsercheck import BrowserMissing, find_chromium  # noqa: E402
from drillkit.catalog import SCRIPTS, all_drills  # noqa: E402
from drillkit.errors import DrillError  # noqa: E402
from drillkit.noxhelp import requested_sessions, unknown_session_message  # noqa: E402

# Sessions use a Python that is already installed; uv must not download another one.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
# Compile .pyc files at install time: a warm session then starts fast even where the
# shell sets PYTHONDONTWRITEBYTECODE, which would otherwise recompile every import.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True

# The Pythons the handbook supports: Django 5.2's, from 3.11 up (pyproject.toml says the
# same in requires-python; CI tests 3.11, 3.12 and 3.13).
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13", "3.14")


def _python() -> str:
    """The Python the sessions run on: DRILLS_PYTHON if set, else the one nox runs on if
    it is supported, else the newest supported one on PATH (nox names what is missing)."""
    if os.environ.get("DRILLS_PYTHON"):
        return os.environ["DRILLS_PYTHON"]
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running in SUPPORTED_PYTHONS:
        return running
    found = [v for v in SUPPORTED_PYTHONS if shutil.which(f"python{v}")]
    return found[-1] if found else SUPPORTED_PYTHONS[0]


PYTHON = _python()
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
HARNESS_ENV = {"PYTHONPATH": str(ROOT / "drill_code")}
# mkdocs-material prints an end-of-life banner on every build; the handbook tracks it in
# its own time and the banner hides real warnings.
DOCS_ENV = {**HARNESS_ENV, "NO_MKDOCS_2_WARNING": "1"}


def install(session: nox.Session, *groups: str) -> None:
    session.install(*nox.project.dependency_groups(PYPROJECT, *groups))


def drillkit(session: nox.Session, *args: str) -> None:
    session.run("python", "-m", "drillkit", *args, env=HARNESS_ENV)


def _drill_session(name: str):
    def run_drill(session: nox.Session) -> None:
        install(session, "drills")
        drillkit(session, "test", name, *session.posargs)

    return run_drill


for _drill in all_drills():
    _session = _drill_session(_drill.name)
    _session.__doc__ = (
        f"Drill {_drill.number}, {_drill.title}: the tests, on the reference solution "
        "unless `-- --target starter|PATH`."
    )
    nox.session(name=_drill.name, python=PYTHON, tags=["drills"])(_session)


@nox.session(python=PYTHON)
def prove(session: nox.Session) -> None:
    """Prove every drill in parallel: each starter (every flaw's tests fail, the rest pass),
    each single-flaw variant (only that flaw's tests fail) and each wrong fix (rejected,
    by its flaw's tests). `-- drill4` for one drill, `-- --only wrong-fixes` for one part."""
    install(session, "drills")
    drillkit(session, "prove", *session.posargs)


@nox.session(python=PYTHON, default=False)
def starters(session: nox.Session) -> None:
    """Prove the starters only, with pytest's full output: `-- drill4` for one."""
    install(session, "drills")
    for name in session.posargs or [drill.name for drill in all_drills()]:
        drillkit(session, "test", name, "--target", "starter", "--expect-flaws")


@nox.session(python=PYTHON, tags=["drills"])
def results(session: nox.Session) -> None:
    """Rerun every drill's bench.py and audit.py with --check: the results the pages
    show must still be what the code produces."""
    install(session, "drills")
    for drill in all_drills():
        for kind in SCRIPTS:
            if drill.has_script(kind):
                drillkit(session, kind, drill.name, "--check")


def drill_command(session: nox.Session, command: str, example: str) -> None:
    """Sessions that name a drill and hand the rest to `python -m drillkit COMMAND`."""
    install(session, "drills")
    if not session.posargs:
        session.error(f"Name the drill first, e.g. `nox -s {command} -- {example}`")
    drillkit(session, command, *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """A drill's benchmark, e.g. `nox -s bench -- drill2`; set DATABASE_URL for PostgreSQL."""
    drill_command(session, "bench", "drill2")


@nox.session(python=PYTHON, default=False)
def audit(session: nox.Session) -> None:
    """A drill's audit report, e.g. `nox -s audit -- drill1 [--target PATH] [--check]`."""
    drill_command(session, "audit", "drill1")


@nox.session(python=PYTHON, default=False)
def manage(session: nox.Session) -> None:
    """manage.py for a drill's target: `-- drill3 --target workspace/drill3 makemigrations`."""
    drill_command(session, "manage", "drill3 --target workspace/drill3 makemigrations")


@nox.session(python=PYTHON, default=False)
def scorecard(session: nox.Session) -> None:
    """Self-audits: `-- new drill4 [--target PATH]`, `-- check [FILES]`, `-- report`."""
    install(session, "drills", "scorecards")
    if not session.posargs:
        session.error("Say what to do: `-- new drill4`, `-- check [FILES]` or `-- report`")
    drillkit(session, "scorecard", *session.posargs)


@nox.session(python=PYTHON, default=False)
def grade(session: nox.Session) -> None:
    """Grade a team's attempts: `-- attempts/` (each is attempts/<person>/<drill>/)."""
    install(session, "drills")
    drillkit(session, "grade", *session.posargs)


@nox.session(python=PYTHON)
def harness(session: nox.Session) -> None:
    """The drill harness's own tests: targets, flaw bookkeeping, messages for bad input."""
    install(session, "drills", "docs", "scorecards", "terminal", "harness")
    # The harness tests need no installed pytest plugin but their own (see their conftest)
    # and xdist: most of them start drill runs, so each core takes a test file at a time.
    env = {**HARNESS_ENV, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    parallel = ["-p", "xdist.plugin", "--numprocesses", "auto", "--dist", "loadfile"]
    # The browser check's own tests need Chromium and Playwright: `nox -s browser` runs them.
    ignore = "--ignore=drill_code/drillkit/tests/test_browsercheck.py"
    # pytest looks in testpaths only when no test is named: `-- -k grade` filters the whole
    # suite, `-- drill_code/drillkit/tests/test_docs.py` runs that file alone.
    tests = ["-o", "testpaths=drill_code/drillkit/tests"]
    session.run("pytest", *parallel, ignore, *tests, *session.posargs, env=env)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the handbook strictly into site/ and check its code matches drill_code/."""
    install(session, "docs", "drills", "scorecards")
    session.run("mkdocs", "build", "--strict", env=DOCS_ENV)
    drillkit(session, "check-site", "site")


@nox.session(python=PYTHON)
def browser(session: nox.Session) -> None:
    """The handbook in a real browser: every page in Chromium at desktop and phone width,
    light and dark (console errors, failed requests, overflow, axe-core, search, tabs,
    spoilers). Screenshots go to .cache/browser/screenshots/."""
    try:
        find_chromium()
    except BrowserMissing as missing:
        if os.environ.get("CI") == "true":
            session.error(f"{missing} Under CI=true a missing browser fails.")
        session.skip(str(missing))
    install(session, "docs", "drills", "scorecards", "browser")
    # First prove the check itself fails on planted problems, then check the real site.
    env = {**DOCS_ENV, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    session.run("pytest", "-q", "drill_code/drillkit/tests/test_browsercheck.py", env=env)
    session.run("python", "-m", "drillkit.browsercheck", *session.posargs, env=DOCS_ENV)


@nox.session(python=PYTHON, default=False)
def serve(session: nox.Session) -> None:
    """Serve the handbook with live reload at http://127.0.0.1:8000."""
    install(session, "docs", "drills", "scorecards")
    session.run("mkdocs", "serve", "--dev-addr", "127.0.0.1:8000", env=DOCS_ENV)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole project; the reference solutions
    also pass ruff's security rules and bandit at medium severity and above; the GitHub
    workflows pass actionlint and zizmor."""
    install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    solutions = [str(drill.solution.relative_to(ROOT)) for drill in all_drills()]
    session.run("ruff", "check", "--select", "S", *solutions)
    session.run("bandit", "--quiet", "--recursive", "--severity-level", "medium", *solutions)
    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github/workflows").glob("*.yml"))
    session.run("actionlint", *workflows)
    # --offline: zizmor's online audits ask GitHub's API, which CI may not reach; the
    # offline ones cover pinning, permissions, credentials and template injection.
    session.run("zizmor", "--offline", "--min-severity", "low", *workflows)


@nox.session(python=PYTHON, default=False)
def loopbench(session: nox.Session) -> None:
    """Warm timings of each drill's loop and the docs build: `-- [drill3 docs] [--runs 5]`,
    or `-- --stability 20 drill3 drill5` for the same verdict run after run."""
    install(session, "drills", "terminal")
    session.run("python", "-m", "drillkit.loopbench", *session.posargs, env=HARNESS_ENV)


@nox.session(python=PYTHON, default=False)
def watch(session: nox.Session) -> None:
    """Rerun a drill's tests whenever your copy changes: `-- drill4 [--target PATH]`."""
    install(session, "drills", "terminal")
    if not session.posargs:
        session.error("Name the drill first, e.g. `nox -s watch -- drill4`")
    drillkit(session, "watch", *session.posargs)


@nox.session(python=PYTHON, default=False)
def progress(session: nox.Session) -> None:
    """Every drill's progress in your workspace, from what your last runs saved."""
    install(session, "drills")
    drillkit(session, "progress", *session.posargs)


@nox.session(venv_backend="none", default=False)
def start(session: nox.Session) -> None:
    """Copy a drill's starter into workspace/: `nox -s start -- drill4 [--force]`; a fresh
    mix of its flaws with `--mix [--seed N]`; elsewhere with `--into FOLDER`."""
    try:
        request = workspace.parse_start_args(list(session.posargs))
        session.log(
            workspace.start(
                request.name,
                force=request.force,
                mix=request.mix,
                seed=request.seed,
                into=request.into,
            )
        )
    except DrillError as problem:
        session.error(str(problem).rstrip("."))


def _explain_unknown_sessions() -> None:
    """`nox -s drill9` gets a paragraph naming the real drills, not "Sessions not found":
    each unknown name asked for on the command line becomes a session that says so."""
    known = list(nox.registry.get())
    for name in requested_sessions(sys.argv[1:]):
        if name in known:
            continue
        message = unknown_session_message(name, known)

        def explain(session: nox.Session, message: str = message) -> None:
            session.error(message.rstrip("."))

        nox.session(name=name, venv_backend="none", default=False)(explain)


_explain_unknown_sessions()
