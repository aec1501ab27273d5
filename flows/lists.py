"""From scores to published lists: assemble, explain, add contacts, write, publish.

Contact details are joined here and only here, for the listed rows only: the vault's names
and numbers never pass through features, models, logs or MLflow.

Persons who asked in the portal to be contacted (``contact_requests``) and may be are put
first on their team's list (:func:`asked_persons`, ``outreach.assemble``); the manifest
counts them per team in ``counts.asked``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from features.build import FeatureMatrix
from features.catalogue import by_name
from features.consent import consent_state
from features.safe_repr import sizes_repr
from features.sources import Inputs
from flows.decisions import HOLDOUT, load_holdout, load_reviews
from flows.pipeline import stale_sources
from flows.privacy import erased_ids
from flows.run import RunContext
from flows.workspace import sha256_file
from models.bundle import RiskModel
from outreach.assemble import (
    ASKED_COLUMNS,
    FLAGS,
    Exclusions,
    assemble,
    open_requests,
    rest_days,
    risk_band,
)
from outreach.labels import asked_answers, asked_text
from outreach.publish import Staged, current, list_stem, stage, team_lists
from outreach.reasons import add_reasons
from outreach.stability import STATUS_COLUMNS, compare
from outreach.writers import STATEMENT, list_frame, write_team_files


@dataclass
class Lists:
    """The night's listed rows before publishing (with contact details: never printed)."""

    __repr__ = sizes_repr

    rows: pl.DataFrame  # every listed row, all teams, with contact details
    exclusions: Exclusions
    drift_alert: bool
    draws: pl.DataFrame | None = None  # tonight's hold-out draws (None: hold-out off)
    stability: dict[str, Any] | None = None  # change since the last published list


def previous_scores(ctx: RunContext) -> pl.DataFrame | None:
    """The latest scores saved before this as-of date (for 'new' and 'score change')."""
    folder = ctx.ws.path("scores")
    earlier = sorted(p for p in folder.glob("*.parquet") if p.stem < ctx.as_of.isoformat())
    return pl.read_parquet(earlier[-1]) if earlier else None


def asked_persons(ctx: RunContext, inputs: Inputs) -> pl.DataFrame:
    """Who asked in the portal to be contacted and may be, on the run date.

    A request is open until it is closed (``closed_at``, by the portal) or a counsellor's
    decision about the person dated on or after the request is imported (the reviews
    store; corrected decisions are left out as the lists leave them out). The person must
    be allowed contact on the run date, and not have withdrawn or been erased by today; a
    scoring consent is not needed. Team and consent expiry come from the consent register.
    """
    requests = inputs.contact_requests
    if requests.is_empty():
        return pl.DataFrame(schema=ASKED_COLUMNS)
    s = ctx.settings
    erased = erased_ids(ctx.ws, inputs.consents, ctx.keys.audit)
    state = consent_state(inputs.consents, [ctx.as_of], s.consent, s.partners, erased)
    now = consent_state(inputs.consents, [ctx.today], s.consent, s.partners, erased)
    gone = now.filter(pl.col("status").is_in(["withdrawn", "erased"]))["person_id"]
    return open_requests(requests, state, gone, load_reviews(ctx), ctx.as_of)


def asked_reasons(listed: pl.DataFrame, languages: list[str]) -> pl.DataFrame:
    """The asked rows' text in their team's language: the request in ``reason_1``, the
    person's own answers (if any) in ``reason_2``."""
    rows = listed.select("requested_at", "method", "contact_language", "situation", "help_wanted")
    first, second = [], []
    for row, lang in zip(rows.iter_rows(named=True), languages, strict=True):
        first.append(asked_text(row["requested_at"], row["method"], row["contact_language"], lang))
        second.append(asked_answers(row["situation"], row["help_wanted"], lang))
    return listed.with_columns(
        reason_1=pl.Series(first, dtype=pl.String),
        reason_2=pl.Series(second, dtype=pl.String),
        reason_3=pl.lit(None, pl.String),
    )


