"""What CI proves about every drill, so that a green run means a fixed copy.

* the starter: every planted flaw's tests fail with an assertion, every other test passes;
* each single-flaw variant (solution + one flaw): that flaw is open, every other flaw is
  fixed, and no test fails but that flaw's own, so no flaw hides behind another;
* each wrong fix: its flaw is reported open, by the test its header names.

`python -m drillkit prove [DRILL ...] [--only starter,flaws,wrong-fixes]` runs them all
in parallel processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from drillkit import remember
from drillkit.backends import database_url, is_postgres
from drillkit.catalog import Drill
from drillkit.errors import DrillError
from drillkit.variants import Run, Variant, bank, in_parallel, run_on_variants, run_tests

PARTS = ("starter", "flaws", "wrong-fixes")
# Every pair of single-flaw variants, for mixes: slower (n(n-1)/2 runs a drill), so CI
# runs it as its own step rather than in every `nox`.
PAIRS = "pairs"


@dataclass
class Proof:
    drill: Drill
    part: str  # one of PARTS
    name: str
    ok: bool
    problem: str = ""  # what went wrong, for the log
    run: Run | None = None
    not_run: bool = False  # the flaw's tests need PostgreSQL and this run is on SQLite
    remembered: bool = False  # proven before from exactly the same inputs (see _remembered)


def _postgres_skips_allowed() -> bool:
    """Only on SQLite, and under CI only in the pass .ci/run marks as the SQLite pass."""
    if is_postgres(database_url()):
        return False
    return os.environ.get("CI") != "true" or os.environ.get("DRILLKIT_SQLITE_PASS") == "1"


def prove_starter(drill: Drill) -> Proof:
    run = run_tests(drill, "starter", label=f"{drill.name} starter", expect_flaws=True)
    problem = "" if run.code == 0 else "the starter check failed (see its output)"
    return Proof(drill, "starter", "starter", run.code == 0, problem, run)


def prove_flaw_variant(variant: Variant) -> Proof:
    return _prove_planted("flaws", [variant])


def prove_pair(first: Variant, second: Variant) -> Proof:
    return _prove_planted(PAIRS, [first, second])


def _prove_planted(part: str, variants: list[Variant]) -> Proof:
    """On the solution with `variants` applied, exactly their flaws are open, every other
    flaw is fixed, and no test fails but those of the planted flaws."""
    drill = variants[0].drill
    name = " + ".join(v.name for v in variants)
    try:
        run = run_on_variants(drill, variants)
    except DrillError as error:  # the patches do not apply together: that pair's proof fails
        return Proof(drill, part, name, ok=False, problem=str(error))
    proof = Proof(drill, part, name, ok=False, run=run)
    planted = {v.flaw for v in variants}
    states = {flaw_id: run.flaws.get(flaw_id) for flaw_id in planted}
    if set(states.values()) == {"not run"} and _postgres_skips_allowed():
        proof.ok, proof.not_run = True, True
        return proof
    others = {fid: s for fid, s in run.flaws.items() if fid not in planted and s != "fixed"}
    # A skipped PostgreSQL-only flaw is "not run" on SQLite: neither fixed nor a problem.
    if _postgres_skips_allowed():
        others = {fid: s for fid, s in others.items() if s != "not run"}
        states = {fid: s for fid, s in states.items() if s != "not run"}
    strangers = [node for node, ids in run.failed_tests.items() if not planted & set(ids)]
    hidden = {fid: s for fid, s in states.items() if s != "open"}
    if not run.flaws:
        proof.problem = f"the tests did not run (exit code {run.code})"
    elif hidden:
        proof.problem = "planted but not caught: " + ", ".join(
            f"{fid} reported {s!r}" for fid, s in hidden.items()
        )
    elif others:
        proof.problem = "other flaws are not fixed: " + ", ".join(
            f"{fid} {s}" for fid, s in others.items()
        )
    elif strangers:
        proof.problem = "tests not marked with a planted flaw failed: " + ", ".join(strangers)
    else:
        proof.ok = True
    return proof


def prove_wrong_fix(variant: Variant) -> Proof:
    if variant.needs_postgres and _postgres_skips_allowed():
        # A race: SQLite has no row locks to get wrong, so only PostgreSQL can reject it.
        proof = Proof(variant.drill, "wrong-fixes", variant.name, ok=True)
        proof.not_run = True
        return proof
    # Only the flaw's own tests run: what is proven is that they reject this fix.
    run = run_on_variants(variant.drill, [variant], only_flaws=[variant.flaw])
    proof = Proof(variant.drill, "wrong-fixes", variant.name, ok=False, run=run)
    state = run.flaws.get(variant.flaw)
    if state == "not run" and _postgres_skips_allowed():
        proof.ok, proof.not_run = True, True
        return proof
    catching = [node for node in run.failed_tests if variant.caught_by in node]
    # A race's wrong fix is caught by a PostgreSQL-only test: on SQLite that test is
    # skipped while the flaw's other tests pass, so it is proven in the PostgreSQL pass.
    caught_by_a_skipped_test = any(variant.caught_by in node for node in run.skipped_tests)
    if state == "fixed" and caught_by_a_skipped_test and _postgres_skips_allowed():
        proof.ok, proof.not_run = True, True
        return proof
    if not run.flaws:
        proof.problem = f"the tests did not run (exit code {run.code})"
    elif state != "open":
        proof.problem = f"the tests pass: {variant.flaw} is reported {state!r}, so it slips by"
    elif not catching:
        failed = ", ".join(run.failed_tests) or "none"
        proof.problem = f"no failing test matches 'Caught by: {variant.caught_by}' ({failed})"
    else:
        proof.ok = True
    return proof


def deferred_to_postgres(drill: Drill) -> bool:
    """In CI's SQLite pass, a drill whose tests need PostgreSQL is proven once, in the
    pass that runs it on PostgreSQL as a learner's run does; each proof runs where the
    drill runs by default."""
    return drill.needs_postgres and os.environ.get("DRILLKIT_SQLITE_PASS") == "1"


def prove(drills: list[Drill], parts: tuple[str, ...] = PARTS) -> list[Proof]:
    jobs = []
    for drill in [d for d in drills if not deferred_to_postgres(d)]:
        if "starter" in parts:
            jobs.append((drill, "starter", (), lambda d=drill: prove_starter(d)))
        if "flaws" in parts:
            for variant in bank(drill, "flaw"):
                jobs.append((drill, "flaws", (variant,), lambda v=variant: prove_flaw_variant(v)))
        if "wrong-fixes" in parts:
            for variant in bank(drill, "wrong-fix"):
                jobs.append(
                    (drill, "wrong-fixes", (variant,), lambda v=variant: prove_wrong_fix(v))
                )
        if PAIRS in parts:
            for first, second in composable_pairs(drill):
                pair = (first, second)
                jobs.append((drill, PAIRS, pair, lambda a=first, b=second: prove_pair(a, b)))
    labelled = []
    for drill, part, variants, job in jobs:
        name = " + ".join(v.name for v in variants) or f"{drill.name} starter"
        labelled.append((name, _remembered(drill, part, variants, name, job)))
    return in_parallel(labelled, title="Proving " + ", ".join(parts))


# -- remembering proofs ---------------------------------------------------------------
# A proof is a pure function of the drill's files, the harness, the dependency bounds,
# the patches and the database it ran on: a warm `nox` reuses a proof made from exactly
# the same inputs (drillkit.remember), and any change reruns it.


@cache
def _drill_digest(drill: Drill) -> str:
    # The variants are inputs of their own proofs only; results/ are what benches write.
    skip = frozenset({"results", "variants"})
    return remember.digest(drill.folder, remember.harness_digest(), skip=skip)


def _proof_key(drill: Drill, part: str, variants: tuple[Variant, ...]) -> str:
    return remember.digest(_drill_digest(drill), part, *(variant.path for variant in variants))


def _remembered(drill: Drill, part: str, variants, name: str, job):
    def run() -> Proof:
        key = _proof_key(drill, part, variants)
        if remember.recall("proofs", key):
            return Proof(drill, part, name, ok=True, remembered=True)
        proof = job()
        if proof.ok and not proof.not_run:
            remember.keep("proofs", key)
        return proof

    return run


def composable_pairs(drill: Drill) -> list[tuple[Variant, Variant]]:
    """Every two single-flaw variants of different flaws that a mix may draw together."""
    from itertools import combinations

    from drillkit.mixes import incompatible_pairs

    banned = incompatible_pairs(drill)
    return [
        (a, b)
        for a, b in combinations(bank(drill, "flaw"), 2)
        if a.flaw != b.flaw and frozenset((a.flaw, b.flaw)) not in banned
    ]


def summary(drills: list[Drill], proofs: list[Proof], parts: tuple[str, ...]) -> list[str]:
    """One line per drill and part, then every failed proof with its evidence."""
    lines = []
    for drill in drills:
        if deferred_to_postgres(drill):
            lines.append(
                f"{drill.name}: proven in the PostgreSQL pass, where its tests run as a "
                "learner's do (they need PostgreSQL)"
            )
            continue
        mine = [p for p in proofs if p.drill is drill]
        cells = []
        for part in parts:
            done = [p for p in mine if p.part == part]
            if part != "starter" and not done:
                cells.append(f"{part}: none in the bank")
                continue
            ok = sum(p.ok and not p.not_run for p in done)
            skipped = sum(p.not_run for p in done)
            cell = f"{part}: {ok} of {len(done)} proven"
            if skipped:
                cell += f" ({skipped} need PostgreSQL, proven in the PostgreSQL pass)"
            remembered = sum(p.remembered for p in done)
            if remembered:
                cell += f" ({remembered} unchanged since an earlier proof)"
            cells.append(cell)
        flaws_without = [
            f.id for f in drill.flaws if f.id not in {v.flaw for v in bank(drill, "flaw")}
        ]
        if "flaws" in parts and flaws_without:
            cells.append(f"NO single-flaw variant for {', '.join(flaws_without)}")
        lines.append(f"{drill.name}: " + "; ".join(cells))
    for proof in proofs:
        if not proof.ok:
            lines += ["", f"FAILED {proof.drill.name} {proof.part} {proof.name}: {proof.problem}"]
            if proof.run is not None:
                lines.append(proof.run.tail())
    return lines


def all_proven(drills: list[Drill], proofs: list[Proof], parts: tuple[str, ...]) -> bool:
    missing_variants = "flaws" in parts and any(
        f.id not in {v.flaw for v in bank(d, "flaw")}
        for d in drills
        if not deferred_to_postgres(d)
        for f in d.flaws
    )
    return all(p.ok for p in proofs) and not missing_variants
