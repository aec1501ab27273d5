"""What an analyst reads in MLflow: plots, tables, a model card and one self-contained HTML report.

Everything here is aggregate: points per bin, metrics per fold, rates per group with small
cells suppressed. No row of any person reaches a report.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve

from models.bundle import RiskModel
from models.fairness import RATES, flag_count, flag_sentences
from models.training import Evaluation


@dataclass
class Report:
    """The artifacts of one training run, ready to log."""

    figures: dict[str, bytes] = field(default_factory=dict)  # name.png -> PNG bytes
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)  # name.csv -> table
    texts: dict[str, str] = field(default_factory=dict)  # name.md / name.html -> text


def _png(fig: Figure) -> bytes:
    """A figure as PNG bytes. Figures are built with matplotlib's object API (no pyplot,
    no global backend): nothing is shared between threads or runs."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _axes(width: float, height: float):
    fig = Figure(figsize=(width, height))
    return fig, fig.add_subplot()


def calibration_figure(predictions: pl.DataFrame, n_bins: int = 10) -> bytes:
    observed, predicted = calibration_curve(
        predictions["label"].to_numpy(),
        predictions["probability"].to_numpy(),
        n_bins=n_bins,
        strategy="quantile",
    )
    fig, ax = _axes(5, 4.5)
    ax.plot([0, 1], [0, 1], color="#999", linestyle="--", label="perfect")
    ax.plot(predicted, observed, marker="o", color="#1f6fb2", label="scorecard (test folds)")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed share registering")
    ax.set_title("Calibration on the test folds")
    ax.legend()
    return _png(fig)


def capacity_figure(predictions: pl.DataFrame, capacities: Sequence[int]) -> bytes:
    """Precision and recall if every team's list were k rows long, for a range of k."""
    rows = []
    ks = sorted({max(1, int(k)) for k in np.linspace(1, max(capacities) * 3, 15)} | set(capacities))
    ranked = predictions.filter(pl.col("can_contact"))
    positives = max(int(ranked["label"].sum()), 1)
    for k in ks:
        listed = ranked.filter(pl.col("rank") <= k)
        hits = int(listed["label"].sum())
        rows.append((k, hits / max(listed.height, 1), hits / positives))
    k, precision, recall = zip(*rows, strict=True)
    fig, ax = _axes(6, 4.5)
    ax.plot(k, precision, marker="o", label="precision (share of the list right)")
    ax.plot(k, recall, marker="s", label="recall (share of registrations reached)")
    for cap in sorted(set(capacities)):
        ax.axvline(cap, color="#c33", linestyle=":", label=f"capacity {cap}")
    ax.set_xlabel("rows per team list")
    ax.set_ylim(0, 1)
    ax.set_title("Precision and recall at list length (test folds)")
    ax.legend(fontsize=8)
    return _png(fig)


def score_figure(predictions: pl.DataFrame) -> bytes:
    fig, ax = _axes(6, 4)
    p = predictions["probability"].to_numpy()
    y = predictions["label"].to_numpy()
    bins = np.linspace(0, max(p.max(), 0.01), 30)
    ax.hist(p[y == 0], bins=bins, alpha=0.6, label="did not register", density=True)
    ax.hist(p[y == 1], bins=bins, alpha=0.6, label="registered", density=True)
    ax.set_xlabel("calibrated risk")
    ax.set_ylabel("density")
    ax.set_title("Score distribution by outcome (test folds)")
    ax.legend()
    return _png(fig)


def drift_figure(feature_drift: pl.DataFrame, alert: float, top: int = 20) -> bytes:
    """The night's population stability index per input (largest first) against the
    alert line: the picture an analyst checks when the nightly run raises a drift alert."""
    shown = feature_drift.sort("psi", descending=True).head(top)
    fig, ax = _axes(7, 0.3 * max(shown.height, 3) + 1.2)
    names = shown["feature"].to_list()[::-1] if "feature" in shown.columns else []
    values = shown["psi"].to_list()[::-1]
    ax.barh(names, values, color=["#c33" if v > alert else "#1f6fb2" for v in values])
    ax.axvline(alert, color="#c33", linestyle=":", label=f"alert above {alert:g}")
    ax.set_xlabel("population stability index against the training data")
    ax.set_title(f"Input drift tonight (top {shown.height})")
    ax.legend(fontsize=8)
    return _png(fig)