def build_lists(
    ctx: RunContext,
    scored: pl.DataFrame,
    model: RiskModel,
    matrix: FeatureMatrix,
    inputs: Inputs,
    drift_alert: bool,
) -> Lists:
    s = ctx.settings
    listed, exclusions, draws = assemble(
        scored,
        load_reviews(ctx),
        previous_scores(ctx),
        stale_sources(ctx, inputs),
        drift_alert,
        ctx.as_of,
        s.outreach,
        load_holdout(ctx),
        asked_persons(ctx, inputs),
    )
    if "contact_language" not in listed.columns:
        listed = listed.with_columns(
            [pl.lit(None, pl.String).alias(c) for c in ("contact_language", "method", "situation",
                                                        "help_wanted")],
            requested_at=pl.lit(None, pl.Date),
        )  # fmt: skip
    vault = inputs.contacts.select(
        "person_id",
        *(["list_person_id"] if "list_person_id" in inputs.contacts.columns else []),
        "name",
        "phone",
        "email",
        "preferred_language",
    )
    listed = listed.join(vault, on="person_id", how="left").with_columns(
        # The language the person asked to be contacted in, else the vault's, else the
        # consent register's.
        language=pl.coalesce("contact_language", "preferred_language", "language"),
        risk_band=pl.when(pl.col("section") == "ranked").then(
            risk_band(pl.col("probability"), s.outreach)
        ),
        list_id=pl.lit(ctx.as_of.isoformat() + "-") + pl.col("team"),
        consent_expires_at=pl.col("expires_at"),
    )
    asked = listed.filter(pl.col("section") == "asked")
    listed = listed.filter(pl.col("section") == "ranked")
    rows = matrix.frame.join(
        listed.select("person_id", "as_of"), on=["person_id", "as_of"], how="semi"
    )
    rows = listed.select("person_id", "as_of").join(rows, on=["person_id", "as_of"], how="left")
    explained = (
        model.estimator.explain(rows.select(model.features), top=3)
        if rows.height  # capacity 0 everywhere: an empty list, nothing to explain
        else pl.DataFrame(schema={f"reason_{k}": pl.String for k in (1, 2, 3)})
    )
    points = model.estimator.points_table() if hasattr(model.estimator, "points_table") else None
    team_languages = [s.outreach.language_for(t) for t in listed["team"].to_list()]
    listed = add_reasons(
        listed, explained, rows, by_name(matrix.catalogue), model.medians, points,
        languages=team_languages,
    )  # fmt: skip
    asked = asked_reasons(asked, [s.outreach.language_for(t) for t in asked["team"].to_list()])
    listed = pl.concat([asked, listed], how="diagonal_relaxed")
    listed = listed.with_columns(internal_id=pl.col("person_id"))
    if "list_person_id" in listed.columns:
        listed = listed.with_columns(person_id=pl.col("list_person_id"))
    return Lists(
        rows=listed,
        exclusions=exclusions,
        drift_alert=drift_alert,
        draws=draws if draws.height else None,
    )


def stage_lists(ctx: RunContext, lists: Lists, model: RiskModel) -> Staged:
    """Write every team's files into a new version folder; :func:`outreach.publish.commit`
    switches ``lists/<D>`` to it once the run's MLflow and audit records are written."""
    s = ctx.settings
    title = f"Ennakko · {s.area_name}"
    version = model.version or "unregistered"

    def write(folder: Path) -> dict[str, Any]:
        files, teams = {}, {}
        for (team,), rows in sorted(lists.rows.partition_by("team", as_dict=True).items()):
            frame = list_frame(rows.sort("rank", maintain_order=True))  # asked (rank 0) first
            paths = write_team_files(
                frame, folder, list_stem(ctx.as_of.isoformat(), team), title=title, as_of=ctx.as_of,
                model_version=version, team=team, language=s.outreach.language_for(team),
                days_off=rest_days(s.outreach),
            )  # fmt: skip
            for path in paths:
                files[path.name] = sha256_file(path)
            teams[team] = {
                "rows": frame.height,
                "asked": int((frame["section"] == "asked").sum()),
                "language": s.outreach.language_for(team),
                "capacity": s.outreach.capacity.for_team(team),
                "flags": {f: int(rows[f"flag_{f}"].sum()) for f in FLAGS},
                "bands": dict(
                    sorted(frame.drop_nulls("risk_band").group_by("risk_band").len().iter_rows())
                ),
            }
        return manifest(ctx, version, teams, files, lists)

    return stage(
        ctx.ws.path("lists"),
        ctx.as_of.isoformat(),
        ctx.run_id,
        write,
        dir_mode=ctx.ws.dir_mode,
        file_mode=ctx.ws.file_mode,
    )


def manifest(
    ctx: RunContext, version: str, teams: dict, files: dict[str, str], lists: Lists
) -> dict[str, Any]:
    flags = {f: int(lists.rows[f"flag_{f}"].sum()) for f in FLAGS}
    return {
        "as_of": ctx.as_of.isoformat(),
        "run_id": ctx.run_id,
        "created_at": ctx.notes.get("started_at"),
        "area": ctx.settings.area_name,
        "model": {"name": ctx.settings.model.registered_name, "version": version},
        "statement": STATEMENT,
        "rows": lists.rows.height,
        "teams": teams,
        "flags": flags,
        # Outside the ranked capacity: persons who asked to be contacted, per team.
        "counts": {"asked": {team: t["asked"] for team, t in teams.items()}},
        "drift_alert": lists.drift_alert,
        "excluded": lists.exclusions.__dict__,
        # Per team: overlap with the previous published list and why persons left it
        # (outreach.stability); None on the first night. Exact counts: the manifest is internal.
        "stability": lists.stability,
        "files": files,
        "every_row_needs_a_decision": True,
    }


