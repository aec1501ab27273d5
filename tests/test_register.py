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
import polars as pl
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from flows.audit import AuditLog, log_path
from flows.cli import app
from outreach.effect import Plan, estimate, verdict
from outreach.register_entry import (
    Facts,
    Figure,
    HoldOut,
    build,
    holdout_figures,
    holdout_source,
    markdown,
    number,
    page,
)
from outreach.register_prose import HOLDOUT, PLAN
from outreach.register_text import LANGS, OPEN

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "algorithm-register.schema.json").read_text())
PSEUDONYM = re.compile(r"EN[0-9A-F]{10}")


def validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def traced(
    figure: dict, client: MlflowClient, audit: dict[int, dict], workspace: Path | None = None
) -> bool:
    """Whether the figure's value is found again where its source says it was read (a
    hold-out figure: its plan's audit entry and the draws store's row count)."""
    source, value = figure["source"], figure["value"]
    if "store" in source:
        entry = audit.get(source.get("audit_seq", 0))
        plan = "audit_seq" not in source or (
            entry is not None
            and entry["hash"] == source["audit_hash"]
            and entry["event"] == "holdout.plan"
        )
        store = workspace / source["store"] if workspace is not None else None
        rows = pl.read_parquet(store).height if store is not None and store.exists() else None
        return plan and rows is not None and source["draws"] in (None, rows)
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
    from tests.conftest import page_at

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
    untraced = [f["id"] for f in figures if not traced(f, client, audit, settings.workspace)]
    assert untraced == []
    assert entries["en"]["hold_out"]["on"] is (settings.outreach.holdout_share > 0)
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

    with page_at(chromium, out / "register.html") as (view, errors):
        sections = view.eval_on_selector_all("section", "els => els.map(e => e.lang)")
        rows = view.eval_on_selector_all("section tbody tr", "els => els.length")
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
    from tests.test_review_loop import returned_with_override

    workspace, config, book, _ = returned_with_override(published, tmp_path)
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


def _facts(holdout: HoldOut | None = None, share: float = 0.1, **figures: Figure) -> Facts:
    return Facts(
        area="Testikylä", organization="Test city", contact_email="register@example.org",
        status="pilot", capacity=10, min_cell=10, cooldown_days=30, decline_days=180,
        holdout_share=share, partners={"school": {"en": "School", "dpia": "DPIA-1"}},
        model_version="3", champion_run_id="a" * 32, today=date(2026, 1, 31), figures=figures,
        holdout=holdout,
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


def _arms(held: tuple[int, int], not_held: tuple[int, int]) -> pl.DataFrame:
    """Drawn persons with a known outcome: (persons, registered) per arm."""
    rows = [(h, i < k) for h, (n, k) in ((True, held), (False, not_held)) for i in range(n)]
    return pl.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(len(rows))],
            "held_out": [h for h, _ in rows],
            "listed": [not h for h, _ in rows],
            "known": [True] * len(rows),
            "registered": [r for _, r in rows],
        }
    )


PLAN_ENTRY = {"seq": 7, "hash": "d" * 64, "event": "holdout.plan", "sha256": "e" * 64}
VERDICT_WORDS = {
    True: {"fi": "Informatiivinen:", "sv": "Informativt:", "en": "Informative:"},
    False: {
        "fi": "Ei vielä informatiivinen:",
        "sv": "Inte informativt ännu:",
        "en": "Not informative yet:",
    },
}


@pytest.mark.parametrize(
    ("held", "not_held", "informative"),
    [((400, 160), (400, 80), True), ((40, 12), (40, 14), False)],
    ids=["informative", "not-informative-yet"],
)
def test_the_holdout_result_with_its_verdict_figures_and_sources(
    held: tuple[int, int], not_held: tuple[int, int], informative: bool
) -> None:
    """The entry carries the reviews report's verdict in each language, the ITT with its
    interval and the MDE as figures naming the draws store and the plan's audit entry,
    and says the estimate is pre-registered only while the plan keeps its hash."""
    effect = estimate(_arms(held, not_held), min_cell=10, max_half_width=0.05)
    assert effect.informative is informative and effect.itt is not None
    source = holdout_source("reviews/holdout.parquet", 2 * 400, PLAN_ENTRY, 10)
    figures = holdout_figures(effect, source)
    check = validator()
    for plan, pre in ((Plan("e" * 64, "e" * 64), True), (Plan("e" * 64, "f" * 64), False)):
        facts = _facts(HoldOut(effect, plan, source), **figures)
        for lang in LANGS:
            entry = build(facts, lang)
            assert list(check.iter_errors(entry)) == [], lang
            said = entry["hold_out"]
            assert said["verdict"] == verdict(effect, lang)
            assert said["verdict"].startswith(VERDICT_WORDS[informative][lang])
            assert (said["informative"], said["pre_registered"]) == (informative, pre)
            assert said["verdict"] in entry["monitoring"]
            assert PLAN[lang]["pre" if pre else "changed"] in entry["monitoring"]
            text = markdown(entry, facts.min_cell)
            shown = {f["id"]: f for f in entry["figures"]}
            for figure_id, value in (
                ("holdout_itt", effect.itt.estimate),
                ("holdout_itt_low", effect.itt.low),
                ("holdout_itt_high", effect.itt.high),
                ("holdout_mde", effect.mde),
            ):
                assert shown[figure_id]["value"] == pytest.approx(value)
                assert shown[figure_id]["source"] == {
                    **source,
                    "key": shown[figure_id]["source"]["key"],
                }
                assert number(value, figure_id, lang) in text
            assert {"audit_seq": 7, "audit_hash": "d" * 64, "draws": 800}.items() <= shown[
                "holdout_itt"
            ]["source"].items()
            assert f"{7} ({'d' * 12}…)" in text and "reviews/holdout.parquet (800 " in text
    low = number(effect.itt.low, "holdout_itt_low", "fi")
    assert low.startswith(("+", "−")) and "," in low


