"""`ennakko register`: the algorithm register entry, checked against the runs it names.

On the shared nightly run (training included): the JSON of each language validates
against schemas/algorithm-register.schema.json, the three languages carry the same
figures, every figure is found again in the MLflow run or audit entry named beside it,
no pseudonym leaks, and the HTML page renders in headless Chromium without errors.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from flows.audit import AuditLog, log_path
from flows.cli import app
from outreach.register_entry import Facts, Figure, build, markdown, number, page
from outreach.register_text import LANGS, OPEN

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "algorithm-register.schema.json").read_text())
PSEUDONYM = re.compile(r"EN[0-9A-F]{10}")


def validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def traced(figure: dict, client: MlflowClient, audit: dict[int, dict]) -> bool:
    """Whether the figure's value is found again where its source says it was read."""
    source, value = figure["source"], figure["value"]
    if "mlflow_run_id" in source:
        run = client.get_run(source["mlflow_run_id"])
        found = run.data.metrics.get(source["key"], run.data.params.get(source["key"]))
    else:
        entry = audit.get(source["audit_seq"])
        if entry is None or entry["hash"] != source["audit_hash"]:
            return False
        found = entry.get(source["key"])
    return found is not None and (value is None or float(found) == pytest.approx(value))


@pytest.mark.e2e
@pytest.mark.browser
@pytest.mark.xdist_group("prefect")
def test_register_entry_is_valid_traceable_and_renders(
    chromium: str, published, tmp_path: Path
) -> None:
    """The command writes fi/sv/en Markdown and JSON and one HTML page; each figure traces
    back to its run or audit entry; Chromium shows the page without a console error."""
    from playwright.sync_api import sync_playwright

    _, settings, _, config = published
    out = tmp_path / "register"
    result = CliRunner().invoke(app, ["register", "-c", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    entries = {lang: json.loads((out / f"register.{lang}.json").read_text()) for lang in LANGS}
    check = validator()
    for lang, entry in entries.items():
        assert list(check.iter_errors(entry)) == [], lang
        assert entry["lang"] == lang
    figures = entries["en"]["figures"]
    assert all(e["figures"] == figures for e in entries.values())
    ids = {f["id"] for f in figures}
    assert {"precision_at_capacity", "calibration_error", "price_of_transparency"} <= ids
    assert {"fairness_flags", "training_rows", "listed"} <= ids

    client = MlflowClient(settings.mlflow_uri)
    audit = {e["seq"]: e for e in AuditLog(log_path(settings.workspace), b"").read()}
    assert [f["id"] for f in figures if not traced(f, client, audit)] == []
    assert any("audit_seq" in f["source"] for f in figures)

    texts = {lang: (out / f"register.{lang}.md").read_text() for lang in LANGS}
    html = (out / "register.html").read_text()
    for lang, text in texts.items():
        for figure in figures:
            if figure["value"] is not None:
                assert number(figure["value"], figure["id"], lang) in text, (lang, figure["id"])
        assert OPEN[lang] in text and entries[lang]["open_questions"]
    everything = "".join(texts.values()) + html + json.dumps(entries)
    assert not PSEUDONYM.search(everything)
    assert "http://" not in html and "https://" not in html and "<script" not in html

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        view = browser.new_page(viewport={"width": 1000, "height": 800})
        view.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        view.on("pageerror", lambda e: errors.append(str(e)))
        view.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
        view.goto((out / "register.html").as_uri())
        view.wait_for_load_state("load")
        sections = view.eval_on_selector_all("section", "els => els.map(e => e.lang)")
        rows = view.eval_on_selector_all("section tbody tr", "els => els.length")
        browser.close()
    assert errors == []
    assert sections == list(LANGS)
    assert rows == 3 * len(figures)


@pytest.mark.e2e
@pytest.mark.xdist_group("prefect")
def test_counsellors_decisions_give_the_override_and_disagreement_rates(
    published, tmp_path: Path
) -> None:
    """Decisions imported after training: the rates come from the stored decisions and
    name the `reviews-import` audit entry; one override and one "not appropriate" among
    four decisions give 1/4 and 2/4."""
    import polars as pl

    from tests.test_privacy import copy_workspace
    from tests.test_review_loop import _fill, _override, _override_candidate, _workbook

    workspace, config = copy_workspace(published, tmp_path, privacy={"min_cell_size": 1})
    book = _workbook(workspace)
    list_id = pl.read_parquet(book.with_suffix(".parquet"))["list_id"][0]
    added = _override_candidate(published, workspace)
    _fill(
        book,
        {1: ("contacted", None), 2: ("declined", None), 3: ("not appropriate", "already working")},
        extra=[_override(list_id, added, "met at Ohjaamo")],
    )
    runner = CliRunner()
    imported = runner.invoke(app, ["reviews", "import", str(book), "--config", str(config)])
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "register"
    result = runner.invoke(app, ["register", "-c", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    entry = json.loads((out / "register.en.json").read_text())
    figures = {f["id"]: f for f in entry["figures"]}
    audit = {e["seq"]: e for e in AuditLog(log_path(workspace), b"").read()}
    for figure_id, expected in (("override_share", 0.25), ("disagreement_rate", 0.5)):
        figure = figures[figure_id]
        assert figure["value"] == pytest.approx(expected)
        source = audit[figure["source"]["audit_seq"]]
        assert source["event"] == "reviews-import"
        assert source["hash"] == figure["source"]["audit_hash"]
    assert "overrides (0.250)" in entry["monitoring"]
    assert list(validator().iter_errors(entry)) == []


def _facts(**figures: Figure) -> Facts:
    return Facts(
        area="Testikylä", organization="Test city", contact_email="register@example.org",
        status="pilot", capacity=10, min_cell=10, cooldown_days=30, decline_days=180,
        holdout_share=0.1, partners={"school": {"en": "School", "dpia": "DPIA-1"}},
        model_version="3", champion_run_id="a" * 32, today=date(2026, 1, 31), figures=figures,
    )  # fmt: skip


def test_withheld_and_unmeasured_figures_are_said_not_printed() -> None:
    """A count under the minimum cell is withheld (its value never printed) and a figure
    nobody measured reads "not measured"; the entry still validates in every language."""
    audit = {"audit_seq": 4, "audit_hash": "b" * 64, "key": "reviews_override_share"}
    run = {"mlflow_run_id": "c" * 32, "key": "excluded_held_out"}
    facts = _facts(
        override_share=Figure("override_share", 0.125, audit),
        held_out=Figure("held_out", None, run, "below_min_cell"),
        holdout_share=Figure("holdout_share", 0.1, {"mlflow_run_id": "c" * 32, "key": "x"}),
    )
    check = validator()
    entries = {lang: build(facts, lang) for lang in LANGS}
    for lang, entry in entries.items():
        assert list(check.iter_errors(entry)) == [], lang
        text = markdown(entry, facts.min_cell)
        assert number(0.125, "override_share", lang) in text
        assert {"fi": "alle 10", "sv": "under 10", "en": "under 10"}[lang] in text
        assert {"fi": "ei vielä mitattu", "sv": "ännu inte mätt", "en": "not measured"}[
            lang
        ] in text
        assert "DPIA-1" in text and "2027-01-31" in text
    assert entries["en"]["revision_date"] == "2027-01-31"
    assert '<section id="sv" lang="sv">' in page(entries, facts.min_cell)
    broken = dict(entries["en"], figures=[{"id": "x", "value": None, "source": run}])
    assert list(check.iter_errors(broken))  # a missing value must say why