def stage_scores(ctx: RunContext, scored: pl.DataFrame, lists: Lists) -> list[tuple[Path, Path]]:
    """Tonight's risks (for tomorrow's 'new on the list' and 'score change' flags) and
    hold-out draws, written beside their targets; ``(staged, target)`` pairs that
    :func:`flows.workspace.Workspace.commit_staged` renames into place with the lists."""
    listed = lists.rows.select(
        pl.col("internal_id").alias("person_id"), pl.lit(True).alias("listed")
    )
    frame = (
        scored.select("person_id", "team", "probability")
        .join(listed, on="person_id", how="left")
        .with_columns(pl.col("listed").fill_null(False))
    )
    tag = ctx.run_id
    staged = [
        ctx.ws.stage_parquet(
            ctx.ws.path("scores", f"{ctx.as_of.isoformat()}.parquet"), frame.sort("person_id"), tag
        )
    ]
    if lists.draws is not None:
        draws = lists.draws
        earlier = load_holdout(ctx)
        if earlier is not None:  # replace an earlier run's draws of the same date
            draws = pl.concat([earlier.filter(pl.col("as_of") != ctx.as_of), draws])
        staged.append(
            ctx.ws.stage_parquet(ctx.ws.path(*HOLDOUT), draws.sort("as_of", "team", "rank"), tag)
        )
    return staged


def previous_published(ctx: RunContext) -> tuple[date, pl.DataFrame] | None:
    """The latest lists published before this as-of date (``outreach.publish.current``):
    its date and rows (person_id as printed, team, section); None when there is none."""
    root = ctx.ws.path("lists")
    dates = sorted(
        p.name
        for p in root.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]")
        if p.name < ctx.as_of.isoformat()
    )
    # The newest whose version still exists (retention may have removed older ones).
    found = [(d, f) for d in dates if (f := current(root, d)) is not None and f.is_dir()]
    if not found:
        return None
    day, folder = found[-1]
    frames = []
    for path in team_lists(folder, day):
        # Only the pseudonym and section: the files' names and numbers stay unread.
        names = pl.read_parquet_schema(path)
        frame = pl.read_parquet(path, columns=[c for c in ("person_id", "section") if c in names])
        team = path.stem.removeprefix(list_stem(day, ""))
        frames.append(frame.with_columns(team=pl.lit(team)))
    schema = {"person_id": pl.String, "section": pl.String, "team": pl.String}
    rows = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame(schema=schema)
    if "section" not in rows.columns:  # lists from before the asked section
        rows = rows.with_columns(section=pl.lit("ranked"))
    return date.fromisoformat(day), rows.select(list(schema))


def list_status(
    ctx: RunContext, consents: pl.DataFrame, state: pl.DataFrame, scored: pl.DataFrame, lists: Lists
) -> pl.DataFrame:
    """Tonight's facts per person by the pseudonym on the lists (``STATUS_COLUMNS``):
    team, consent to scoring and contact (``state`` on the as-of date, erasures in it),
    in the cohort, held out (tonight's draw or an earlier one still resting)."""
    draws = [d for d in (lists.draws, load_holdout(ctx)) if d is not None]
    since = ctx.as_of - timedelta(days=ctx.settings.outreach.holdout_days)
    held = pl.concat(
        [d.filter(pl.col("held_out") & pl.col("as_of").is_between(since, ctx.as_of)).select(
            pl.col("person_id").cast(pl.String)) for d in draws],
    )["person_id"] if draws else pl.Series("person_id", [], pl.String)  # fmt: skip
    status = state.filter(pl.col("as_of") == ctx.as_of).select(
        "person_id",
        "team",
        can_list=pl.col("can_score") & pl.col("can_contact"),
        in_cohort=pl.col("person_id").is_in(scored["person_id"].implode()),
        held_out=pl.col("person_id").is_in(held.implode()),
    )
    if "list_person_id" in consents.columns:  # the second pseudonym layer: as printed
        printed = consents.select("person_id", "list_person_id").unique("person_id")
        status = status.join(printed, on="person_id", how="inner").with_columns(
            person_id=pl.col("list_person_id")
        )
    return status.select([pl.col(c).cast(t) for c, t in STATUS_COLUMNS.items()])


def list_stability(
    ctx: RunContext, inputs: Inputs, state: pl.DataFrame, scored: pl.DataFrame, lists: Lists
) -> dict[str, Any] | None:
    """Tonight's lists against the previous published ones, per team (outreach.stability);
    None on the first night."""
    found = previous_published(ctx)
    if found is None:
        return None
    previous_as_of, previous = found
    teams = compare(
        previous,
        lists.rows.select("person_id", "team", "section"),
        list_status(ctx, inputs.consents, state, scored, lists),
        load_reviews(ctx),
        previous_as_of,
        ctx.as_of,
        ctx.settings.outreach,
    )
    return {"previous_as_of": previous_as_of.isoformat(), "teams": teams}
