"""The variant bank is complete: every flaw has its single-flaw variant and wrong fixes.

Whether each variant and wrong fix really behaves as its header says is proven by
`nox -s prove`, which runs the drill's tests on every one of them.
"""

import pytest

from drillkit.catalog import all_drills
from drillkit.mixes import incompatible_pairs
from drillkit.variants import bank, not_applying_after

MIN_WRONG_FIXES_PER_DRILL = 8


@pytest.mark.parametrize("drill", all_drills(), ids=lambda d: d.name)
def test_every_flaw_has_a_single_flaw_variant(drill):
    variants = {v.flaw for v in bank(drill, "flaw")}
    assert [f.id for f in drill.flaws if f.id not in variants] == []


@pytest.mark.parametrize("drill", all_drills(), ids=lambda d: d.name)
def test_every_flaw_has_a_wrong_fix_and_the_drill_at_least_eight(drill):
    wrong_fixes = bank(drill, "wrong-fix")
    covered = {v.flaw for v in wrong_fixes}
    assert [f.id for f in drill.flaws if f.id not in covered] == []
    assert len(wrong_fixes) >= max(MIN_WRONG_FIXES_PER_DRILL, len(drill.flaws))


@pytest.mark.parametrize("drill", all_drills(), ids=lambda d: d.name)
def test_every_pair_a_mix_may_draw_applies_together(drill):
    """The textual half of the pairs proof, in seconds: `prove --only pairs` (in CI) also
    runs the tests on each pair."""
    banned = incompatible_pairs(drill)
    variants = bank(drill, "flaw")
    clashes = []
    for index, first in enumerate(variants):
        later = [
            v
            for v in variants[index + 1 :]
            if v.flaw != first.flaw and frozenset((first.flaw, v.flaw)) not in banned
        ]
        clashes += [f"{first.name} + {name}" for name in not_applying_after(drill, first, later)]
    assert clashes == []
