"""The record of processing a data-protection officer reads: checked, complete, one clock.

The findings: the report did not reconcile who was scored and listed against consent, did
not list the model's inputs, did not name counsellors' comments and ids as processed data
with their retention, and mixed +02:00 and +00:00 times.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from features.consent import consent_state
from features.contracts import Context
from features.sources import load_source
from flows import privacy_stores as pr
from flows.audit import AuditLog, log_path, read_key
from flows.cli import app
from flows.settings import load_settings
from tests.conftest import AS_OF
from tests.test_privacy import copy_workspace as copy_of

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]
runner = CliRunner()
MUST_BE_ZERO = re.compile(r"\*\*(?P<what>[^*]+)\*\* \(must be 0\) \| \*\*(?P<n>[\d,]+)\*\*")


def make_report(config: Path, out: Path, *, env: dict[str, str] | None = None):
    result = runner.invoke(
        app, ["privacy", "report", "--config", str(config), "--out", str(out)], env=env
    )
    return result, out.read_text() if out.exists() else ""


def must_be_zero(text: str) -> dict[str, int]:
    return {m["what"]: int(m["n"].replace(",", "")) for m in MUST_BE_ZERO.finditer(text)}


def withdrawn_on_as_of(published) -> str:
    """A person in the register whose consent was withdrawn by the as-of date."""
    _, settings, city, _ = published
    consents, _ = load_source(
        city,
        "consents",
        settings.sources.consents,
        Context(settings.as_of, tuple(settings.partners)),
    )
    state = consent_state(consents.good, settings.as_of, settings.consent, settings.partners)
    return state.filter(pl.col("status") == "withdrawn")["person_id"][0]


def add_to_list(workspace: Path, person_id: str) -> None:
    """Append a row for ``person_id`` to one published list's Parquet and to the scores."""
    folder = workspace / "lists" / AS_OF
    first = sorted(folder.glob("*.parquet"))[0]
    frame = pl.read_parquet(first)
    pl.concat([frame, frame.head(1).with_columns(person_id=pl.lit(person_id))]).write_parquet(first)
    scores = workspace / "scores" / f"{AS_OF}.parquet"
    frame = pl.read_parquet(scores)
    pl.concat([frame, frame.head(1).with_columns(person_id=pl.lit(person_id))]).write_parquet(
        scores
    )


def test_the_record_reconciles_the_newest_lists_with_consent(published, tmp_path: Path) -> None:
    """Everyone scored and listed on the newest date had a valid consent then: the counts
    match the scores and the manifest, every must-be-zero row is 0, exit 0, and the record
    names no person."""
    workspace, config = copy_of(published, tmp_path)
    result, text = make_report(config, tmp_path / "record.md")
    assert result.exit_code == 0, result.output
    scored = pl.read_parquet(workspace / "scores" / f"{AS_OF}.parquet").height
    listed = published[0]["listed"]
    assert f"| scored | {scored:,} |" in text and f"| listed | {listed:,} |" in text
    assert f"| scored with a valid `scoring` consent | {scored:,} |" in text
    assert must_be_zero(text) == {
        "scored without a valid `scoring` consent": 0,
        "listed without a valid `contact` consent": 0,
        "erased persons still in these lists or scores": 0,
    }
    assert f"Consent reconciliation of {AS_OF}: all {scored:,} scored and all" in text
    pseudonyms = set(
        pl.read_parquet(published[2] / "contacts/register.parquet")["person_id"].to_list()
    )
    assert not {p for p in pseudonyms if p in text}


def test_a_person_listed_without_consent_is_counted_and_the_command_fails(
    published, tmp_path: Path
) -> None:
    """A withdrawn person slipped into a list and the scores is counted in both rows, once
    in the headline, without being named; the command exits 1."""
    workspace, config = copy_of(published, tmp_path)
    person = withdrawn_on_as_of(published)
    add_to_list(workspace, person)
    result, text = make_report(config, tmp_path / "record.md")
    assert result.exit_code == 1, result.output
    zero = must_be_zero(text)
    assert zero["scored without a valid `scoring` consent"] == 1
    assert zero["listed without a valid `contact` consent"] == 1
    assert "CONSENT RECONCILIATION FAILED: 1 person(s)" in text
    assert "CONSENT RECONCILIATION FAILED" in result.output
    assert person not in text and person not in result.output


def test_an_erased_person_put_back_on_a_list_is_found(published, tmp_path: Path) -> None:
    """After `erase`, a list row of the person restored from an old copy is counted as an
    erased person still present: exit 1."""
    workspace, config = copy_of(published, tmp_path)
    folder = workspace / "lists" / AS_OF
    person = pl.read_parquet(sorted(folder.glob("*.parquet"))[0])["person_id"][0]
    erased = runner.invoke(app, ["erase", "--person-id", person, "--config", str(config)])
    assert erased.exit_code == 0, erased.output
    add_to_list(workspace, person)
    result, text = make_report(config, tmp_path / "record.md")
    assert result.exit_code == 1, result.output
    assert must_be_zero(text)["erased persons still in these lists or scores"] == 1
    assert person not in text


