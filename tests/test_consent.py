"""Consent: nobody without a valid consent for the purpose is scored, listed or used."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.build import build_features
from features.consent import consent_state, in_scope
from features.spec import ConsentPolicy, FeatureSpec, Labels, PartnerSpec
from outreach.assemble import assemble
from outreach.spec import OutreachSpec

D0 = date(2024, 1, 1)
PARTNERS = {
    "school": PartnerSpec(
        label=Labels(fi="k", sv="s", en="school"), event_types=("absence", "credits")
    ),
    "outreach": PartnerSpec(label=Labels(fi="e", sv="u", en="outreach"), event_types=("contact",)),
}
POLICY = ConsentPolicy(invalid_notice_versions=("v1",), expiry_warning_days=30)
PURPOSES = ["scoring", "contact", "source:school", "source:outreach"]


def consent_rows(rows: list[dict]) -> pl.DataFrame:
    base = {"channel": "web_form", "birth_year": 2004, "postal_code": "00100", "language": "fi",
            "team": "t1", "gender": "F"}  # fmt: skip
    return pl.DataFrame([{**base, **r} for r in rows]).with_columns(
        pl.col("given_at", "expires_at", "withdrawn_at").cast(pl.Date)
    )


def reference_valid(rows: list[dict], as_of: date, invalid_notices=("v1",)) -> dict | None:
    """An independent, plain-Python reading of the rule (features.consent), to compare: the latest
    consent decides; consents given on that same day together allow only what all allow."""
    given = [r for r in rows if r["given_at"] <= as_of]
    if not given:
        return None
    last_day = max(r["given_at"] for r in given)
    tied = [r for r in given if r["given_at"] == last_day]
    ends = [d for r in tied for d in (r["expires_at"], r["withdrawn_at"]) if d is not None]
    invalid = any(r["notice_version"] in invalid_notices for r in tied)
    purposes = set.intersection(*({p for p in r["purposes"].split(",") if p} for r in tied))
    valid = (not ends or as_of < min(ends)) and not invalid
    return {**tied[0], "purposes": ",".join(sorted(purposes))} if valid else None


def test_semantics_on_hand_written_histories() -> None:
    """Latest consent wins; withdrawal and expiry end it; an old notice version is invalid."""
    rows = [
        # p1: first consent withdrawn, then a new one: valid again.
        dict(person_id="p1", consent_id="a", given_at=date(2023, 1, 1), expires_at=None,
             withdrawn_at=date(2023, 6, 1), purposes="scoring,contact", notice_version="v2"),
        dict(person_id="p1", consent_id="b", given_at=date(2023, 9, 1), expires_at=None,
             withdrawn_at=None, purposes="scoring,contact", notice_version="v3"),
        # p2: expired on the as-of date itself: not valid (D < expires_at fails).
        dict(person_id="p2", consent_id="c", given_at=date(2022, 1, 1), expires_at=D0,
             withdrawn_at=None, purposes="scoring,contact", notice_version="v2"),
        # p3: only under the outdated notice.
        dict(person_id="p3", consent_id="d", given_at=date(2023, 1, 1), expires_at=None,
             withdrawn_at=None, purposes="scoring,contact", notice_version="v1"),
        # p4: may be scored but not contacted; expires in 20 days.
        dict(person_id="p4", consent_id="e", given_at=date(2023, 1, 1),
             expires_at=D0 + timedelta(days=20), withdrawn_at=None, purposes="scoring",
             notice_version="v3"),
    ]  # fmt: skip
    state = consent_state(consent_rows(rows), D0, POLICY, PARTNERS).sort("person_id")
    assert state["status"].to_list() == ["valid", "expired", "invalid_notice", "valid"]
    assert state["can_score"].to_list() == [True, False, False, True]
    assert state["can_contact"].to_list() == [True, False, False, False]
    assert state["expiring_soon"].to_list() == [False, False, False, True]
    assert state.filter(pl.col("person_id") == "p1")["consent_id"].item() == "b"


def test_a_withdrawal_on_the_same_day_wins_whichever_id_sorts_first() -> None:
    """Two consents given the same day, one withdrawn the next: the person is out, for
    either order of the rows and either order of the consent ids (issue 11, finding 2)."""
    base = dict(person_id="p1", given_at=date(2023, 1, 1), expires_at=None,
                purposes="scoring,contact", notice_version="v3")  # fmt: skip
    for ids in (("a", "b"), ("b", "a")):
        rows = [
            {**base, "consent_id": ids[0], "withdrawn_at": None},
            {**base, "consent_id": ids[1], "withdrawn_at": date(2023, 1, 2)},
        ]
        for ordered in (rows, rows[::-1]):
            state = consent_state(consent_rows(ordered), D0, POLICY, PARTNERS)
            assert state["status"].to_list() == ["withdrawn"]
            assert not state["can_score"].any() and not state["can_contact"].any()


def test_same_day_consents_grant_only_what_all_grant() -> None:
    """Same-day consents for scoring+contact and scoring+school: only scoring remains."""
    base = dict(person_id="p1", given_at=date(2023, 1, 1), expires_at=None, withdrawn_at=None,
                notice_version="v3")  # fmt: skip
    rows = [
        {**base, "consent_id": "a", "purposes": "scoring,contact"},
        {**base, "consent_id": "b", "purposes": "scoring,source:school"},
    ]
    state = consent_state(consent_rows(rows), D0, POLICY, PARTNERS)
    assert state.select("can_score", "can_contact", "source_school").row(0) == (True, False, False)


def test_erased_persons_are_out_whatever_they_consented() -> None:
    rows = [dict(person_id="p1", consent_id="a", given_at=date(2023, 1, 1), expires_at=None,
                 withdrawn_at=None, purposes="scoring,contact", notice_version="v3")]  # fmt: skip
    state = consent_state(consent_rows(rows), D0, POLICY, PARTNERS, erased=["p1"])
    assert state["status"].to_list() == ["erased"]
    assert not state["can_score"].any()


day = st.integers(min_value=-400, max_value=400).map(lambda n: D0 + timedelta(days=n))
consent = st.fixed_dictionaries(
    {
        "given_at": day,
        "expires_in": st.one_of(st.none(), st.integers(1, 800)),
        "withdrawn_in": st.one_of(st.none(), st.integers(0, 800)),
        "purposes": st.lists(st.sampled_from(PURPOSES), unique=True),
        "notice_version": st.sampled_from(["v1", "v2", "v3"]),
    }
)
histories = st.lists(st.lists(consent, min_size=1, max_size=3), min_size=1, max_size=8)


def expand(histories: list[list[dict]]) -> list[dict]:
    rows = []
    for p, history in enumerate(histories):
        for c, h in enumerate(history):
            rows.append({
                "person_id": f"p{p}", "consent_id": f"c{p}-{c}", "given_at": h["given_at"],
                "expires_at": h["given_at"] + timedelta(days=h["expires_in"]) if h["expires_in"] else None,
                "withdrawn_at": h["given_at"] + timedelta(days=h["withdrawn_in"]) if h["withdrawn_in"] is not None else None,
                "purposes": ",".join(h["purposes"]), "notice_version": h["notice_version"],
            })  # fmt: skip
    return rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories=histories, as_of=day, seed=st.integers(0, 10_000))
def test_no_list_holds_a_person_without_valid_scoring_and_contact_consent(histories, as_of, seed):
    rows = expand(histories)
    state = consent_state(consent_rows(rows), as_of, POLICY, PARTNERS)
    services = pl.DataFrame(schema={"person_id": pl.String, "service": pl.String,
                                    "start": pl.Date, "end": pl.Date})  # fmt: skip
    cohort = in_scope(state, services)
    scored = cohort.with_columns(
        probability=pl.col("person_id").hash(seed).cast(pl.Float64) / 2**64,
        points=pl.lit(0),
    )
    spec = OutreachSpec()
    listed, _, _ = assemble(scored, pl.DataFrame(), None, {}, False, as_of, spec)
    for person in listed["person_id"].to_list():
        latest = reference_valid([r for r in rows if r["person_id"] == person], as_of)
        assert latest is not None, f"{person} listed without a valid consent on {as_of}"
        purposes = latest["purposes"].split(",")
        assert "scoring" in purposes and "contact" in purposes
    # And everyone with a valid scoring+contact consent is eligible (nobody dropped silently).
    expected = {
        f"p{p}"
        for p in range(len(histories))
        if (r := reference_valid([x for x in rows if x["person_id"] == f"p{p}"], as_of))
        and {"scoring", "contact"} <= set(r["purposes"].split(","))
    }
    assert set(listed["person_id"].to_list()) == expected


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories=histories, as_of=day, order=st.randoms(use_true_random=False))
def test_the_consent_state_does_not_depend_on_row_order_or_ids(histories, as_of, order):
    """Shuffling the consent rows and renaming their ids (same-day ties included) never
    changes anyone's status or permissions."""
    rows = expand(histories)
    shuffled = [dict(r) for r in rows]
    order.shuffle(shuffled)
    names = [f"z{n}" for n in range(len(shuffled))]
    order.shuffle(names)
    for row, name in zip(shuffled, names, strict=True):
        row["consent_id"] = name
    columns = ["person_id", "status", "can_score", "can_contact", "source_school",
               "source_outreach", "expires_at", "expiring_soon"]  # fmt: skip
    first = consent_state(consent_rows(rows), as_of, POLICY, PARTNERS).select(columns)
    second = consent_state(consent_rows(shuffled), as_of, POLICY, PARTNERS).select(columns)
    assert first.sort("person_id").equals(second.sort("person_id"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    histories=histories,
    as_of=day,
    events=st.lists(
        st.tuples(st.integers(0, 7), st.sampled_from(["school", "outreach"]), st.integers(1, 500)),
        max_size=40,
    ),
)
def test_no_feature_uses_a_source_the_person_did_not_consent_to(histories, as_of, events):
    """Deleting every row the consent does not cover leaves the features unchanged."""
    rows = expand(histories)
    state = consent_state(consent_rows(rows), as_of, POLICY, PARTNERS)
    cohort = in_scope(state, pl.DataFrame(schema={"person_id": pl.String, "service": pl.String,
                                                  "start": pl.Date, "end": pl.Date}))  # fmt: skip
    if cohort.is_empty():
        return
    frame = pl.DataFrame(
        [{"person_id": f"p{p}", "source": s, "event_type": "contact" if s == "outreach" else "absence",
          "event_date": as_of - timedelta(days=d), "value": 1.0} for p, s, d in events],
        schema={"person_id": pl.String, "source": pl.String, "event_type": pl.String,
                "event_date": pl.Date, "value": pl.Float64},
    )  # fmt: skip
    allowed = cohort.unpivot(index="person_id", on=["source_school", "source_outreach"])
    allowed = allowed.filter(pl.col("value")).select(
        "person_id", pl.col("variable").str.strip_prefix("source_").alias("source")
    )
    covered = frame.join(allowed, on=["person_id", "source"], how="semi")
    spec = FeatureSpec()
    empty = pl.DataFrame(schema={"area_code": pl.String, "area_level": pl.String,
                                 "period": pl.String, "indicator": pl.String, "value": pl.Float64})  # fmt: skip
    full = build_features(cohort, frame, empty, spec, PARTNERS, ())
    only_covered = build_features(cohort, covered, empty, spec, PARTNERS, ())
    assert full.frame.equals(only_covered.frame)


def test_gate_on_the_demo_city(city: Path) -> None:
    """On the synthetic city: withdrawn, expired and partial consents are all kept out."""
    consents = pl.read_parquet(city / "consents/register.parquet")
    services = pl.read_parquet(city / "services.parquet")
    as_of = date(2025, 12, 1)
    state = consent_state(consents, as_of, POLICY, PARTNERS)
    cohort = in_scope(state, services)
    counts = dict(state.group_by("status").len().iter_rows())
    assert counts["withdrawn"] > 0 and counts["expired"] > 0 and counts["valid"] > 0
    assert counts.get("invalid_notice", 0) >= 0
    assert cohort["can_score"].all()
    assert set(cohort["status"].unique().to_list()) == {"valid"}
    active = services.filter(
        (pl.col("start") <= as_of) & (pl.col("end").is_null() | (pl.col("end") >= as_of))
    )
    assert cohort.join(active, on="person_id", how="semi").is_empty()
    for row in cohort.sample(50, seed=1).iter_rows(named=True):
        history = consents.filter(pl.col("person_id") == row["person_id"]).to_dicts()
        assert reference_valid(history, as_of) is not None