def fold_table(evaluation: Evaluation) -> pl.DataFrame:
    rows = []
    for r in evaluation.folds:
        row = {
            "fold": r.fold.number,
            "test_as_of": r.fold.test.isoformat(),
            "train_from": r.fold.train[0].isoformat(),
            "train_to": r.fold.train[-1].isoformat(),
            "train_rows": r.train_rows,
            "test_rows": r.test_rows,
        }
        row |= {k: round(v, 4) for k, v in r.scorecard.items()}
        row |= {f"challenger_{k}": round(v, 4) for k, v in r.challenger.items()}
        rows.append(row)
    return pl.DataFrame(rows)


def model_card(
    model: RiskModel,
    evaluation: Evaluation,
    *,
    area: str,
    as_of: date,
    horizon_days: int,
    promotion: Mapping[str, object],
) -> str:
    p = evaluation.pooled
    c = evaluation.pooled_challenger
    oracle = (
        f"{evaluation.oracle_auc:.3f}" if evaluation.oracle_auc is not None else "n/a (real data)"
    )
    lines = [
        f"# Model card: Ennakko risk scorecard ({area}, trained {as_of.isoformat()})",
        "",
        "## Intended use",
        f"Rank young people who consented to be contacted by how likely they are to register as "
        f"unemployed job seekers within {horizon_days} days, so that counsellors can offer help "
        "early. The list **supports the counsellor's judgement; it decides nothing.** Every row "
        "needs a human decision; no service is granted or refused by the score.",
        "",
        "Not for: decisions about benefits, sanctions or eligibility; persons without a valid "
        "consent for scoring; any use outside the youth employment services.",
        "",
        "## Data",
        f"- Training rows: {model.info.get('train_rows')} (as-of dates "
        f"{model.info.get('train_from')} … {model.info.get('train_to')}), "
        f"positives {model.info.get('positives')}.",
        "- Consented partner sources only; persons whose consent lacked a source have that "
        "source's features set to zero with an `<source>_unknown` flag.",
        "- Sensitive attributes (gender, language) are never inputs; they are used only for the "
        "fairness audit below.",
        "",
        "## Performance (rolling temporal folds, pooled test rows)",
        f"- ROC AUC {p.get('roc_auc', float('nan')):.3f}; average precision "
        f"{p.get('average_precision', float('nan')):.3f}; Brier {p.get('brier', float('nan')):.4f}; "
        f"calibration error {p.get('calibration_error', float('nan')):.4f}.",
        f"- Precision at capacity {p.get('precision_at_capacity', float('nan')):.3f}; recall at "
        f"capacity {p.get('recall_at_capacity', float('nan')):.3f}.",
        f"- Oracle ROC AUC (synthetic truth): {oracle}.",
    ]
    if c:
        lines.append(
            f"- Gradient-boosted challenger ROC AUC {c.get('roc_auc', float('nan')):.3f} "
            f"(price of transparency {c.get('roc_auc', 0) - p.get('roc_auc', 0):+.3f}); never "
            "used for scoring."
        )
    lines += _price_lines(evaluation.simplicity)
    lines += _fairness_lines(evaluation)
    lines += [
        "",
        "## Limits",
        "- The model learns from who registered in the past; people who never register (moved "
        "away, hidden NEET) look like successes to it.",
        "- Partner data differ in coverage: people with fewer consented sources are scored on "
        "less information. See the `<source>_unknown` points.",
        "- Area indicators are aggregate and published with a lag; they describe places, not "
        "persons.",
        "",
        "## Human oversight",
        "- Counsellors decide every row; decisions come back (`ennakko reviews import`) and are "
        "monitored for disagreement with the ranking (automation-bias watch).",
        "- A new model replaces the champion only through the promotion gate: "
        + "; ".join(f"{k}: {v}" for k, v in promotion.items())
        + ".",
        "- Drift of every input is checked nightly; above the threshold every row is flagged.",
    ]
    return "\n".join(lines) + "\n"


