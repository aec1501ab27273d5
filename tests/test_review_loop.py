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
from outreach.review_words import canonical_headers
from tests.conftest import AS_OF
from tests.test_list_stability import assert_stability
from tests.test_privacy import copy_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]
NEXT_DAY = "2025-12-02"


def _workbook(workspace: Path) -> Path:
    return sorted((workspace / "lists" / AS_OF).glob("*.xlsx"))[0]


def _layout(sheet) -> tuple[int, dict[str, int]]:
    """The header row of the list sheet and its columns (1-based), by the names the import
    understands (plain headers in any language, or machine names)."""
    found = None
    for r, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        names = canonical_headers(list(row))
        if "person_id" in names:  # the last of consecutive heading rows (keys under words)
            found = r, {name: i + 1 for i, name in reversed(list(enumerate(names)))}
        elif found:
            return found
    if found is None:
        raise AssertionError("no header row")
    return found


def _sheet(book):
    """The sheet holding the list (the first with a person_id header)."""
    for sheet in book.worksheets:
        try:
            _layout(sheet)
        except AssertionError:
            continue
        return sheet
    raise AssertionError("no list sheet")


def _fill(
    path: Path,
    decisions: dict[int, tuple[str, str | None]],
    extra: list[dict[str, str]] | None = None,
) -> list[str]:
    """Fill decisions into data rows (1-based) the way a counsellor would; return their ids.

    ``extra`` rows (column name -> value) are added below the list: overrides."""
    book = load_workbook(path)
    sheet = _sheet(book)
    header_row, col = _layout(sheet)
    ids = []
    for n, (decision, comment) in decisions.items():
        r = header_row + n
        sheet.cell(r, col["decision"], decision)
        sheet.cell(r, col["comment"], comment)
        sheet.cell(r, col["decided_at"], "01.12.2025")
        sheet.cell(r, col["counsellor"], "ohjaaja-7")
        ids.append(sheet.cell(r, col["person_id"]).value)
    last = header_row + _data_rows(sheet, header_row, col)
    for k, row in enumerate(extra or [], start=1):
        for name, value in row.items():
            sheet.cell(last + k, col[name], value)
    book.save(path)
    return ids


def _override(list_id: str, person: str, why: str) -> dict[str, str]:
    """A row a counsellor adds for a person the model did not list."""
    return {"list_id": list_id, "person_id": person, "decision": "contacted", "comment": why,
            "decided_at": "01.12.2025", "counsellor": "ohjaaja-7"}  # fmt: skip


def _data_rows(sheet, header_row: int, col: dict[str, int]) -> int:
    n = 0
    while sheet.cell(header_row + n + 1, col["person_id"]).value:
        n += 1
    return n


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
        pl.read_parquet(city / "consents/register.parquet"),
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
        extra=[_override(list_id, added, "met at Ohjaamo, worried about dropping out")],
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
    assert again.exit_code == 0, again.output  # the same file again: nothing new, no error
    assert "0 decisions (0 overrides), 0 corrections, 4 unchanged" in again.output
    assert pl.read_parquet(workspace / "reviews" / "decisions.parquet").height == 4

    monkeypatch.chdir(tmp_path)
    night = nightly(config=str(config), as_of=NEXT_DAY)
    tomorrow = _listed(workspace, NEXT_DAY)
    assert contacted not in tomorrow and added not in tomorrow  # cool-down
    assert declined not in tomorrow  # declined within the window
    assert tomorrow  # the lists go on
    decided = {contacted, declined, wrong}  # left tonight's lists "because of a decision"
    assert_stability(workspace, NEXT_DAY, AS_OF, "decision", decided, night["mlflow_run"])

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
    sheet = _sheet(sheet_book)
    top, col = _layout(sheet)
    sheet.cell(top + 1, col["decision"], decision)
    sheet.cell(top + 1, col["counsellor"], "ohjaaja-7")
    sheet.cell(top + 1, col["comment"], "added")
    if person:
        sheet.cell(top + 1, col["person_id"], person)
    if list_id:
        sheet.cell(top + 1, col["list_id"], list_id)
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
    assert_stability(workspace, NEXT_DAY, AS_OF, "held_out", held)
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


