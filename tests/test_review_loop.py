"""The human review loop, for real: run, decide in the workbook, import, run the next day."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from features.consent import consent_state
from flows.cli import app
from flows.settings import load_settings
from tests.conftest import AS_OF
from tests.test_privacy import copy_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]
NEXT_DAY = "2025-12-02"


def _workbook(workspace: Path) -> Path:
    return sorted((workspace / "lists" / AS_OF).glob("*.xlsx"))[0]


def _fill(
    path: Path, decisions: dict[int, tuple[str, str | None]], extra: list[list] | None = None
) -> list[str]:
    """Fill decisions into data rows (1-based) the way a counsellor would; return their ids."""
    book = load_workbook(path)
    sheet = book["Lista"]
    header = [c.value for c in sheet[4]]
    col = {name: header.index(name) + 1 for name in header}
    ids = []
    for n, (decision, comment) in decisions.items():
        r = 4 + n
        sheet.cell(r, col["decision"], decision)
        sheet.cell(r, col["comment"], comment)
        sheet.cell(r, col["decided_at"], "01.12.2025")
        sheet.cell(r, col["counsellor"], "ohjaaja-7")
        ids.append(sheet.cell(r, col["person_id"]).value)
    for row in extra or []:
        sheet.append([row[i] if i < len(row) else None for i in range(len(header))])
    book.save(path)
    return ids


def _listed(workspace: Path, as_of: str) -> set[str]:
    return set(
        pl.concat([pl.read_parquet(p) for p in (workspace / "lists" / as_of).glob("*.parquet")])[
            "person_id"
        ]
    )


def _override_candidate(published, workspace: Path) -> str:
    """A person who may be contacted but is on no list: a counsellor adds them."""
    _, settings, city, _ = published
    state = consent_state(
        pl.read_parquet(city / "consents.parquet"),
        date(2025, 12, 1),
        settings.consent,
        settings.partners,
    )
    listed = _listed(workspace, AS_OF)
    return next(
        p for p in state.filter(pl.col("can_contact"))["person_id"].sort() if p not in listed
    )


def test_round_trip_decisions_feed_tomorrows_list(published, tmp_path: Path, monkeypatch) -> None:
    from flows.nightly import nightly

    workspace, config = copy_workspace(published, tmp_path)
    book = _workbook(workspace)
    list_id = pl.read_parquet(book.with_suffix(".parquet"))["list_id"][0]
    added = _override_candidate(published, workspace)
    contacted, declined, wrong = _fill(
        book,
        {1: ("contacted", None), 2: ("declined", "does not want contact"), 3: ("not appropriate", "already working")},
        extra=[[list_id, None, added, None, None, None, None, None, None, None, None, None, None, None,
                "contacted", "met at Ohjaamo, worried about dropping out", "01.12.2025", "ohjaaja-7"]],
    )  # fmt: skip
    runner = CliRunner()
    result = runner.invoke(app, ["reviews", "import", str(book), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "4 decisions (1 overrides)" in result.output
    stored = pl.read_parquet(workspace / "reviews" / "decisions.parquet")
    assert dict(zip(stored["person_id"], stored["decision"], strict=True)) == {
        contacted: "contacted",
        declined: "declined",
        wrong: "not_appropriate",
        added: "contacted",
    }
    assert stored.filter(pl.col("person_id") == added)["override"].item()

    again = runner.invoke(app, ["reviews", "import", str(book), "--config", str(config)])
    assert again.exit_code == 2
    assert "already imported" in again.output

    monkeypatch.chdir(tmp_path)
    nightly(config=str(config), as_of=NEXT_DAY)
    tomorrow = _listed(workspace, NEXT_DAY)
    assert contacted not in tomorrow and added not in tomorrow  # cool-down
    assert declined not in tomorrow  # declined within the window
    assert tomorrow  # the lists go on

    report = runner.invoke(app, ["reviews", "report", "--config", str(config)])
    assert report.exit_code == 0, report.output
    assert "by team" in report.output
    markdown = (workspace / "reports" / "reviews.md").read_text()
    assert "## by risk band" in markdown and "## by rank" in markdown
    assert "disagreement_rate" in markdown and "overrides" in markdown


@pytest.mark.parametrize(
    ("decision", "person", "list_id", "message"),
    [
        ("maybe later", None, None, "not one of"),
        ("contacted", None, "2024-01-01-nowhere", "never published"),
        ("contacted", "EN0000000000", None, "no valid consent"),
    ],
)
def test_bad_returns_are_refused_clearly(
    published, tmp_path: Path, decision, person, list_id, message
) -> None:
    workspace, config = copy_workspace(published, tmp_path)
    book = _workbook(workspace)
    sheet_book = load_workbook(book)
    sheet = sheet_book["Lista"]
    header = [c.value for c in sheet[4]]
    sheet.cell(5, header.index("decision") + 1, decision)
    sheet.cell(5, header.index("counsellor") + 1, "ohjaaja-7")
    sheet.cell(5, header.index("comment") + 1, "added")
    if person:
        sheet.cell(5, header.index("person_id") + 1, person)
    if list_id:
        sheet.cell(5, header.index("list_id") + 1, list_id)
    sheet_book.save(book)
    result = CliRunner().invoke(app, ["reviews", "import", str(book), "--config", str(config)])
    assert result.exit_code == 2
    assert message in result.output and str(book.name) in result.output
    assert "Traceback" not in result.output
    assert not (workspace / "reviews" / "decisions.parquet").exists()


def test_a_duplicate_decision_in_one_file_is_refused(published, tmp_path: Path) -> None:
    workspace, config = copy_workspace(published, tmp_path)
    csv = sorted((workspace / "lists" / AS_OF).glob("*.csv"))[0]
    frame = pl.read_csv(csv, infer_schema=False)
    frame = pl.concat([frame.head(1), frame.head(1)]).with_columns(
        decision=pl.lit("contacted"), counsellor=pl.lit("ohjaaja-7")
    )
    returned = tmp_path / "returned.csv"
    frame.write_csv(returned)
    result = CliRunner().invoke(app, ["reviews", "import", str(returned), "--config", str(config)])
    assert result.exit_code == 2
    assert "more than one decision" in result.output


def test_re_running_a_date_gives_byte_identical_csv_and_parquet(
    published, tmp_path: Path, monkeypatch
) -> None:
    from flows.nightly import nightly

    workspace, config = copy_workspace(published, tmp_path)

    def digests() -> dict[str, str]:
        folder = workspace / "lists" / AS_OF
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in folder.iterdir() if p.suffix in (".csv", ".parquet")}  # fmt: skip

    before = digests()
    target_before = (workspace / "lists" / AS_OF).resolve()
    monkeypatch.chdir(tmp_path)
    nightly(config=str(config))
    assert (workspace / "lists" / AS_OF).resolve() != target_before  # a new version…
    assert digests() == before  # …with the same bytes
    assert load_settings(config, env={}).as_of == date(2025, 12, 1)


def test_the_hold_out_keeps_drawn_persons_off_the_lists_and_is_erasable(
    published, tmp_path: Path, monkeypatch
) -> None:
    import json

    from flows.nightly import nightly

    workspace, config = copy_workspace(
        published, tmp_path, outreach={"capacity": {"default": 10}, "holdout_share": 0.4}
    )
    monkeypatch.chdir(tmp_path)
    nightly(config=str(config), as_of=NEXT_DAY)
    draws = pl.read_parquet(workspace / "reviews" / "holdout.parquet")
    held = set(draws.filter(pl.col("held_out"))["person_id"])
    assert held, "a 40 % draw over the margins of every team holds someone out"
    assert not held & _listed(workspace, NEXT_DAY)
    manifest = json.loads((workspace / "lists" / NEXT_DAY / "manifest.json").read_text())
    assert manifest["excluded"]["held_out"] == len(held)
    # The day after, the held-out stay off even if the draw would let them on.
    nightly(config=str(config), as_of="2025-12-03")
    assert not held & _listed(workspace, "2025-12-03")
    # A held-out person's erasure reaches the draws too.
    person = sorted(held)[0]
    erased = CliRunner().invoke(app, ["erase", "--person-id", person, "--config", str(config)])
    assert erased.exit_code == 0, erased.output
    assert person not in set(
        pl.read_parquet(workspace / "reviews" / "holdout.parquet")["person_id"]
    )


def test_the_training_run_logs_the_decisions_to_mlflow(
    published, tmp_path: Path, monkeypatch
) -> None:
    """The monthly automation-bias watch: how often counsellors disagree, in MLflow."""
    import mlflow

    from flows.training import train

    workspace, config = copy_workspace(published, tmp_path, privacy={"min_cell_size": 1})
    book = _workbook(workspace)
    list_id = pl.read_parquet(book.with_suffix(".parquet"))["list_id"][0]
    added = _override_candidate(published, workspace)
    _fill(
        book,
        {1: ("contacted", None), 2: ("declined", None), 3: ("not appropriate", "already working")},
        extra=[[list_id, None, added, None, None, None, None, None, None, None, None, None, None, None,
                "contacted", "met at Ohjaamo", "01.12.2025", "ohjaaja-7"]],
    )  # fmt: skip
    result = CliRunner().invoke(app, ["reviews", "import", str(book), "--config", str(config)])
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(tmp_path)
    outcome = train(config=str(config))
    client = mlflow.MlflowClient(load_settings(config, env={}).mlflow_uri)
    run = client.get_run(outcome["run_id"])
    assert run.data.metrics["reviews_decisions"] == 4
    assert run.data.metrics["reviews_disagreement_rate"] == 0.5  # not appropriate + override
    logged = {a.path for a in client.list_artifacts(outcome["run_id"], "reviews")}
    assert {"reviews/by_team.csv", "reviews/by_risk_band.csv", "reviews/by_rank.csv"} <= logged
    by_team = client.download_artifacts(outcome["run_id"], "reviews/by_team.csv", str(tmp_path))
    assert added not in Path(by_team).read_text()  # aggregates only
