"""The promotion gate: when may a newly trained model replace the champion?

A candidate is promoted when (1) its pooled precision at capacity is not worse than the
champion's by more than the tolerance, (2) it adds no fairness flag and widens none beyond
``fairness_tolerance``, and (3) its expected calibration error is within bounds. The
champion's figures are those logged by its own training run. Without a champion, (2) is
only (3) applies, and the report sets its flags beside the black-box challenger's. A refused
candidate is kept as ``challenger``; the report says which rule refused it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from models.spec import PromotionSpec


@dataclass
class Decision:
    promote: bool
    reasons: list[str]

    def text(self) -> str:
        verdict = "Promoted to champion" if self.promote else "Kept as challenger"
        return f"{verdict}: " + "; ".join(self.reasons) + "."


def decide(
    candidate: Mapping[str, float], champion: Mapping[str, float] | None, spec: PromotionSpec
) -> Decision:
    """Apply the gate to pooled metrics (keys as logged: ``pooled_precision_at_capacity``,
    ``pooled_calibration_error``, ``fairness_flags``)."""
    reasons, ok = [], True
    ece = candidate.get("pooled_calibration_error", float("nan"))
    if not ece <= spec.max_calibration_error:
        ok = False
        reasons.append(f"calibration error {ece:.4f} above the bound {spec.max_calibration_error}")
    else:
        reasons.append(f"calibration error {ece:.4f} within {spec.max_calibration_error}")
    if champion is None:
        reasons.append("no current champion")
        _fairness_note(candidate, reasons)
        return Decision(ok, reasons)
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


def _fairness_note(candidate: Mapping[str, float], reasons: list[str]) -> None:
    """The first model's flags beside the black-box challenger's on the same rows: said,
    not gated (most flags on these data follow the groups' own base rates)."""
    if "challenger_fairness_flags" in candidate:
        reasons.append(
            f"{int(candidate.get('fairness_flags', 0))} fairness flags (the challenger's lists "
            f"on the same rows: {int(candidate['challenger_fairness_flags'])})"
        )
