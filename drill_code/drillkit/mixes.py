"""A fresh mix of flaws for every attempt, so a drill done again a month later measures
skill rather than recall.

A mix is the reference solution with a random subset of the drill's single-flaw
variants applied. Where the bank holds several placements of one flaw (`D4-F3.patch`,
`D4-F3.list-open.patch`), the mix also draws which one. The copy records only the
seed, in `.drillkit/attempt.json`; the subset is recomputed from it, so nothing in the
copy names its flaws, and `--seed N` gives a whole team the same mix.
"""

from __future__ import annotations

import ast
import hashlib
import random
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from drillkit.catalog import Drill, Location, shown
from drillkit.errors import DrillError
from drillkit.variants import Variant, bank, materialize

# How a mix is made: 2 strips the solution's comments and docstrings from the copy.
MIX_FORMAT = 2
# How much of a drill a mix plants: between a third and two thirds of its flaws, at
# least two, so a mix is neither trivial nor the whole starter again.
SMALLEST_MIX = 2


@dataclass(frozen=True)
class Mix:
    drill: Drill
    seed: int
    variants: tuple[Variant, ...]  # one placement per planted flaw, in flaw order

    @property
    def planted(self) -> frozenset[str]:
        return frozenset(v.flaw for v in self.variants)

    @property
    def made_from(self) -> str:
        """A digest of what made the copy: how a mix is made, and each patch it applied.
        It names no flaw, and it changes when the bank or the making does, so a copy made
        by an older handbook is never scored against a mix it no longer is."""
        digest = hashlib.sha256(f"mix format {MIX_FORMAT}".encode())
        for variant in self.variants:
            digest.update(variant.path.read_bytes())
        return digest.hexdigest()[:16]


def incompatible_pairs(drill: Drill) -> set[frozenset[str]]:
    """Pairs of flaws drill.toml declares cannot be planted together."""
    return {frozenset(pair) for pair in drill.incompatible}