def _fairness_lines(evaluation: Evaluation) -> list[str]:
    """Every fairness flag in plain words, and the groups too small to judge."""
    lines: list[str] = []
    lines += ["", "## Fairness (at the list operating point, 95 % bootstrap intervals)"]
    low, high = evaluation.band
    counts, widest = flag_sentences(evaluation.fairness, low=low, high=high)
    small = (
        evaluation.fairness.filter(pl.col("status") == "too small to judge")
        if not evaluation.fairness.is_empty()
        else evaluation.fairness
    )
    if counts:
        total = flag_count(evaluation.fairness)
        lines.append(
            f"{total} rates differ from their reference group beyond {low:g}-{high:g} over their whole "
            f"interval ({'; '.join(counts)}). Compare each with the base rates: a gap the base "
            "rates share comes from the world, not only from the model. The widest:"
        )
        lines += [""] + [f"- {sentence}" for sentence in widest]
        lines += ["", "Every group, rate and interval: the table `fairness` below (fairness.csv)."]
    else:
        lines.append(
            f"No rate differs from its reference group beyond {low:g}-{high:g} over its whole "
            "interval."
        )
    if small.height:
        groups = ", ".join(f"{a} = {g}" for a, g in small.select("attribute", "group").iter_rows())
        lines.append(f"Too small to judge (fewer persons than the minimum cell): {groups}.")
    return lines


def _price_lines(table: pl.DataFrame | None) -> list[str]:
    """The price of each simplification, in words (models.simplicity)."""
    if table is None or table.height < 2:
        return []
    first, last = table.row(0, named=True), table.row(-1, named=True)
    steps = "; ".join(
        f"{r['step']} {-r['auc_given_up']:+.4f}"
        for r in table.iter_rows(named=True)
        if r["step"] != "none"
    )
    return [
        "",
        "## The price of readability (the latest fold, one simplification at a time)",
        f"- Without simplification: {first['features']} features, {first['bins']} bins, up to "
        f"{first['max_points']} points, ROC AUC {first['roc_auc']:.4f}.",
        f"- As deployed: {last['features']} features, {last['bins']} bins, up to "
        f"{last['max_points']} points, ROC AUC {last['roc_auc']:.4f} "
        f"({last['roc_auc'] - first['roc_auc']:+.4f} in all).",
        f"- Each step's change in ROC AUC: {steps}. The table `price of simplicity` below "
        "(price_of_simplicity.csv) has precision at capacity too.",
    ]


# Tables longer than this are cut in the HTML page, saying so and naming the CSV artifact
# that holds every row; the points and calibration tables of a scorecard fit well within.
HTML_ROWS = 2000


def _table_html(frame: pl.DataFrame, name: str = "", limit: int = HTML_ROWS) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.head(limit).iter_rows():
        cells = []
        for v in row:
            if isinstance(v, float):
                text = "" if v is None or np.isnan(v) else f"{v:.4g}"
            else:
                text = "" if v is None else str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = ""
    if frame.height > limit:
        note = (
            f"<p class='note'>Showing the first {limit:,} of {frame.height:,} rows; every row is "
            f"in the run's artifact <code>report/{html.escape(name)}</code>.</p>"
        )
    return (
        f"{note}<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"<p class='count'>{frame.height:,} rows.</p>"
    )


def _markdown_html(text: str) -> str:
    """The model card's Markdown as HTML (markdown-it-py: lists, emphasis, escaping)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).render(text)


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
th{background:#eef3f8} img{max-width:100%} .flag{color:#b00;font-weight:bold}
.note{background:#fff8e1;padding:.6rem 1rem;border-left:4px solid #f0b400}
"""


