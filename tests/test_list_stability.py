"""List stability (issue 15 item 4): how a team's list changed since the last night, and why.

Unit tests on small frames with a known reason for every dropped person, a property over
random lists, and :func:`assert_stability`, the check tests/test_review_loop.py runs on its
real second nights (decisions recorded; a hold-out draw).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.spec import OutreachSpec
from outreach.stability import REASONS, STATUS_COLUMNS, compare, metrics, reasons

PREVIOUS, TONIGHT = date(2025, 12, 1), date(2025, 12, 2)
SPEC = OutreachSpec(cooldown_days=30, decline_days=180)
REVIEW_SCHEMA = {"person_id": pl.String, "decision": pl.String, "decided_at": pl.Date,
                 "imported_at": pl.Date}  # fmt: skip


def rows(entries: list[tuple[str, str, str]]) -> pl.DataFrame:
    """Published rows: (person_id, team, section)."""
    return pl.DataFrame(
        entries, schema={"person_id": pl.String, "team": pl.String, "section": pl.String},
        orient="row",
    )  # fmt: skip


def status(entries: list[tuple[str, str, bool, bool, bool]]) -> pl.DataFrame:
    return pl.DataFrame(entries, schema=STATUS_COLUMNS, orient="row")


def reviews(entries: list[tuple[str, str, date, date]]) -> pl.DataFrame:
    return pl.DataFrame(entries, schema=REVIEW_SCHEMA, orient="row")


# Team a's previous ranked list: one person kept and one dropped for each reason; team b
# loses a person who moved to team a's area. Q was in the asked section (counted apart).
PREVIOUS_ROWS = rows(
    [("Q", "a", "asked")]
    + [(p, "a", "ranked") for p in ("K", "A", "C", "D", "R", "H", "S", "O")]
    + [("M", "b", "ranked")]
)
TONIGHT_ROWS = rows([("A", "a", "asked"), ("K", "a", "ranked"), ("N", "a", "ranked")])
STATUS = status(
    [
        ("K", "a", True, True, False),
        ("N", "a", True, True, False),
        ("A", "a", False, False, False),  # asked: no scoring consent needed, still listed
        ("D", "a", True, True, False),
        ("R", "a", True, True, False),
        ("H", "a", True, True, True),
        ("S", "a", True, True, False),
        ("O", "a", True, False, False),  # became a client of a service: out of the cohort
        ("M", "a", True, True, False),  # moved to team a's area (not listed there)
    ]  # C is absent: erased
)
REVIEWS = reviews(
    [
        ("D", "contacted", PREVIOUS, PREVIOUS),  # about the previous list
        ("C", "declined", PREVIOUS, PREVIOUS),  # but the consent ended first
        ("R", "declined", date(2025, 11, 20), date(2025, 11, 20)),  # older: resting
        ("S", "contacted", date(2025, 10, 1), date(2025, 10, 2)),  # cool-down is over
    ]
)
TRUTH = {"A": "asked", "C": "consent_ended", "D": "decision", "R": "cool_down",
         "H": "held_out", "S": "score_fell", "O": "other"}  # fmt: skip


def test_every_dropped_person_gets_the_reason_that_holds_first() -> None:
    dropped = rows([(p, "a", "ranked") for p in TRUTH] + [("M", "b", "ranked")])
    why = reasons(dropped, TONIGHT_ROWS, STATUS, REVIEWS, PREVIOUS, TONIGHT, SPEC)
    assert dict(zip(why["person_id"], why["reason"], strict=True)) == TRUTH | {"M": "other"}


def test_a_team_s_overlap_counts_and_reasons() -> None:
    result = compare(PREVIOUS_ROWS, TONIGHT_ROWS, STATUS, REVIEWS, PREVIOUS, TONIGHT, SPEC)
    a, b = result["a"], result["b"]
    assert (a["kept"], a["new"], a["dropped"]) == (1, 1, 7)
    assert a["jaccard"] == 1 / 9  # K of K, N and the seven dropped
    assert a["dropped_by"] == dict.fromkeys(REASONS, 1)
    assert (a["asked"], a["asked_previous"]) == (1, 1)  # A tonight, Q last night: apart
    assert (b["kept"], b["new"], b["dropped"], b["jaccard"]) == (0, 0, 1, 0.0)
    assert b["dropped_by"]["other"] == 1 and sum(b["dropped_by"].values()) == 1


def test_a_decision_imported_after_the_list_counts_as_a_decision() -> None:
    late = reviews([("R", "declined", date(2025, 11, 20), PREVIOUS)])  # returned late
    why = reasons(rows([("R", "a", "ranked")]), TONIGHT_ROWS, STATUS, late, PREVIOUS,
                  TONIGHT, SPEC)  # fmt: skip
    assert why["reason"].to_list() == ["decision"]
    # With no cool-down configured a contact keeps nobody off: the score decides.
    none = OutreachSpec(cooldown_days=0)
    why = reasons(rows([("D", "a", "ranked")]), TONIGHT_ROWS, STATUS, REVIEWS, PREVIOUS,
                  TONIGHT, none)  # fmt: skip
    assert why["reason"].to_list() == ["score_fell"]


def test_two_empty_nights_overlap_fully_and_the_first_list_is_all_new() -> None:
    empty = rows([])
    assert compare(empty, empty, status([]), reviews([]), PREVIOUS, TONIGHT, SPEC) == {}
    first = compare(empty, rows([("K", "a", "ranked")]), STATUS, REVIEWS, PREVIOUS, TONIGHT, SPEC)
    assert (first["a"]["jaccard"], first["a"]["new"], first["a"]["dropped"]) == (0.0, 1, 0)
    same = compare(TONIGHT_ROWS, TONIGHT_ROWS, STATUS, REVIEWS, PREVIOUS, TONIGHT, SPEC)
    assert same["a"]["jaccard"] == 1.0 and same["a"]["dropped"] == 0


def test_mlflow_gets_no_small_cell_nor_one_recomputable_from_the_others() -> None:
    stable = {"kept": 12, "new": 0, "dropped": 0, "jaccard": 1.0,
              "dropped_by": dict.fromkeys(REASONS, 0)}  # fmt: skip
    churn = {"kept": 10, "new": 6, "dropped": 6, "jaccard": 10 / 22,
             "dropped_by": dict.fromkeys(REASONS, 0) | {"decision": 4, "score_fell": 2}}  # fmt: skip
    few = {"kept": 10, "new": 2, "dropped": 2, "jaccard": 10 / 14,
           "dropped_by": dict.fromkeys(REASONS, 0) | {"decision": 2}}  # fmt: skip
    logged = metrics({"itä": stable, "b": churn, "c": few}, min_cell=5)
    assert logged["stability_jaccard_it_"] == 1.0 and logged["stability_kept_it_"] == 12
    assert logged["stability_dropped_decision_it_"] == 0
    assert logged["stability_dropped_b"] == 6 and logged["stability_jaccard_b"] == 10 / 22
    assert not any(k.startswith("stability_dropped_") and k.endswith("_b") and
                   k != "stability_dropped_b" for k in logged)  # fmt: skip
    assert not any(k.endswith("_c") for k in logged)  # 2 new: the whole team is left out
    assert metrics({"c": few}, min_cell=2)["stability_dropped_decision_c"] == 2


IDS = [f"P{i}" for i in range(12)]
TEAMS = ("a", "b")
lists = st.dictionaries(
    st.sampled_from(IDS), st.tuples(st.sampled_from(TEAMS), st.sampled_from(["ranked", "asked"]))
)
facts = st.dictionaries(
    st.sampled_from(IDS), st.tuples(st.sampled_from(TEAMS), st.booleans(), st.booleans(),
                                    st.booleans()),
)  # fmt: skip
decisions = st.dictionaries(
    st.sampled_from(IDS),
    st.tuples(st.sampled_from(["contacted", "declined", "helped_elsewhere"]),
              st.integers(-60, 0), st.integers(0, 5)),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(lists, lists, facts, decisions, st.integers(1, 6))
def test_counts_reconcile_for_any_two_nights(before, after, known, decided, min_cell) -> None:
    previous = rows([(p, t, s) for p, (t, s) in before.items()])
    tonight = rows([(p, t, s) for p, (t, s) in after.items()])
    now = status([(p, t, c, k, h) for p, (t, c, k, h) in known.items()])
    stored = reviews(
        [(p, d, date.fromordinal(TONIGHT.toordinal() + ago), date.fromordinal(
            TONIGHT.toordinal() + ago + late)) for p, (d, ago, late) in decided.items()]
    )  # fmt: skip
    result = compare(previous, tonight, now, stored, PREVIOUS, TONIGHT, SPEC)
    for team, s in result.items():
        was = {p for p, (t, sec) in before.items() if t == team and sec == "ranked"}
        will = {p for p, (t, sec) in after.items() if t == team and sec == "ranked"}
        assert 0.0 <= s["jaccard"] <= 1.0
        assert s["kept"] + s["new"] == len(will)
        assert s["kept"] + s["dropped"] == len(was)
        assert sum(s["dropped_by"].values()) == s["dropped"]
        assert set(s["dropped_by"]) == set(REASONS)
    for name, value in metrics(result, min_cell).items():
        assert "jaccard" in name or value == 0 or value >= min_cell, name


def test_the_previous_lists_are_the_newest_still_kept(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from flows.lists import previous_published

    root = tmp_path / "lists"
    for day, team, section in (("2025-11-28", "a", True), ("2025-11-29", "b", False)):
        folder = root / ".versions" / f"{day}--run"
        folder.mkdir(parents=True)
        frame = pl.DataFrame({"person_id": ["X"], "name": ["never read"]})
        if section:
            frame = frame.with_columns(section=pl.lit("asked"))
        frame.write_parquet(folder / f"{day}-{team}.parquet")
        (root / day).symlink_to(Path(".versions") / folder.name)
    (root / "2025-11-30").symlink_to(".versions/2025-11-30--gone")  # retention removed it
    (root / "2025-12-02").symlink_to(".versions/2025-11-29--run")  # tonight: not "previous"
    ctx = SimpleNamespace(ws=SimpleNamespace(path=root.parent.joinpath), as_of=TONIGHT)
    day, rows = previous_published(ctx)
    assert day == date(2025, 11, 29)
    assert rows.to_dicts() == [{"person_id": "X", "section": "ranked", "team": "b"}]
    assert previous_published(SimpleNamespace(ws=ctx.ws, as_of=date(2025, 11, 28))) is None


def test_tonight_s_facts_carry_the_pseudonym_printed_on_the_lists(tmp_path: Path) -> None:
    """With the second pseudonym layer, the consent state and the draws hold keyed hashes
    (H…) and the lists and decisions the printed pseudonyms (L…)."""
    from types import SimpleNamespace

    from flows.decisions import HOLDOUT
    from flows.lists import Lists, list_status
    from outreach.assemble import Exclusions

    consents = pl.DataFrame({"person_id": ["H1", "H2", "H3"], "list_person_id": ["L1", "L2", "L3"]})
    state = pl.DataFrame({"person_id": ["H1", "H2", "H3"], "as_of": [TONIGHT] * 3,
                          "team": ["a", "b", "a"], "can_score": [True, True, True],
                          "can_contact": [True, False, True]})  # fmt: skip
    draw = {"person_id": ["H1"], "as_of": [TONIGHT], "held_out": [True]}
    earlier = pl.DataFrame({"person_id": ["H2", "H3"], "as_of": [date(2025, 11, 20),
                            date(2025, 1, 1)], "held_out": [True, True]})  # fmt: skip
    (tmp_path / HOLDOUT[0]).mkdir()
    earlier.write_parquet(tmp_path.joinpath(*HOLDOUT))
    ctx = SimpleNamespace(ws=SimpleNamespace(path=tmp_path.joinpath), as_of=TONIGHT,
                          settings=SimpleNamespace(outreach=SPEC))  # fmt: skip
    lists = Lists(rows(()), Exclusions(0, 0, 0), False, draws=pl.DataFrame(draw))
    scored = pl.DataFrame({"person_id": ["H1", "H3"]})
    got = list_status(ctx, consents, state, scored, lists).sort("person_id")
    assert got.rows() == [
        ("L1", "a", True, True, True),
        ("L2", "b", False, False, True),
        ("L3", "a", True, True, False),
    ]  # H3's draw is past holdout_days


def _ranked(workspace: Path, day: str) -> pl.DataFrame:
    folder = workspace / "lists" / day
    frame = pl.concat([pl.read_parquet(p) for p in sorted(folder.glob("*.parquet"))])
    return frame.filter(pl.col("section") == "ranked").select(
        "person_id", team=pl.col("list_id").str.strip_prefix(f"{day}-")
    )


def assert_stability(
    workspace: Path,
    day: str,
    previous: str,
    reason: str,
    persons: set[str],
    mlflow_run: str | None = None,
    min_cell: int = 10,
) -> None:
    """On a real night: the manifest's stability reconciles with the published files, and
    ``reason`` counts exactly those of ``persons`` who were on the previous ranked lists.
    With ``mlflow_run``, the run logged exactly the publishable stability metrics."""
    manifest = json.loads((workspace / "lists" / day / "manifest.json").read_text())
    stability = manifest["stability"]
    assert stability["previous_as_of"] == previous
    before, after = _ranked(workspace, previous), _ranked(workspace, day)
    assert stability["teams"], "both nights published lists"
    for team, s in stability["teams"].items():
        was = set(before.filter(pl.col("team") == team)["person_id"])
        now = set(after.filter(pl.col("team") == team)["person_id"])
        assert (s["kept"], s["new"], s["dropped"]) == (len(was & now), len(now - was),
                                                       len(was - now))  # fmt: skip
        assert sum(s["dropped_by"].values()) == s["dropped"]
    were_listed = persons & set(before["person_id"])
    assert were_listed, "the check needs someone who was on the previous list"
    counted = sum(s["dropped_by"][reason] for s in stability["teams"].values())
    assert counted == len(were_listed)
    if mlflow_run is not None:
        from mlflow.tracking import MlflowClient

        client = MlflowClient(f"sqlite:///{workspace / 'mlflow' / 'mlflow.db'}")
        logged = client.get_run(mlflow_run).data.metrics
        logged = {k: v for k, v in logged.items() if k.startswith("stability_")}
        assert logged == metrics(stability["teams"], min_cell)
