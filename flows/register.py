"""The register entry's facts, read at the edge: the champion's MLflow training run, the
latest nightly run, the audit log, the counsellors' decisions and the hold-out analysis
(read by :func:`flows.reviews.holdout_result`, as ``reviews report`` reads it).

Each figure is taken from one place and named with it (run id and metric, or audit entry
and field), so the published entry can be checked against the runs. A figure nobody has
measured yet is left out and the texts say so; a count under the minimum cell size is
withheld, never printed.
"""

from __future__ import annotations

from typing import Any

from features.errors import SourceError
from flows.run import RunContext
from outreach.register_entry import Facts, Figure, HoldOut, holdout_figures, holdout_source

# figure id -> metric of the champion's training run
TRAINING_METRICS = {
    "precision_at_capacity": "pooled_precision_at_capacity",
    "recall_at_capacity": "pooled_recall_at_capacity",
    "roc_auc": "pooled_roc_auc",
    "calibration_error": "pooled_calibration_error",
    "challenger_roc_auc": "challenger_pooled_roc_auc",
    "price_of_transparency": "price_of_transparency_roc_auc",
    "fairness_flags": "fairness_flags",
    "baseline_fairness_flags": "challenger_fairness_flags",
    "fairness_worst_gap": "fairness_worst_gap",
    "override_share": "reviews_override_share",
    "disagreement_rate": "reviews_disagreement_rate",
}
NIGHTLY_METRICS = {"held_out": "excluded_held_out", "listed": "listed", "scored": "cohort"}
REVIEW_METRICS = {
    "override_share": "reviews_override_share",
    "disagreement_rate": "reviews_disagreement_rate",
}
COUNTED = ("held_out", "listed", "scored")


def _from_run(run: Any, wanted: dict[str, str], min_cell: int) -> dict[str, Figure]:
    out = {}
    for figure_id, key in wanted.items():
        if key not in run.data.metrics:
            continue
        value = float(run.data.metrics[key])
        source = {"mlflow_run_id": run.info.run_id, "key": key}
        small = figure_id in COUNTED and 0 < value < min_cell
        out[figure_id] = Figure(
            figure_id, None if small else value, source, "below_min_cell" if small else None
        )
    return out


def _audit_figure(entry: dict[str, Any], figure_id: str, key: str) -> Figure | None:
    if entry.get(key) is None:
        return None
    source = {"audit_seq": entry["seq"], "audit_hash": entry["hash"], "key": key}
    return Figure(figure_id, float(entry[key]), source)


def _latest(entries: list[dict[str, Any]], event: str, **match: str) -> dict[str, Any] | None:
    for entry in reversed(entries):
        if entry.get("event") == event and all(str(entry.get(k)) == v for k, v in match.items()):
            return entry
    return None


def _review_figures(ctx: RunContext, entries: list[dict[str, Any]]) -> dict[str, Figure]:
    """Override and disagreement shares of the decisions stored now, named with the audit
    entry of the latest import (used when the champion's run has none: trained before any
    decision came back)."""
    from flows.reviews import review_metrics

    imported = _latest(entries, "reviews-import")
    if imported is None:
        return {}
    metrics = review_metrics(ctx)
    out = {}
    for figure_id, key in REVIEW_METRICS.items():
        if key in metrics:
            source = {"audit_seq": imported["seq"], "audit_hash": imported["hash"], "key": key}
            out[figure_id] = Figure(figure_id, float(metrics[key]), source)
    return out


def _holdout(ctx: RunContext, entries: list[dict[str, Any]]) -> tuple[HoldOut, dict[str, Figure]]:
    """The hold-out's effect as ``reviews report`` computes it; its figures name the draws
    store (and its row count) and the ``holdout.plan`` audit entry that fixed the plan."""
    from flows.decisions import HOLDOUT
    from flows.holdout_plan import EVENT, plan_state
    from flows.reviews import holdout_result, load_outcomes

    result = holdout_result(ctx, load_outcomes(ctx))
    plan_entry = next((e for e in entries if e.get("event") == EVENT), None)
    draws = 0 if result is None else result.draws.height
    source = holdout_source(
        "/".join(HOLDOUT), draws, plan_entry, ctx.settings.privacy.min_cell_size
    )
    effect = None if result is None else result.effect
    plan = plan_state(ctx) if result is None else result.plan
    return HoldOut(effect, plan, source), holdout_figures(effect, source)


def gather(ctx: RunContext, contact_email: str) -> Facts:
    """The facts behind the register entry; refuses when there is no champion model yet."""
    from flows.tracking import registry_for
    from models.registry import CHAMPION

    s = ctx.settings
    registry = registry_for(ctx)
    champion = registry.version_with_alias(CHAMPION)
    if champion is None:
        raise SourceError(
            source=s.mlflow_uri,
            message="there is no champion model to describe yet.",
            hint="Run `ennakko train` (or the nightly run) first; a model that passes the "
            "promotion gate becomes the champion.",
        )
    training = registry.client.get_run(champion.run_id)
    min_cell = s.privacy.min_cell_size
    figures = _from_run(training, TRAINING_METRICS, min_cell)
    ctx.audit.ensure_intact()
    entries = ctx.audit.read()
    trained = _latest(entries, "train", model_version=str(champion.version))
    if trained is not None and (fig := _audit_figure(trained, "training_rows", "training_rows")):
        figures[fig.id] = fig
    nightly = _latest(entries, "nightly")
    if nightly is not None and nightly.get("mlflow_run"):
        figures |= _from_run(
            registry.client.get_run(nightly["mlflow_run"]), NIGHTLY_METRICS, min_cell
        )
    if "override_share" not in figures:
        figures |= _review_figures(ctx, entries)
    holdout_share = float(
        training.data.params.get("outreach.holdout_share", s.outreach.holdout_share)
    )
    holdout = None
    if holdout_share > 0:
        source = {"mlflow_run_id": training.info.run_id, "key": "outreach.holdout_share"}
        figures["holdout_share"] = Figure("holdout_share", holdout_share, source)
        holdout, effect_figures = _holdout(ctx, entries)
        figures |= effect_figures
    return Facts(
        area=s.area_name,
        organization=s.privacy.controller,
        contact_email=contact_email,
        status="development" if s.truth_path is not None else "pilot",
        capacity=s.outreach.capacity.default,
        min_cell=min_cell,
        cooldown_days=s.outreach.cooldown_days,
        decline_days=s.outreach.decline_days,
        holdout_share=holdout_share,
        partners={name: _partner(spec) for name, spec in s.partners.items()},
        model_version=str(champion.version),
        champion_run_id=champion.run_id,
        today=ctx.today,
        figures=figures,
        holdout=holdout,
    )


def _partner(spec: Any) -> dict[str, str]:
    label = spec.label
    names = {
        lang: getattr(label, lang, None) or (label.get(lang) if isinstance(label, dict) else None)
        for lang in ("fi", "sv", "en")
    }
    return {**{k: v for k, v in names.items() if v}, "dpia": spec.dpia}
