"""Mixes: a fresh, reproducible subset of a drill's flaws for every attempt."""

import filecmp
import hashlib
import json
import shutil
import subprocess
import sys

import pytest

from drillkit import mixes
from drillkit.catalog import PROJECT_ROOT, all_drills, get_drill
from drillkit.errors import DrillError
from drillkit.targets import resolve_target
from drillkit.workspace import start

DRILL = get_drill("drill4")


def tree(folder):
    """Every file of a copy, relative path -> bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_same_seed_gives_identical_copies_and_another_seed_another_subset(tmp_path):
    start("drill4", workspace=tmp_path / "a", mix=True, seed=7)
    start("drill4", workspace=tmp_path / "b", mix=True, seed=7)
    assert tree(tmp_path / "a" / "drill4") == tree(tmp_path / "b" / "drill4")
    subsets = {mixes.draw(DRILL, seed).planted for seed in range(1, 30)}
    assert len(subsets) > 1


def test_a_mix_also_varies_where_a_flaw_sits():
    """One placement of D4-F3 leaves the nested route's list and create unchecked, the
    other only its list; over a few seeds a mix draws both."""
    drawn = {
        v.name
        for seed in range(1, 60)
        for v in mixes.draw(DRILL, seed).variants
        if v.flaw == "D4-F3"
    }
    assert drawn == {"D4-F3", "D4-F3.list-open"}


def test_the_copy_records_only_its_seed_and_what_made_it(tmp_path):
    start("drill4", workspace=tmp_path, mix=True, seed=7)
    copy = tmp_path / "drill4"
    record = json.loads((copy / ".drillkit" / "attempt.json").read_text())
    assert record == {"mix": {"seed": 7, "made_from": mixes.draw(DRILL, 7).made_from}}
    text = "\n".join(p.read_text(errors="replace") for p in copy.rglob("*") if p.is_file())
    for flaw in DRILL.flaws:
        assert flaw.id not in text


def test_a_mix_made_by_an_older_handbook_is_refused_with_what_to_do(tmp_path):
    """Its flaws or their places may differ from what the seed draws today: scoring it
    against today's mix would be wrong without a word."""
    start("drill4", workspace=tmp_path, mix=True, seed=7)
    copy = tmp_path / "drill4"
    record = copy / ".drillkit" / "attempt.json"
    record.write_text(json.dumps({"mix": {"seed": 7}}))  # as the first mixes were recorded
    with pytest.raises(DrillError, match="as an earlier version of the handbook made it") as err:
        mixes.mix_of(resolve_target(DRILL, str(copy)))
    assert "nox -s start -- drill4 --mix --seed 7 --force" in str(err.value)


EXPLAINED = '''"""Why this module exists."""

import hashlib  # for the digest


class Throttled:
    """Counts per client address."""


class Stats:

    scope = "stats"


def digest(text):
    """A digest; the "#" in a string stays."""

    # Without a salt two users with one password share a digest.
    return hashlib.sha256(("#salt" + text).encode()).hexdigest()
'''


def test_a_mix_drops_the_solutions_explanations_and_keeps_its_behaviour():
    plain = mixes.without_explanations(EXPLAINED)
    assert plain == (
        "import hashlib\n\n\n"
        "class Throttled:\n    pass\n\n\n"
        'class Stats:\n    scope = "stats"\n\n\n'
        "def digest(text):\n"
        '    return hashlib.sha256(("#salt" + text).encode()).hexdigest()\n'
    )
    namespace: dict = {}
    exec(compile(plain, "plain.py", "exec"), namespace)
    assert namespace["digest"]("x") == hashlib.sha256(b"#saltx").hexdigest()


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("x = 1 \\\n# a comment\ny = 2\n", id="a comment after a continuation"),
        pytest.param('def f():\n    """———"""; x = 1\n    return x\n', id="code after a docstring"),
        pytest.param('def f(x):\n    return f"""a {x}\n\n\n\nb"""\n', id="f-string"),
        pytest.param('def f():\n    return """\ndef g():\n\n    pass"""\n', id="code in a string"),
        pytest.param('"""Only a docstring."""\n', id="a module that is only a docstring"),
        pytest.param('class A:\n    """Doc."""\n    # a comment\n', id="a docstring and a comment"),
    ],
)
def test_stripping_never_changes_what_the_code_does(source):
    plain = mixes.without_explanations(source)
    compile(plain, "plain.py", "exec")
    assert mixes._shape(plain) == mixes._shape(source)
    assert "comment" not in plain
    assert "Doc" not in plain


def test_a_mixed_copy_has_no_comment_beside_a_planted_flaw(tmp_path):
    """The solution's comments say why each fix is there; a mix must not keep them."""
    import io
    import tokenize

    start("drill4", workspace=tmp_path, mix=True, seed=7)
    for path in (tmp_path / "drill4").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        assert not [t.string for t in tokens if t.type == tokenize.COMMENT], path


@pytest.mark.parametrize("drill", all_drills(), ids=lambda d: d.name)
def test_a_mix_never_draws_a_declared_incompatible_pair(drill):
    banned = mixes.incompatible_pairs(drill)
    for seed in range(1, 40):
        planted = mixes.draw(drill, seed).planted
        assert not any(pair <= planted for pair in banned)
        assert len(planted) >= mixes.SMALLEST_MIX


def run_blind(copy):
    report = copy.parent / "report.json"
    command = ["test", "drill4", "--target", str(copy), "--blind", "--flaw-report", str(report)]
    subprocess.run(
        [sys.executable, "-m", "drillkit", *command],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    return json.loads(report.read_text())["flaws"]


def test_a_mix_reports_exactly_its_planted_flaws_and_the_solution_fixes_them(tmp_path):
    start("drill4", workspace=tmp_path, mix=True, seed=7)
    copy = tmp_path / "drill4"
    planted = mixes.draw(DRILL, 7).planted
    states = run_blind(copy)
    assert {f for f, s in states.items() if s == "open"} == planted
    assert {f for f, s in states.items() if s == "not planted"} == {
        f.id for f in DRILL.flaws
    } - planted
    # The learner's fix: the solution's files copied over the mix.
    shutil.copytree(DRILL.solution, copy, dirs_exist_ok=True)
    assert not filecmp.dircmp(DRILL.solution, copy).diff_files
    states = run_blind(copy)
    assert {f for f, s in states.items() if s == "fixed"} == planted


def test_a_line_cut_from_a_class_body_is_located_at_the_class(tmp_path):
    """D4-F1's variant deletes StatsView's permission line; a reviewer points at the class
    line, which the location must include, not only the method that now follows it."""
    mix = next(m for seed in range(1, 60) if "D4-F1" in (m := mixes.draw(DRILL, seed)).planted)
    start("drill4", workspace=tmp_path, mix=True, seed=mix.seed)
    views = (tmp_path / "drill4" / "notes" / "views.py").read_text().splitlines()
    class_line = next(n for n, line in enumerate(views, 1) if line.startswith("class StatsView"))
    (spot,) = mixes.locations(mix)["D4-F1"]
    assert spot.file == "notes/views.py"
    assert spot.lines[0] <= class_line <= spot.lines[1]
