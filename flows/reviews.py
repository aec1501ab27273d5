"""``ennakko reviews import`` and ``reviews report``: the workspace side of outreach.reviews."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import NamedTuple

import polars as pl

from features.consent import consent_state
from features.contracts import Context
from features.sources import load_source
from flows.decisions import REVIEWS, load_holdout
from flows.holdout_plan import plan_state
from flows.privacy import Matcher, erased_hashes, erased_ids
from flows.run import RunContext
from flows.workspace import sha256_file
from outreach.decisions import STORE_SCHEMA
from outreach.effect import Effect, Plan, effect_table
from outreach.review_report import (
    effectiveness,
    headline,
    holdout_analysis,
    holdout_comparison,
    summarise,
)
from outreach.reviews import (
    ImportResult,
    check_returned,
    current,
    merge,
    read_returned,
    with_history_columns,
)

STORE = REVIEWS


def recorded(ctx: RunContext) -> pl.DataFrame:
    """Every stored decision, corrected ones included (a store from before corrections
    were kept gets their empty columns)."""
    path = ctx.ws.path(*STORE)
    if not path.exists():
        return pl.DataFrame(schema=STORE_SCHEMA)
    return with_history_columns(pl.read_parquet(path))


def review_metrics(ctx: RunContext) -> dict[str, float]:
    """Headline figures of the latest decisions, for MLflow (small cells left out)."""
    return headline(recorded(ctx), ctx.settings.privacy.min_cell_size)


def published_lists(ctx: RunContext) -> dict[str, pl.DataFrame]:
    """Every list still published: list id -> its rows (the current version of each date)."""
    out = {}
    root = ctx.ws.path("lists")
    for link in sorted(root.iterdir()) if root.exists() else []:
        if link.name.startswith(".") or not link.exists():
            continue
        for file in sorted(link.glob("*.parquet")):
            team = file.stem[len(link.name) + 1 :]  # <date>-<team>.parquet
            out[file.stem] = pl.read_parquet(file).with_columns(team=pl.lit(team))
    return out


def load_outcomes(ctx: RunContext) -> pl.DataFrame:
    """The outcomes extract's good rows (later registration as unemployed)."""
    s = ctx.settings
    result, _ = load_source(
        s.data_dir, "outcomes", s.sources.outcomes, Context(ctx.today, tuple(s.partners))
    )
    return result.good


def load_consents(ctx: RunContext) -> pl.DataFrame:
    s = ctx.settings
    result, _ = load_source(
        s.data_dir, "consents", s.sources.consents, Context(ctx.today, tuple(s.partners))
    )
    return result.good


def contactable(
    ctx: RunContext, lists: dict[str, pl.DataFrame], consents: pl.DataFrame
) -> dict[str, set[str]]:
    """For each published list, who could have been contacted on its date."""
    s = ctx.settings
    dates = {lid: date.fromisoformat(lid[:10]) for lid in lists}
    state = consent_state(consents, sorted(set(dates.values())), s.consent, s.partners)
    ok = state.filter(pl.col("can_contact"))
    by_date = {
        d: set(ids)
        for (d,), ids in (
            (k, v["person_id"].to_list()) for k, v in ok.partition_by("as_of", as_dict=True).items()
        )
    }
    return {lid: by_date.get(d, set()) for lid, d in dates.items()}


def no_longer_processed(ctx: RunContext, consents: pl.DataFrame) -> set[str]:
    """Pseudonyms (as on the lists) of persons erased, or withdrawn by today."""
    s = ctx.settings
    erased = set(erased_ids(ctx.ws, consents, ctx.keys.audit))
    state = consent_state(consents, [ctx.today], s.consent, s.partners, erased)
    return set(state.filter(pl.col("status").is_in(["withdrawn", "erased"]))["person_id"])


