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
