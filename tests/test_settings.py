"""Settings: one typed object, and one clear error naming the file and the key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flows.settings import ConfigError, load_settings
from tests.conftest import ROOT, write_config


def test_default_and_demo_configs_load() -> None:
    """The shipped configurations are valid, and demo.yaml overrides only what it sets."""
    default = load_settings(ROOT / "configs" / "default.yaml", env={})
    demo = load_settings(ROOT / "configs" / "demo.yaml", env={})
    assert demo.workspace == (ROOT / "var" / "demo" / "workspace").resolve()
    assert demo.as_of == date(2025, 12, 1)
    assert demo.partners["school"].format == "csv"
    assert demo.partners["school"].label == default.partners["school"].label
    assert demo.outreach.capacity.default == 20
    assert default.outreach.capacity.default == 25


def test_relative_paths_resolve_against_the_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    cfg = write_config(tmp_path / "sub" / "c.yaml", {"workspace": "../ws"})
    assert load_settings(cfg, env={}).workspace == (tmp_path / "ws").resolve()


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", {"outreach": {"capacity": {"defualt": 3}}})
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    text = str(err.value)
    assert str(cfg) in text
    assert "unknown key `outreach.capacity.defualt`" in text


def test_wrong_type_names_file_key_and_value(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", {"labels": {"horizon_days": "half a year"}})
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    assert "labels.horizon_days" in str(err.value)
    assert "half a year" in str(err.value)
    assert str(cfg) in str(err.value)


def test_a_mistyped_area_level_is_refused_at_load_naming_file_key_and_choices(
    tmp_path: Path,
) -> None:
    """Not a traceback at feature building: the file, the key and the allowed values."""
    use = [{"indicator": "unemployment_rate", "area_level": "postcode", "lag_days": 60}]
    cfg = write_config(tmp_path / "c.yaml", {"indicators": {"use": use}})
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    text = str(err.value)
    assert str(cfg) in text
    assert "indicators.use.0.area_level" in text
    assert "'postal_code' or 'country'" in text and "postcode" in text
    assert "Traceback" not in text


def test_a_mistyped_time_zone_is_refused_at_load(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", {"timezone": "Europe/Helsinky"})
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    text = str(err.value)
    assert str(cfg) in text and "`timezone`" in text and "Europe/Helsinky" in text
    assert "IANA time zone" in text and "Value error" not in text


def test_a_mistyped_executor_kind_from_the_command_line_names_the_command_line(
    tmp_path: Path,
) -> None:
    cfg = write_config(tmp_path / "c.yaml", {})
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={}, overrides={"executor.kind": "threads"})
    assert "the command line" in str(err.value)
    assert "executor.kind" in str(err.value) and "'local' or 'dask'" in str(err.value)


def test_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml", env={})


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("workspace: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(cfg, env={})


def test_secrets_may_not_be_written_in_files(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", {"privacy": {"pseudonym_key": "hunter2"}})
    with pytest.raises(ConfigError, match="ENNAKKO_PSEUDONYM_KEY"):
        load_settings(cfg, env={})


def test_a_password_in_a_service_address_is_refused_but_the_address_alone_is_fine(
    tmp_path: Path,
) -> None:
    cfg = write_config(
        tmp_path / "c.yaml", {"mlflow": {"tracking_uri": "postgresql://ennakko:s3cret@db/mlflow"}}
    )
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    text = str(err.value)
    assert "ENNAKKO_MLFLOW_URI" in text and "Key: mlflow.tracking_uri" in text
    assert "s3cret" not in text
    plain = write_config(tmp_path / "d.yaml", {"mlflow": {"tracking_uri": "http://mlflow:5000"}})
    assert load_settings(plain, env={}).mlflow_uri == "http://mlflow:5000"
    query = write_config(
        tmp_path / "e.yaml", {"mlflow": {"tracking_uri": "postgresql://db/m?password=x"}}
    )
    with pytest.raises(ConfigError):
        load_settings(query, env={})


def test_printed_addresses_hide_credentials() -> None:
    from flows.settings import shown_uri

    assert (
        shown_uri("postgresql://ennakko:s3cret@db:5432/mlflow") == "postgresql://***@db:5432/mlflow"
    )
    assert "s3cret" not in shown_uri("postgresql://db/m?user=u&password=s3cret")
    assert shown_uri("http://mlflow:5000") == "http://mlflow:5000"


def test_a_missing_base_names_the_file_that_extends_it(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text("extends: nowhere.yaml\n")
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "site.yaml", env={})
    assert str(tmp_path / "nowhere.yaml") in str(err.value)
    assert f"`extends:` in {tmp_path / 'site.yaml'}" in str(err.value)


def test_environment_overrides_paths_and_secrets(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", {})
    env = {"ENNAKKO_WORKSPACE": str(tmp_path / "elsewhere"), "ENNAKKO_PSEUDONYM_KEY": "k3y"}
    settings = load_settings(cfg, env=env)
    assert settings.workspace == (tmp_path / "elsewhere").resolve()
    assert settings.privacy.pseudonym_key.get_secret_value() == "k3y"
    assert "k3y" not in repr(settings)


def test_extends_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="loops back"):
        load_settings(tmp_path / "a.yaml", env={})


def test_mlflow_and_prefect_state_live_in_the_workspace(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path / "c.yaml", {"workspace": "ws"}), env={})
    assert settings.mlflow_uri == f"sqlite:///{tmp_path / 'ws' / 'mlflow' / 'mlflow.db'}"
    assert settings.prefect_home == tmp_path / "ws" / "prefect"


# ------------------------------------------------- configurations that would do harm


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
area_name: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_a_billion_laughs_is_refused_in_under_a_second(tmp_path: Path) -> None:
    """Nested YAML aliases (10^9 values once expanded) end in one ConfigError at once."""
    import time

    cfg = tmp_path / "bomb.yaml"
    cfg.write_text(f"extends: {ROOT / 'configs' / 'default.yaml'}\n" + BILLION_LAUGHS)
    started = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    assert time.perf_counter() - started < 1.0
    text = str(err.value)
    assert str(cfg) in text and "alias *a at line 3" in text


def test_a_single_alias_is_refused_too(tmp_path: Path) -> None:
    """Any alias is refused, not only deep ones: settings never need them."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("area_name: &n Espoo\ntimezone: *n\n")
    with pytest.raises(ConfigError, match=r"alias \*n at line 2, column 11"):
        load_settings(cfg, env={})