def draw(drill: Drill, seed: int) -> Mix:
    """The mix a seed stands for: the same seed gives the same mix on every machine."""
    placements: dict[str, list[Variant]] = {}
    for variant in bank(drill, "flaw"):
        placements.setdefault(variant.flaw, []).append(variant)
    flaws = [flaw.id for flaw in drill.flaws if flaw.id in placements]
    if len(flaws) < SMALLEST_MIX:
        raise DrillError(f"{drill.name} has too few single-flaw variants to mix.")
    rng = random.Random(f"{drill.name}:{seed}")
    low = max(SMALLEST_MIX, len(flaws) // 3)
    size = rng.randint(low, max(low, 2 * len(flaws) // 3))
    banned = incompatible_pairs(drill)
    chosen: list[str] = []
    for flaw_id in rng.sample(flaws, len(flaws)):
        if len(chosen) == size:
            break
        if all(frozenset((flaw_id, other)) not in banned for other in chosen):
            chosen.append(flaw_id)
    order = {flaw_id: index for index, flaw_id in enumerate(flaws)}
    picked = tuple(rng.choice(placements[f]) for f in sorted(chosen, key=order.__getitem__))
    return Mix(drill, seed, picked)


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 1_000_000)


def make_copy(mix: Mix, destination: Path) -> Path:
    """The mixed copy the learner gets, without the solution's comments and docstrings."""
    return _planted(mix.drill, mix.variants, destination)


def _planted(drill: Drill, variants, destination: Path) -> Path:
    # A mix starts from the reference solution, whose comments explain each fix ("Without
    # its own throttle the token endpoint is a password-guessing oracle"). Left above a
    # planted flaw, such a comment names it; so a mix keeps the code and drops the prose.
    copy = materialize(drill, variants, destination)
    for path in copy.rglob("*.py"):
        path.write_text(without_explanations(path.read_text(encoding="utf-8")), encoding="utf-8")
    return copy


_BLOCK_HEADER = re.compile(r"^\s*(?:async\s+def|def|class)\b.*:\s*$")


def without_explanations(source: str) -> str:
    """Python source without its comments and docstrings. The result parses to the same
    tree, docstrings aside, so it behaves the same but for `__doc__`; a file for which
    that does not hold is kept as it was. A body that was only a docstring gets `pass`."""
    import io
    import tokenize

    tree = ast.parse(source)
    lines = source.splitlines()
    dropped: set[int] = set()  # 0-based line numbers
    in_strings: set[int] = set()  # lines inside a multi-line string, f-strings included
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant | ast.JoinedStr) and node.end_lineno > node.lineno:
            in_strings.update(range(node.lineno, node.end_lineno))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        row, column = token.start[0] - 1, token.start[1]
        if lines[row][:column].strip():
            lines[row] = lines[row][:column].rstrip()  # code, then a comment: keep the code
        elif row and lines[row - 1].rstrip().endswith("\\"):
            lines[row] = ""  # the line a backslash continues onto must stay
        else:
            dropped.add(row)
    for node in ast.walk(tree):
        docstring = _docstring(node)
        if docstring is None:
            continue
        start, end = docstring.lineno - 1, docstring.end_lineno - 1
        before = _columns(lines[start], docstring.col_offset)
        after = lines[end][len(_columns(lines[end], docstring.end_col_offset)) :]
        if before.strip() or after.strip():
            continue  # shares a line with other code
        if len(node.body) == 1 and not isinstance(node, ast.Module):
            lines[start] = before + "pass"
            dropped.update(range(start + 1, end + 1))
        else:
            dropped.update(range(start, end + 1))
            # The blank line that set the docstring apart goes with it.
            if end + 1 < len(lines) and not lines[end + 1].strip():
                dropped.add(end + 1)
    tidy: list[str] = []
    for number, line in enumerate(lines):
        if number in dropped:
            continue
        if not line.strip() and number not in in_strings:
            if not tidy:
                continue  # the file starts with code
            if len(tidy) >= 2 and not tidy[-1].strip() and not tidy[-2].strip():
                continue  # at most two blank lines in a row, as PEP 8 has them
            if _BLOCK_HEADER.match(tidy[-1]):
                continue  # no blank line opens a body (where a removed line or docstring was)
        tidy.append(line)
    plain = "\n".join(tidy) + "\n" if tidy else ""
    try:
        same = _shape(plain) == _shape(source)
    except SyntaxError:
        same = False
    return plain if same else source


def _docstring(node: ast.AST) -> ast.Expr | None:
    kinds = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
    body = getattr(node, "body", None) if isinstance(node, kinds) else None
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first
    return None


def _columns(line: str, byte_offset: int) -> str:
    """The start of `line` up to an offset `ast` gives in UTF-8 bytes, not characters."""
    return line.encode()[:byte_offset].decode(errors="ignore")


def _shape(source: str) -> str:
    """The tree of `source` without its docstrings or any line numbers."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if _docstring(node) is not None:
            node.body = node.body[1:] or ([] if isinstance(node, ast.Module) else [ast.Pass()])
    return ast.dump(tree)


def locations(mix: Mix) -> dict[str, tuple[Location, ...]]:
    """Where each planted flaw sits in the mixed copy: the lines its patch changed,
    measured against the copy with every other planted flaw already applied."""
    spots: dict[str, tuple[Location, ...]] = {}
    with tempfile.TemporaryDirectory(prefix="drillkit-mix-") as scratch:
        full = make_copy(mix, Path(scratch) / "mix")
        for variant in mix.variants:
            others = [v for v in mix.variants if v is not variant]
            without = _planted(mix.drill, others, Path(scratch) / f"without-{variant.name}")
            spots[variant.flaw] = tuple(_changed_lines(without, full))
            shutil.rmtree(without)
    return spots


def _changed_lines(before: Path, after: Path):
    """A Location per changed block of lines in `after`, compared with `before`."""
    import difflib

    for path in sorted(after.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(after)
        old = before / relative
        new_lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        old_lines = (
            old.read_text(encoding="utf-8", errors="replace").splitlines() if old.exists() else []
        )
        if new_lines == old_lines:
            continue
        matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
        for tag, _, _, first, last in matcher.get_opcodes():
            if tag == "equal":
                continue
            if tag == "delete":
                # A deleted line has no place in `after`: point at the lines on both sides
                # of where it was, so a line cut from the top of a class body belongs to
                # the class, not to the method that now follows the class line.
                start, end = max(1, first), min(first + 1, max(len(new_lines), 1))
            else:
                start = min(first + 1, max(len(new_lines), 1))
                end = min(max(start, last), max(len(new_lines), 1))
            if path.suffix == ".py":
                start, end = _enclosing_definition(new_lines, start, end)
            text = new_lines[start - 1].strip() if new_lines else ""
            yield Location(relative.as_posix(), (start, end), text[:40])


def _enclosing_definition(lines: list[str], start: int, end: int) -> tuple[int, int]:
    """Widen a change to the innermost function or class around it, as a reviewer points
    at `get_queryset`, not at one line of it (the starter's locations are drawn the same
    way); a module-level change, such as a setting, gets the lines around it."""
    import ast

    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return max(1, start - 2), min(len(lines), end + 2)
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            encloses = first <= start and node.end_lineno >= end
            if encloses and (best is None or node.end_lineno - first < best[1] - best[0]):
                best = (first, node.end_lineno)
    return best or (max(1, start - 2), min(len(lines), end + 2))


def mix_of(target) -> Mix | None:
    """The mix a learner's copy was made from, recomputed from the seed its attempt
    record holds; None for a copy of the starter."""
    from drillkit import attempt

    record = attempt.load(target.path).get("mix", {})
    if record.get("seed") is None:
        return None
    seed = int(record["seed"])
    mix = draw(target.drill, seed)
    if record.get("made_from") != mix.made_from:
        raise DrillError(
            f"{shown(target.path)} is mix {seed} of {target.drill.name} as an earlier version "
            "of the handbook made it, and the drill's flaw bank or the way mixes are made has "
            "changed since: the harness can no longer tell which flaws the copy holds, or "
            "where. Start it again (your copy is moved aside, not overwritten): "
            f"`nox -s start -- {target.drill.name} --mix --seed {seed} --force`."
        )
    return mix


def planted_flaws(target) -> list:
    """The flaws planted in a target, with their locations in it: every flaw, where the
    starter has it, for a copy of the starter; the mix's flaws, where the mix put them."""
    import dataclasses

    mix = mix_of(target)
    if mix is None:
        return list(target.drill.flaws)
    spots = locations(mix)
    return [
        dataclasses.replace(flaw, locations=spots[flaw.id])
        for flaw in target.drill.flaws
        if flaw.id in mix.planted
    ]