def html_report(report: Report, *, title: str, card: str, promotion_text: str) -> str:
    """One self-contained page: images inline, no scripts, nothing fetched."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>{html.escape(promotion_text)}</p>",
        _markdown_html(card),
    ]
    for name, png in report.figures.items():
        encoded = base64.b64encode(png).decode()
        parts.append(f"<h2>{html.escape(name.removesuffix('.png').replace('_', ' '))}</h2>")
        parts.append(f"<img alt='{html.escape(name)}' src='data:image/png;base64,{encoded}'>")
    for name, table in report.tables.items():
        parts.append(f"<h2>{html.escape(name.removesuffix('.csv').replace('_', ' '))}</h2>")
        parts.append(_table_html(table, name))
    parts.append("</body></html>")
    return "\n".join(parts)


def champion_comparison(
    metrics: Mapping[str, float],
    champion_metrics: Mapping[str, float] | None,
    points: pl.DataFrame,
    champion_points: pl.DataFrame | None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The candidate beside the current champion: pooled metrics, and how the points
    changed per feature (added, dropped, or the range of points it can give)."""
    names = sorted(k for k in metrics if k.startswith("pooled_"))
    rows = []
    for name in names:
        new = metrics[name]
        old = (champion_metrics or {}).get(name)
        rows.append({"metric": name.removeprefix("pooled_"), "candidate": new,
                     "champion": old, "difference": None if old is None else new - old})  # fmt: skip
    table = pl.DataFrame(
        rows,
        schema={"metric": pl.String, "candidate": pl.Float64, "champion": pl.Float64,
                "difference": pl.Float64},
    )  # fmt: skip

    def spans(frame: pl.DataFrame | None) -> pl.DataFrame:
        if frame is None or frame.is_empty() or "points" not in frame.columns:
            return pl.DataFrame(schema={"feature": pl.String, "span": pl.Float64})
        return frame.group_by("feature").agg(
            span=(pl.col("points").max() - pl.col("points").min()).cast(pl.Float64)
        )

    diff = (
        spans(points)
        .join(spans(champion_points), on="feature", how="full", suffix="_champion", coalesce=True)
        .select(
            "feature",
            pl.col("span").alias("points_span_candidate"),
            pl.col("span_champion").alias("points_span_champion"),
        )
        .with_columns(
            change=pl.when(pl.col("points_span_champion").is_null())
            .then(pl.lit("added"))
            .when(pl.col("points_span_candidate").is_null())
            .then(pl.lit("dropped"))
            .otherwise(pl.lit("kept"))
        )
        .sort("change", "feature")
    )
    return table, diff


def build_report(
    model: RiskModel,
    evaluation: Evaluation,
    *,
    area: str,
    as_of: date,
    horizon_days: int,
    capacities: Sequence[int],
    promotion: Mapping[str, object],
    promotion_text: str,
    champion: RiskModel | None = None,
    champion_metrics: Mapping[str, float] | None = None,
) -> Report:
    """Figures, tables, the model card and the HTML page of one training run; beside the
    current ``champion`` (and its logged metrics) when there is one."""
    report = Report()
    preds = evaluation.predictions
    report.figures["calibration.png"] = calibration_figure(preds)
    report.figures["precision_at_capacity.png"] = capacity_figure(preds, capacities)
    report.figures["score_distribution.png"] = score_figure(preds)
    report.tables["points_table.csv"] = model.estimator.points_table()
    report.tables["calibration_table.csv"] = model.estimator.calibration_table()
    report.tables["folds.csv"] = fold_table(evaluation)
    if evaluation.simplicity is not None:
        report.tables["price_of_simplicity.csv"] = evaluation.simplicity
    report.tables["fairness.csv"] = evaluation.fairness.select(
        "attribute", "group", "status", "reference", "n", "base_rate",
        *[c for r in RATES for c in (r, f"{r}_ratio", f"{r}_ratio_low", f"{r}_ratio_high",
                                     f"{r}_flag")],
    ) if not evaluation.fairness.is_empty() else evaluation.fairness  # fmt: skip
    if evaluation.challenger_fairness is not None and not evaluation.challenger_fairness.is_empty():
        # The documented baseline the first model's fairness is gated against.
        report.tables["fairness_baseline_challenger.csv"] = evaluation.challenger_fairness.select(
            "attribute", "group", "status", "n", "base_rate",
            *[c for r in RATES for c in (f"{r}_ratio", f"{r}_ratio_low", f"{r}_ratio_high",
                                         f"{r}_flag")],
        )  # fmt: skip
    report.tables["precision_by_team.csv"] = evaluation.per_team
    if champion is not None or champion_metrics:
        metrics_table, points_diff = champion_comparison(
            evaluation.metrics(), champion_metrics, report.tables["points_table.csv"],
            champion.estimator.points_table() if champion is not None else None,
        )  # fmt: skip
        report.tables["compared_with_champion.csv"] = metrics_table
        report.tables["points_compared_with_champion.csv"] = points_diff
    card = model_card(
        model, evaluation, area=area, as_of=as_of, horizon_days=horizon_days, promotion=promotion
    )
    report.texts["model_card.md"] = card
    report.texts["report.html"] = html_report(
        report, title=f"Ennakko training report, {area}, {as_of.isoformat()}", card=card,
        promotion_text=promotion_text,
    )  # fmt: skip
    return report