def returned_with_override(published, tmp_path: Path) -> tuple[Path, Path, Path, str]:
    """A private workspace (every cell published) whose first list comes back with three
    decisions (contacted, declined, not appropriate) and one override (of ``added``)."""
    workspace, config = copy_workspace(published, tmp_path, privacy={"min_cell_size": 1})
    book = _workbook(workspace)
    list_id = pl.read_parquet(book.with_suffix(".parquet"))["list_id"][0]
    added = _override_candidate(published, workspace)
    _fill(
        book,
        {1: ("contacted", None), 2: ("declined", None), 3: ("not appropriate", "already working")},
        extra=[_override(list_id, added, "met at Ohjaamo")],
    )  # fmt: skip
    return workspace, config, book, added


def test_the_training_run_logs_the_decisions_to_mlflow(
    published, tmp_path: Path, monkeypatch
) -> None:
    """The monthly automation-bias watch: how often counsellors disagree, in MLflow."""
    import mlflow

    from flows.training import train

    _, config, book, added = returned_with_override(published, tmp_path)
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


def _import(config: Path, *files: Path):
    return CliRunner().invoke(
        app, ["reviews", "import", *map(str, files), "--config", str(config)], terminal_width=200
    )


def test_a_list_returned_twice_keeps_every_decision_and_records_a_correction(
    published, tmp_path: Path, monkeypatch
) -> None:
    """14 decisions, then the same workbook with 20: 20 decisions, the 14 unchanged ones
    skipped; a changed decision is a correction, the earlier one kept as superseded, and
    tomorrow's list and the report count only the latest. Finnish, Swedish and English
    decision words are all understood."""
    from flows.nightly import nightly

    workspace, config = copy_workspace(published, tmp_path, outreach={"capacity": {"default": 20}})
    monkeypatch.chdir(tmp_path)
    nightly(config=str(config))  # the same date again, 20 places per team
    book = next(
        p
        for p in sorted((workspace / "lists" / AS_OF).glob("*.xlsx"))
        if pl.read_parquet(p.with_suffix(".parquet")).height == 20
    )
    words = ["tavoitettu", "ei tavoitettu", "kontaktad", "contacted", "not reached"]
    first = {n: (words[n % len(words)], None) for n in range(1, 15)}
    _fill(book, first)
    result = _import(config, book)
    assert result.exit_code == 0, result.output
    assert "14 decisions (0 overrides), 0 corrections, 0 unchanged, 6 rows" in result.output

    ids = _fill(book, {**first, **{n: ("avböjde", None) for n in range(15, 21)}})
    result = _import(config, book)
    assert result.exit_code == 0, result.output
    assert "6 decisions (0 overrides), 0 corrections, 14 unchanged" in result.output
    stored = pl.read_parquet(workspace / "reviews" / "decisions.parquet")
    assert stored.height == 20 and stored["person_id"].n_unique() == 20
    assert stored.filter(pl.col("person_id") == ids[0])["decision"].item() == "not_reached"

    _fill(book, {1: ("not appropriate", "already working")})  # ids[0] changes its mind
    result = _import(config, book)
    assert result.exit_code == 0, result.output
    assert "1 decisions (0 overrides), 1 corrections, 19 unchanged" in result.output
    stored = pl.read_parquet(workspace / "reviews" / "decisions.parquet")
    history = stored.filter(pl.col("person_id") == ids[0]).sort("imported_at", "superseded_at")
    assert history.height == 2
    assert history.filter(pl.col("superseded_at").is_null())["decision"].item() == (
        "not_appropriate"
    )
    assert history.filter(pl.col("superseded_at").is_not_null())["decision"].item() == (
        "not_reached"
    )
    assert history.filter(pl.col("corrects").is_not_null())["corrects"].item() == "not_reached"

    report = CliRunner().invoke(app, ["reviews", "report", "--config", str(config)])
    assert report.exit_code == 0, report.output
    by_team = pl.read_csv(
        _markdown_section((workspace / "reports" / "reviews.md").read_text(), "by team")
    )
    assert by_team["decisions"].sum() == 20