def import_files(
    ctx: RunContext, files: list[Path], counsellor: str | None
) -> list[tuple[Path, ImportResult]]:
    """Check every file first; store all their decisions only when every file passed.

    A file returned again adds its new decisions, skips unchanged ones and records changed
    ones as corrections (the earlier row kept, marked superseded). With
    ``reviews.keep_good_rows`` a file's rows without mistakes are stored and the others
    reported; else one mistake refuses the file, every mistake listed. Rows of persons
    erased or withdrawn since the list was sent are not stored (a list downloaded before
    an erasure must not bring the person back); the result says how many, never who.
    """
    lists = published_lists(ctx)
    consents = load_consents(ctx)
    allowed = contactable(ctx, lists, consents)
    withdrawn = no_longer_processed(ctx, consents)
    erased = Matcher(erased_hashes(ctx.ws), ctx.keys.audit)
    stored = recorded(ctx)
    results = []
    for path in files:
        returned = read_returned(path)
        ids = (
            returned["person_id"]
            if "person_id" in returned.columns
            else pl.Series([], dtype=pl.String)
        )
        gone = withdrawn | erased(ids.drop_nulls().unique().to_list())
        out = pl.col("person_id").is_in(sorted(gone)) if gone else pl.lit(False)
        dropped = returned.filter(out)
        result = check_returned(
            returned.filter(~out), source=str(path),
            published=lists, contactable=allowed, recorded=stored, today=ctx.today,
            counsellor=counsellor, keep_good_rows=ctx.settings.reviews.keep_good_rows,
        )  # fmt: skip
        if dropped.height:
            result.warnings.append(
                f"{dropped.height} row(s) of persons whose data was erased or whose consent "
                f"was withdrawn were not stored (rows {', '.join(map(str, dropped['row'].head(5)))})"
            )
        stored = merge(stored, result.decisions, ctx.today)
        results.append((path, result))
    ctx.ws.write_parquet(ctx.ws.path(*STORE), stored)
    ctx.audit.append(
        {
            "event": "reviews-import",
            "run_id": ctx.run_id,
            "at": ctx.notes.get("started_at"),
            "files": {p.name: sha256_file(p) for p, _ in results},
            "decisions": sum(r.decisions.height for _, r in results),
            "overrides": sum(int(r.decisions["override"].sum()) for _, r in results),
            "corrections": sum(r.corrections for _, r in results),
            "unchanged": sum(r.unchanged for _, r in results),
            "rows_refused": sum(r.problems["row"].n_unique() for _, r in results),
        }
    )
    return results


def report_tables(ctx: RunContext, outcomes: pl.DataFrame | None = None) -> dict[str, pl.DataFrame]:
    """Summaries for `reviews report` and for the monthly training run's MLflow log."""
    decisions = current(recorded(ctx))  # the latest decision per person and list
    s = ctx.settings
    tables = summarise(decisions, s.privacy.min_cell_size)
    if outcomes is not None and not decisions.is_empty():
        tables["effectiveness"] = effectiveness(
            decisions, outcomes, s.labels.horizon_days, ctx.as_of, s.privacy.min_cell_size
        )
    held = holdout_result(ctx, outcomes) if outcomes is not None else None
    if outcomes is not None and held is not None:
        tables["hold_out"] = holdout_comparison(
            held.draws,
            outcomes,
            s.labels.horizon_days,
            ctx.as_of,
            s.privacy.min_cell_size,
        )
        tables["hold_out_flow"] = held.flow
        tables["hold_out_effect"] = effect_table(held.effect, held.plan)
    return tables


class HoldOutResult(NamedTuple):
    """The hold-out's draws as stored, their CONSORT flow, the effect and the plan's state."""

    draws: pl.DataFrame
    flow: pl.DataFrame
    effect: Effect
    plan: Plan


def holdout_result(ctx: RunContext, outcomes: pl.DataFrame) -> HoldOutResult | None:
    """The pre-registered hold-out analysis, read once for `reviews report` and for the
    register entry so both publish the same result (None: no draws stored)."""
    draws = load_holdout(ctx)
    if draws is None:
        return None
    s = ctx.settings
    flow, effect = holdout_analysis(
        draws, outcomes, s.labels.horizon_days, ctx.as_of, s.privacy.min_cell_size,
        s.outreach.holdout_informative_halfwidth,
    )  # fmt: skip
    return HoldOutResult(draws, flow, effect, plan_state(ctx))