def model_inputs(text: str) -> list[str]:
    section = text.split("## Model inputs", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


def test_the_model_inputs_are_the_champions_own_feature_names(published, tmp_path: Path) -> None:
    """Every input of the registered champion is listed, in its order, read from the
    MLflow store without starting MLflow; no sensitive attribute is among them."""
    from models.registry import CHAMPION, Registry

    _, settings, _, _ = published
    champion = Registry(
        settings.mlflow_uri, settings.mlflow.experiment, settings.model.registered_name
    ).load(CHAMPION)
    _, config = copy_of(published, tmp_path)
    result, text = make_report(config, tmp_path / "record.md")
    assert result.exit_code == 0, result.output
    assert model_inputs(text) == list(champion.features)
    assert f"## Model inputs ({len(champion.features)})" in text
    assert f"version {champion.version}" in text and "risk_model.json in the MLflow store" in text
    assert "None of the sensitive attributes (gender, language) is a model input." in text


def test_without_a_readable_store_the_inputs_come_from_the_catalogue_and_say_so(
    published, tmp_path: Path
) -> None:
    """With an MLflow server configured (not started here), the inputs are the
    configuration's catalogue, and the record says where they came from."""
    from features.catalogue import build_catalogue, model_features

    _, config = copy_of(published, tmp_path)
    result, text = make_report(
        config, tmp_path / "record.md", env={"ENNAKKO_MLFLOW_URI": "http://127.0.0.1:9"}
    )
    assert result.exit_code == 0, result.output
    s = load_settings(config, env={})
    expected = model_features(build_catalogue(s.features, s.partners, s.indicators.use), s.features)
    assert model_inputs(text) == expected
    assert "the feature catalogue of this configuration (the MLflow store is a server" in text


def test_every_store_is_named_with_the_fields_it_keeps_and_how_long(
    published, tmp_path: Path
) -> None:
    """The fields named are the fields written (lists, scores, decisions, hold-out,
    snapshots); every workspace store appears; counsellors' comments and ids in returned
    decisions are named as personal data with their retention."""
    from flows.workspace import STORES
    from outreach.assemble import DRAW_COLUMNS
    from outreach.decisions import STORE_SCHEMA
    from outreach.writers import COLUMNS

    workspace, config = copy_of(published, tmp_path)
    assert tuple(COLUMNS) == pr.LIST_FIELDS
    assert tuple(STORE_SCHEMA) == pr.DECISION_FIELDS
    assert tuple(DRAW_COLUMNS) == pr.HOLDOUT_FIELDS
    scores = pl.read_parquet_schema(workspace / "scores" / f"{AS_OF}.parquet")
    assert tuple(scores) == pr.SCORE_FIELDS
    snapshot = sorted((workspace / "snapshots").glob("*.parquet"))[0]
    assert tuple(pl.read_parquet_schema(snapshot)) == pr.SNAPSHOT_FIELDS
    result, text = make_report(config, tmp_path / "record.md")
    assert result.exit_code == 0, result.output
    table = text.split("## What each store keeps", 1)[1].split("\n## ", 1)[0]
    for store in STORES:
        assert f"`{store}/" in table, store
    decisions = next(line for line in table.splitlines() if "reviews/decisions.parquet" in line)
    assert "**counsellors' comments**" in decisions and "**counsellor ids**" in decisions
    assert "730 days from `decided_at`" in decisions


def test_every_time_is_shown_in_helsinki_time(published, tmp_path: Path) -> None:
    """Entries written with +00:00 are shown in Europe/Helsinki (+02:00 in winter, +03:00
    in summer); no other offset appears; a review import is counted as an audit entry."""
    workspace, config = copy_of(published, tmp_path)
    key = read_key(None, workspace / "privacy" / "audit.key")
    log = AuditLog(log_path(workspace), key)
    log.append({"event": "retention", "at": "2026-01-15T10:00:00+00:00"})
    log.append({"event": "reviews-import", "at": "2026-06-15T10:00:00+00:00", "decisions": 3})
    result, text = make_report(config, tmp_path / "record.md")
    assert result.exit_code == 0, result.output
    assert "Last retention run: 2026-01-15T12:00:00+02:00." in text
    assert "Returned lists imported: 1 import(s)" in text
    assert "last 2026-06-15T13:00:00+03:00" in text
    offsets = set(re.findall(r"T\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)", text))
    assert offsets and offsets <= {"+02:00", "+03:00"}, offsets
