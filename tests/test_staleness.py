"""Old partner data: its age shown by `validate --as-of`, and too much of it stops a run.

The finding: a run three months past the newest extracts published 140 rows, all flagged
stale, and `validate` said "ok" and took no date.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from features.errors import SourceError
from flows.cli import app
from flows.settings import ConfigError, load_settings
from flows.staleness import SourceAge, check_stale_share, source_ages
from tests.conftest import ROOT, write_config

AS_OF = date(2025, 12, 1)
MAX_AGE = {"school": 45, "outreach": 90}
runner = CliRunner()


def test_a_source_is_stale_only_past_its_allowed_age_or_when_it_has_no_rows() -> None:
    """The boundary of the nightly run's rule: exactly max_age_days old is still fresh."""
    assert not SourceAge("school", AS_OF - timedelta(days=45), AS_OF, 45).stale
    assert SourceAge("school", AS_OF - timedelta(days=46), AS_OF, 45).stale
    assert SourceAge("school", None, AS_OF, 45).stale
    assert SourceAge("school", AS_OF + timedelta(days=3), AS_OF, 45).age_days == -3


@given(
    newest=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 1, 1))),
    as_of=st.dates(date(2020, 1, 1), date(2030, 1, 1)),
    max_age=st.integers(1, 400),
)
def test_staleness_agrees_with_the_rule_that_flags_list_rows(newest, as_of, max_age) -> None:
    """SourceAge.stale is flows.pipeline.stale_sources' rule (newest < as_of - max_age)."""
    expected = newest is None or newest < as_of - timedelta(days=max_age)
    assert SourceAge("school", newest, as_of, max_age).stale == expected


@given(
    listed=st.integers(0, 2_000),
    data=st.data(),
    limit=st.floats(0.0, 1.0, allow_nan=False),
)
def test_a_run_stops_exactly_when_the_flagged_share_exceeds_the_limit(
    listed: int, data, limit: float
) -> None:
    """check_stale_share raises if and only if flagged / listed > limit (never on no rows)."""
    flagged = data.draw(st.integers(0, listed))
    newest = {"school": AS_OF - timedelta(days=100), "outreach": AS_OF}
    stops = listed > 0 and flagged / listed > limit
    if stops:
        with pytest.raises(SourceError):
            check_stale_share(flagged, listed, limit, AS_OF, newest, MAX_AGE)
    else:
        check_stale_share(flagged, listed, limit, AS_OF, newest, MAX_AGE)


def test_the_stop_names_every_stale_source_its_age_the_share_and_what_to_do() -> None:
    """One paragraph: which sources are how old, how many listed rows would be flagged, the
    setting, and what the operator can do; fresh sources are not named."""
    newest = {"school": date(2025, 8, 31), "outreach": date(2025, 11, 30)}
    with pytest.raises(SourceError) as err:
        check_stale_share(140, 140, 0.5, AS_OF, newest, MAX_AGE)
    text = err.value.describe()
    assert text.startswith("events/school: ")
    assert "newest row 2025-08-31, 92 days old on 2025-12-01 (allowed 45)" in text
    assert "events/outreach" not in text
    assert "140 of 140 listed persons (100%)" in text and "outreach.max_stale_share (50%)" in text
    assert "previous lists stay" in text and "validate --as-of 2025-12-01" in text
    assert "\n" not in text


def test_a_partner_without_rows_is_named_as_such() -> None:
    """A source with no rows at all is stale and said to have none."""
    ages = source_ages({"school": AS_OF}, MAX_AGE, AS_OF)
    assert [a.stale for a in ages] == [False, True]
    assert ages[1].describe() == "events/outreach has no rows (allowed age 90 days)"


def test_the_limit_is_a_documented_setting_between_zero_and_one(tmp_path) -> None:
    """default.yaml sets outreach.max_stale_share (0.5); a value above 1 is refused by key."""
    assert load_settings(ROOT / "configs" / "default.yaml", env={}).outreach.max_stale_share == 0.5
    assert "max_stale_share: 0.5" in (ROOT / "configs" / "default.yaml").read_text()
    bad = write_config(tmp_path / "c.yaml", {"outreach": {"max_stale_share": 1.5}})
    with pytest.raises(ConfigError) as err:
        load_settings(bad, env={})
    assert "outreach.max_stale_share" in str(err.value)


def test_validate_shows_each_sources_age_and_passes_on_fresh_data(config_for) -> None:
    """On the configured date every partner source is fresh: ages shown, exit 0."""
    result = runner.invoke(app, ["validate", "--config", str(config_for())])
    assert result.exit_code == 0, result.output
    assert "Age of the data on 2025-12-01" in result.output
    assert "fresh" in result.output and "stale" not in result.output


def test_validate_months_after_the_extracts_says_stale_and_that_a_run_would_stop(
    config_for,
) -> None:
    """Three months past the newest rows every partner source is stale and the estimated
    share of persons who may be listed is above the limit: exit 1, sources named."""
    result = runner.invoke(
        app, ["validate", "--config", str(config_for()), "--as-of", "2026-03-01"]
    )
    assert result.exit_code == 1, result.output
    assert "Age of the data on 2026-03-01" in result.output
    assert "stale: events/school: newest row" in result.output
    assert "(allowed 45)" in result.output
    assert "Stale data would stop a run" in result.output
    assert "Traceback" not in result.output


def test_validate_shows_stale_sources_but_passes_when_the_limit_allows_them(config_for) -> None:
    """With outreach.max_stale_share 1.0 stale data never stops a run: shown, exit 0."""
    config = config_for(outreach={"capacity": {"default": 10}, "max_stale_share": 1.0})
    result = runner.invoke(app, ["validate", "--config", str(config), "--as-of", "2026-03-01"])
    assert result.exit_code == 0, result.output
    assert "stale" in result.output and "this one would go on" in result.output


def test_validate_refuses_a_malformed_as_of_date_in_one_line(config_for) -> None:
    """A bad --as-of is a user's mistake: exit 2, one paragraph, no traceback."""
    result = runner.invoke(app, ["validate", "--config", str(config_for()), "--as-of", "1.3.2026"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output and "Traceback" not in result.output