def test_a_small_holdout_withholds_its_figures_and_an_off_holdout_says_so() -> None:
    """Arms under the minimum cell: the estimate and the MDE are withheld (never printed),
    the draws count in the source too, and the verdict says why; with no plan hash
    recorded the estimate is not pre-registered. A hold-out that is off says so and has
    no effect figures."""
    effect = estimate(_arms((12, 3), (12, 6)), min_cell=10, max_half_width=0.05)
    assert effect.itt is None and effect.mde is not None
    source = holdout_source("reviews/holdout.parquet", 8, None, 10)
    figures = holdout_figures(effect, source)
    assert sorted(figures) == ["holdout_itt", "holdout_itt_high", "holdout_itt_low", "holdout_mde"]
    assert all(f.value is None and f.withheld == "below_min_cell" for f in figures.values())
    check = validator()
    for lang in LANGS:
        entry = build(_facts(HoldOut(effect, Plan(None, "e" * 64), source), **figures), lang)
        assert list(check.iter_errors(entry)) == [], lang
        assert entry["hold_out"]["source"]["draws"] is None
        assert not entry["hold_out"]["informative"] and not entry["hold_out"]["pre_registered"]
        assert entry["hold_out"]["verdict"].startswith(VERDICT_WORDS[False][lang])
        assert PLAN[lang]["none"] in entry["monitoring"]
        text = markdown(entry, 10)
        assert number(effect.mde, "holdout_mde", lang) not in text
        precision = Figure("precision_at_capacity", 0.4, {"mlflow_run_id": "c" * 32, "key": "p"})
        off = build(_facts(share=0.0, precision_at_capacity=precision), lang)
        assert list(check.iter_errors(off)) == [], lang
        assert off["hold_out"] == {"on": False}
        assert HOLDOUT[lang]["off"] in off["monitoring"]
        assert not any(f["id"].startswith("holdout") for f in off["figures"])
    assert holdout_figures(None, source) == {}


@pytest.mark.e2e
@pytest.mark.xdist_group("prefect")
def test_the_register_reads_the_holdout_as_the_reviews_report_does(
    published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a real night with draws: the hold-out's source names the `holdout.plan` audit
    entry and the store's row count, the analysis is pre-registered, and before any
    horizon has passed the verdict says there is nothing to estimate (no figures)."""
    from flows.commands.common import load, prepare
    from flows.context import start
    from flows.nightly import nightly
    from flows.register import _holdout
    from tests.test_privacy import audit_log, copy_workspace

    workspace, config = copy_workspace(
        published, tmp_path, outreach={"capacity": {"default": 10}, "holdout_share": 0.4}
    )
    monkeypatch.chdir(tmp_path)
    nightly(config=str(config), as_of="2025-12-02")
    ctx = start(str(config), None, "register", settings=prepare(load(config)))
    held, figures = _holdout(ctx, ctx.audit.read())
    plan = [e for e in audit_log(workspace).read() if e["event"] == "holdout.plan"]
    rows = pl.read_parquet(workspace / "reviews" / "holdout.parquet").height
    assert held.source == {
        "store": "reviews/holdout.parquet",
        "draws": rows,
        "audit_seq": plan[0]["seq"],
        "audit_hash": plan[0]["hash"],
    }
    assert held.plan.pre_registered and figures == {}
    facts = _facts(
        held,
        precision_at_capacity=Figure(
            "precision_at_capacity", 0.4, {"mlflow_run_id": "c" * 32, "key": "p"}
        ),
    )
    entry = build(facts, "en")
    assert entry["hold_out"]["verdict"] == verdict(None, "en")
    assert list(validator().iter_errors(entry)) == []
