"""The promotion gate: when may a newly trained model replace the champion?

A candidate is promoted when (1) its pooled precision at capacity is not worse than the
champion's by more than the tolerance, (2) it adds no fairness flag and widens none beyond
``fairness_tolerance``, and (3) its expected calibration error is within bounds. The
champion's figures are those logged by its own training run.

The first model has no champion to be compared with; its fairness is judged against a
documented baseline instead (docs/fairness.md): the lists of the gradient-boosted
challenger, fitted on the same rows with the same inputs and no constraint of
readability, i.e. the gaps these data give a model that reads them. Group by group and
rate of each main attribute, the first model's interval may not lie further outside the
fairness band than the baseline's by more than ``first_model_fairness_tolerance``.
Intersections (gender × language, ...) are reported, not gated: their cells are a tenth
the size and their intervals too wide to gate on. A refused candidate is kept as ``challenger``; the
report says which rule refused it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from models.fairness import RATES
from models.spec import PromotionSpec


@dataclass
class Decision:
    promote: bool
    reasons: list[str]

    def text(self) -> str:
        verdict = "Promoted to champion" if self.promote else "Kept as challenger"
        return f"{verdict}: " + "; ".join(self.reasons) + "."


def decide(
    candidate: Mapping[str, float],
    champion: Mapping[str, float] | None,
    spec: PromotionSpec,
    *,
    audit: pl.DataFrame | None = None,
    baseline: pl.DataFrame | None = None,
    band: tuple[float, float] = (0.8, 1.25),
) -> Decision:
    """Apply the gate to pooled metrics (keys as logged: ``pooled_precision_at_capacity``,
    ``pooled_calibration_error``, ``fairness_flags``). Without a champion, the
    candidate's fairness ``audit`` is compared with the ``baseline`` audit (both tables of
    models.fairness.audit on the same rows)."""
    reasons, ok = [], True
    ece = candidate.get("pooled_calibration_error", float("nan"))
    if not ece <= spec.max_calibration_error:
        ok = False
        reasons.append(f"calibration error {ece:.4f} above the bound {spec.max_calibration_error}")
    else:
        reasons.append(f"calibration error {ece:.4f} within {spec.max_calibration_error}")
    if champion is None:
        reasons.append("no current champion")
        fair = _against_baseline(
            audit, baseline, band, spec.first_model_fairness_tolerance, reasons
        )
        return Decision(ok and fair, reasons)
    new_p = candidate.get("pooled_precision_at_capacity", float("nan"))
    old_p = champion.get("pooled_precision_at_capacity", float("nan"))
    if new_p < old_p - spec.precision_tolerance:
        ok = False
        reasons.append(
            f"precision at capacity {new_p:.3f} worse than the champion's {old_p:.3f} "
            f"beyond the tolerance {spec.precision_tolerance}"
        )
    else:
        reasons.append(f"precision at capacity {new_p:.3f} vs champion {old_p:.3f}")
    fair = _fairness(candidate, champion, spec, reasons)
    return Decision(ok and fair, reasons)


def _fairness(
    candidate: Mapping[str, float],
    champion: Mapping[str, float],
    spec: PromotionSpec,
    reasons: list[str],
) -> bool:
    """No flag added and none widened beyond ``fairness_tolerance`` against the champion."""
    new_f = candidate.get("fairness_flags", 0.0)
    new_gap = candidate.get("fairness_worst_gap", 0.0)
    old_f = champion.get("fairness_flags", 0.0)
    old_gap = champion.get("fairness_worst_gap")  # None: a champion from before intervals
    if new_f > old_f:
        reasons.append(f"{int(new_f)} fairness flags, more than the champion's {int(old_f)}")
        return False
    if old_gap is not None and new_gap > old_gap + spec.fairness_tolerance:
        reasons.append(
            f"a fairness flag reaches {new_gap:.2f} outside the band, wider than the "
            f"champion's {old_gap:.2f} beyond the tolerance {spec.fairness_tolerance}"
        )
        return False
    reasons.append(f"{int(new_f)} fairness flags (champion {int(old_f)})")
    return True


def cell_gaps(table: pl.DataFrame | None, low: float, high: float) -> dict[tuple, float]:
    """How far each (attribute, group, rate) interval of a main attribute lies outside
    [low, high], as a log ratio (0 inside or overlapping it), so that "a quarter further
    out" means the same below ``low`` as above ``high``. Intersections, suppressed cells
    and groups too small to judge are left out."""
    gaps: dict[tuple, float] = {}
    if table is None or table.is_empty():
        return gaps
    for row in table.iter_rows(named=True):
        if " × " in row["attribute"]:
            continue
        for r in RATES:
            lo, hi = row.get(f"{r}_ratio_low"), row.get(f"{r}_ratio_high")
            if lo is None or hi is None or lo <= 0 or hi <= 0:
                continue
            gaps[(row["attribute"], row["group"], r)] = max(
                math.log(low / hi), math.log(lo / high), 0.0
            )
    return gaps


def _against_baseline(
    audit: pl.DataFrame | None,
    baseline: pl.DataFrame | None,
    band: tuple[float, float],
    tolerance: float,
    reasons: list[str],
) -> bool:
    """The first model's gaps, cell by cell, against the documented baseline's."""
    if audit is None:
        return True
    if baseline is None:
        reasons.append(
            "fairness not compared: no baseline (the gradient-boosted challenger is "
            "switched off), see docs/fairness.md"
        )
        return True
    mine, theirs = cell_gaps(audit, *band), cell_gaps(baseline, *band)
    allowed = math.log(1 + tolerance)
    worse = sorted(
        ((gap - theirs.get(cell, 0.0), cell, gap) for cell, gap in mine.items()
         if gap > theirs.get(cell, 0.0) + allowed),
        reverse=True,
    )  # fmt: skip
    if worse:
        shown = "; ".join(
            f"{a} = {g}, {r.replace('_', ' ')}: its interval lies {math.exp(gap):.2f} times "
            f"beyond the band's edge, the baseline's {math.exp(theirs.get((a, g, r), 0.0)):.2f}"
            for _, (a, g, r), gap in worse[:3]
        )
        reasons.append(
            f"{len(worse)} fairness gaps wider than the baseline's (the challenger's lists on "
            f"the same rows) by more than {tolerance:.0%}: {shown}"
        )
        return False
    reasons.append(
        f"no fairness gap wider than the baseline's by more than {tolerance:.0%} "
        f"({sum(g > 0 for g in mine.values())} flags; the baseline "
        f"{sum(g > 0 for g in theirs.values())})"
    )
    return True