def test_a_configuration_over_one_megabyte_is_refused_unread(tmp_path: Path) -> None:
    """A file over 1 MB is refused by its size, naming the file, before YAML parses it."""
    cfg = tmp_path / "big.yaml"
    cfg.write_text("area_name: x\n" + "# padding\n" * 110_000)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    assert str(cfg) in str(err.value) and "1 MB" in str(err.value)


def test_deep_nesting_and_bytes_that_are_not_utf8_are_refused_clearly(tmp_path: Path) -> None:
    """100,000 nested brackets and Latin-1 bytes each end in a ConfigError, not a traceback."""
    deep = tmp_path / "deep.yaml"
    deep.write_text("area_name: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ConfigError, match="nests deeper than 50 levels at line 1"):
        load_settings(deep, env={})
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("area_name: Järvenpää\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_settings(latin, env={})


@pytest.mark.parametrize(
    ("workspace", "data_dir", "relation"),
    [
        ("shared", "shared", "are the same folder"),
        ("drop/ennakko", "drop", "the workspace lies inside the data folder"),
        ("ws", "ws/incoming", "the data folder lies inside the workspace"),
    ],
)
def test_the_workspace_and_the_drop_folder_must_be_apart(
    tmp_path: Path, workspace: str, data_dir: str, relation: str
) -> None:
    """Lists and databases never land among the partners' extracts: both keys are named."""
    cfg = write_config(tmp_path / "c.yaml", {"workspace": workspace, "data_dir": data_dir})
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    text = str(err.value)
    assert relation in text and "Key: workspace, data_dir." in text
    assert "`workspace`" in text and "`data_dir`" in text and str(cfg) in text


def test_the_same_folder_from_the_environment_is_named_as_such(tmp_path: Path) -> None:
    """When ENNAKKO_DATA_DIR makes the overlap, the message says where each value came from."""
    cfg = write_config(tmp_path / "c.yaml", {"workspace": "ws"})
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={"ENNAKKO_DATA_DIR": str(tmp_path / "ws")})
    assert "set in environment variable ENNAKKO_DATA_DIR" in str(err.value)


def test_extracts_under_the_workspace_are_the_one_allowed_overlap(tmp_path: Path) -> None:
    """data_dir at <workspace>/extracts is allowed: retention deletes old extracts there."""
    cfg = write_config(tmp_path / "c.yaml", {"workspace": "ws", "data_dir": "ws/extracts"})
    settings = load_settings(cfg, env={})
    assert settings.data_dir == tmp_path / "ws" / "extracts"
    apart = write_config(tmp_path / "d.yaml", {"workspace": "ws", "data_dir": "wsdata"})
    assert load_settings(apart, env={}).data_dir == tmp_path / "wsdata"  # a prefix is not inside


@pytest.mark.parametrize(
    "team",
    ["itä/koillinen", "../etc", "Itäinen", "010203A123B", "aino@example.org", "a" * 41, "t\x00"],
)
def test_a_team_name_that_could_not_name_a_file_is_refused(tmp_path: Path, team: str) -> None:
    """per_team keys follow the consents' team pattern; the key is named, an identifier hidden."""
    cfg = write_config(tmp_path / "c.yaml", {"outreach": {"capacity": {"per_team": {team: 3}}}})
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    text = str(err.value) + repr(err.value)
    assert "team name" in text and "not allowed" in text
    if team in ("010203A123B", "aino@example.org"):  # named by its key, the value hidden
        assert team not in text and "‹hidden›" in err.value.column
    else:
        assert err.value.column == f"outreach.capacity.per_team.{team}"


def test_a_negative_capacity_is_refused_and_zero_is_an_empty_list(tmp_path: Path) -> None:
    """-1 rows is a mistake named by its key; 0 is a team that gets an empty list tonight."""
    cfg = write_config(
        tmp_path / "c.yaml",
        {"outreach": {"capacity": {"per_team": {"itäinen": 0, "pohjoinen": -1}}}},
    )
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    assert err.value.column == "outreach.capacity.per_team.pohjoinen"
    assert "cannot be negative (got -1)" in str(err.value)
    zero = write_config(
        tmp_path / "d.yaml", {"outreach": {"capacity": {"per_team": {"itäinen": 0}}}}
    )
    assert load_settings(zero, env={}).outreach.capacity.for_team("itäinen") == 0


def test_a_partner_name_or_event_type_that_could_escape_its_folder_is_refused(
    tmp_path: Path,
) -> None:
    """A partner names the folder events/<name> and the quarantine file: no '..' or '/'."""
    partner = {"label": {"fi": "x", "sv": "x", "en": "x"}, "event_types": ["visit"]}
    cfg = write_config(tmp_path / "c.yaml", {"partners": {"../../etc": partner}})
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    assert err.value.column == "partners.../../etc" and "partner name" in str(err.value)
    bad_type = {**partner, "event_types": ["visit", "Visit/Early"]}
    cfg = write_config(tmp_path / "d.yaml", {"partners": {"ohjaamo": bad_type}})
    with pytest.raises(ConfigError, match="event type 'Visit/Early' not allowed"):
        load_settings(cfg, env={})


def test_an_as_of_date_after_tomorrow_is_refused(tmp_path: Path) -> None:
    """The clock's date plus one day is the latest as-of date, from the command line or file."""
    from flows.settings import as_of_or_today, check_as_of

    today = date(2026, 12, 1)
    assert check_as_of(date(2026, 12, 2), today) == date(2026, 12, 2)
    with pytest.raises(ConfigError) as err:
        check_as_of(date(2027, 3, 1), today)
    assert err.value.source == "--as-of" and "90 days after today (2026-12-01)" in str(err.value)
    settings = load_settings(write_config(tmp_path / "c.yaml", {"as_of": "2027-01-01"}), env={})
    with pytest.raises(ConfigError) as err:
        as_of_or_today(settings, None, today)
    assert err.value.source == str(tmp_path / "c.yaml") and err.value.column == "as_of"
    assert as_of_or_today(settings, date(2025, 12, 1), today) == date(2025, 12, 1)
    assert as_of_or_today(settings.model_copy(update={"as_of": None}), None, today) == today