def _markdown_section(markdown: str, title: str) -> bytes:
    """The Markdown table under ``## title`` as CSV bytes."""
    lines = markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0].strip().splitlines()
    table = [line for line in lines if line.startswith("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table if "---" not in line]
    return "\n".join(",".join(r) for r in rows).encode()


def test_every_mistake_in_a_file_is_reported_in_one_run(published, tmp_path: Path) -> None:
    """A file with an unknown decision, a list never published and a bad date is refused
    with all three in one table (row, column, value, expected), personal values unshown;
    with reviews.keep_good_rows the good row is stored and the three reported."""
    import yaml

    workspace, config = copy_workspace(published, tmp_path)
    book = _workbook(workspace)
    ids = _fill(book, {n: ("contacted", None) for n in range(1, 5)})
    loaded = load_workbook(book)
    sheet = _sheet(loaded)
    top, col = _layout(sheet)
    sheet.cell(top + 1, col["decision"], "maybe later")
    sheet.cell(top + 2, col["list_id"], "2024-01-01-nowhere")
    sheet.cell(top + 3, col["decided_at"], "31.02.2025")
    loaded.save(book)

    refused = _import(config, book)
    assert refused.exit_code == 2
    text = refused.output
    assert "3 mistake(s) in 3 row(s)" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line[:1].isdigit()}
    assert set(lines) == {str(top + 1), str(top + 2), str(top + 3)}
    assert "decision" in lines[str(top + 1)] and "maybe later" in lines[str(top + 1)]
    assert "list_id" in lines[str(top + 2)] and "never published" in lines[str(top + 2)]
    assert "decided_at" in lines[str(top + 3)] and "31.02.2025" in lines[str(top + 3)]
    assert not any(person in text for person in ids)
    assert "ohjaaja-7" not in text
    assert not (workspace / "reviews" / "decisions.parquet").exists()

    settings = yaml.safe_load(config.read_text())
    keep = tmp_path / "keep.yaml"
    keep.write_text(yaml.safe_dump({**settings, "reviews": {"keep_good_rows": True}}))
    kept = _import(keep, book)
    assert kept.exit_code == 0, kept.output
    assert "1 decisions (0 overrides)" in kept.output
    assert "3 row(s) with mistakes were not stored" in kept.output
    assert "never published" in kept.output
    stored = pl.read_parquet(workspace / "reviews" / "decisions.parquet")
    assert stored["person_id"].to_list() == [ids[3]]


def test_the_nightly_metrics_publish_no_small_count(published) -> None:
    """Every count of persons the nightly MLflow run logs is zero or at least
    privacy.min_cell_size; a flag raised for 1-9 persons is left out."""
    import json

    import mlflow

    summary, settings, _, _ = published
    metrics = mlflow.MlflowClient(settings.mlflow_uri).get_run(summary["mlflow_run"]).data.metrics
    min_cell = settings.privacy.min_cell_size
    counted = {k: v for k, v in metrics.items()
               if k.startswith(("consents_", "band_", "flag_", "excluded_"))}  # fmt: skip
    assert counted, "the nightly run logs counts"
    assert all(v == 0 or v >= min_cell for v in counted.values()), counted
    flags = json.loads(Path(summary["manifest"]).read_text())["flags"]
    small = [f for f, n in flags.items() if 0 < n < min_cell]
    assert small, "a list of 10-15 rows raises some flag for fewer than 10 persons"
    assert all(f"flag_{f}" not in metrics for f in small)
