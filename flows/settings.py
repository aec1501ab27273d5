"""One typed settings object, read once at the entry point.

A configuration file may name a base with ``extends:`` (``demo.yaml`` extends
``default.yaml``); the files are merged key by key. Relative paths resolve against the
directory of the file that sets them. Environment variables override paths and secrets:

=========================  =================================================
``ENNAKKO_WORKSPACE``      workspace folder
``ENNAKKO_DATA_DIR``       folder where source extracts arrive
``ENNAKKO_MLFLOW_URI``     MLflow tracking URI (default: SQLite in workspace)
``ENNAKKO_PSEUDONYM_KEY``  key of the second pseudonym layer (HMAC)
``ENNAKKO_AUDIT_KEY``      key that hashes erased identifiers in the audit log
=========================  =================================================
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError

from features.errors import SourceError
from features.spec import (
    ConsentPolicy,
    FeatureSpec,
    FoldSpec,
    IndicatorSpec,
    LabelSpec,
    PartnerSpec,
    ReadSpec,
    Spec,
)
from models.spec import ModelSpec
from outreach.spec import OutreachSpec


@dataclass
class ConfigError(SourceError):
    """A configuration file Ennakko cannot use (its offending part is a key, not a column)."""

    label: str = "Key"


class SourcesSpec(Spec):
    consents: ReadSpec = ReadSpec(on_error="fail")
    contacts: ReadSpec = ReadSpec(on_error="fail")
    outcomes: ReadSpec = ReadSpec(on_error="quarantine")
    services: ReadSpec = ReadSpec(on_error="quarantine")


class PrivacySpec(Spec):
    min_cell_size: int = Field(10, ge=1)
    dir_mode: str = Field("0700", pattern=r"^0[0-7]{3}$")
    file_mode: str = Field("0600", pattern=r"^0[0-7]{3}$")
    controller: str = "City of Helsinki, Employment Services"
    recipients: tuple[str, ...] = ("Employment-service counsellors of the listed teams",)
    pseudonym_key: SecretStr | None = None
    audit_key: SecretStr | None = None


class RetentionSpec(Spec):
    """Days each derived store is kept; see `ennakko retention`."""

    lists: int = Field(90, ge=1)
    features: int = Field(30, ge=1)
    scores: int = Field(30, ge=1)
    quarantine: int = Field(30, ge=1)
    extracts: int = Field(30, ge=1)
    snapshots: int = Field(400, ge=1)
    reviews: int = Field(730, ge=1)


class MlflowSpec(Spec):
    tracking_uri: str | None = None
    experiment: str = "ennakko"


class PrefectSpec(Spec):
    api_url: str | None = None


class ExecutorSpec(Spec):
    kind: Literal["local", "dask"] = "local"
    address: str | None = None
    n_workers: int = Field(2, ge=1)
    partitions: int = Field(8, ge=1, description="Area partitions of the nightly run on Dask.")
    processes: bool = Field(False, description="Local cluster: worker processes (else threads).")


class Settings(Spec):
    """Everything a run needs, validated once."""

    config_path: Path
    workspace: Path
    data_dir: Path
    truth_path: Path | None = None
    area_name: str = "Helsinki"
    as_of: date | None = None
    timezone: str = "Europe/Helsinki"
    lock_wait_seconds: float = Field(
        900, ge=0, description="How long a command waits for another to release the workspace."
    )
    sources: SourcesSpec = SourcesSpec()
    partners: dict[str, PartnerSpec]
    indicators: IndicatorSpec = IndicatorSpec()
    consent: ConsentPolicy = ConsentPolicy()
    features: FeatureSpec = FeatureSpec()
    labels: LabelSpec = LabelSpec()
    folds: FoldSpec = FoldSpec()
    model: ModelSpec = ModelSpec()
    outreach: OutreachSpec = OutreachSpec()
    privacy: PrivacySpec = PrivacySpec()
    retention: RetentionSpec = RetentionSpec()
    mlflow: MlflowSpec = MlflowSpec()
    prefect: PrefectSpec = PrefectSpec()
    executor: ExecutorSpec = ExecutorSpec()

    @property
    def mlflow_uri(self) -> str:
        """Tracking URI: configured, or SQLite inside the workspace."""
        return self.mlflow.tracking_uri or f"sqlite:///{self.workspace / 'mlflow' / 'mlflow.db'}"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.workspace / "mlflow" / "artifacts"

    @property
    def prefect_home(self) -> Path:
        return self.workspace / "prefect"


PATH_KEYS = (("workspace",), ("data_dir",), ("truth_path",))
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "ENNAKKO_WORKSPACE": ("workspace",),
    "ENNAKKO_DATA_DIR": ("data_dir",),
    "ENNAKKO_MLFLOW_URI": ("mlflow", "tracking_uri"),
    "ENNAKKO_PSEUDONYM_KEY": ("privacy", "pseudonym_key"),
    "ENNAKKO_AUDIT_KEY": ("privacy", "audit_key"),
}
SECRET_KEYS = (("privacy", "pseudonym_key"), ("privacy", "audit_key"))
# Service addresses that may carry credentials (scheme://user:password@host).
URI_KEYS = (("mlflow", "tracking_uri"),)
PASSWORD_IN_URI = re.compile(r"://[^/@:\s]*:[^/@\s]+@|[?&](?:password|pwd)=", re.IGNORECASE)
CREDENTIALS_IN_URI = re.compile(r"://[^/@\s]*@")


def shown_uri(uri: str) -> str:
    """``uri`` fit to print: any user and password replaced by ``***``."""
    masked = CREDENTIALS_IN_URI.sub("://***@", uri)
    return re.sub(r"([?&](?:password|pwd)=)[^&]*", r"\1***", masked, flags=re.IGNORECASE)


def load_settings(
    path: Path | str,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read, merge and validate a configuration file.

    Parameters
    ----------
    path
        The YAML file; it may ``extends:`` another one.
    env
        Environment to take overrides from (``os.environ`` when None).
    overrides
        Dotted keys set last, e.g. ``{"as_of": "2025-12-01"}`` from the command line.

    Raises
    ------
    ConfigError
        One message naming the file and the key for a missing file, bad YAML, an
        unknown key, a wrong type, or a secret written into a file.
    """
    path = Path(path).resolve()
    data, origin = _read_chain(path, seen=())
    env = os.environ if env is None else env
    for name, keys in ENV_OVERRIDES.items():
        if env.get(name):
            value: Any = env[name]
            if keys in PATH_KEYS:
                value = str(Path(value).resolve())
            _set(data, keys, value)
            origin[keys] = f"environment variable {name}"
    for dotted, value in (overrides or {}).items():
        keys = tuple(dotted.split("."))
        _set(data, keys, value)
        origin[keys] = "the command line"
    data["config_path"] = str(path)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, path, origin) from None


def _read_chain(
    path: Path, seen: tuple[Path, ...]
) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    if path in seen:
        raise ConfigError(str(path), "the `extends:` chain loops back to this file.")
    if not path.is_file():
        hint = (
            f"It is named by `extends:` in {seen[-1]}; check that line."
            if seen
            else "Check the --config path (or ENNAKKO_CONFIG)."
        )
        raise ConfigError(str(path), "the configuration file does not exist.", hint=hint)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(str(path), f"is not valid YAML{where}: {exc}.") from None
    if not isinstance(raw, dict):
        raise ConfigError(str(path), "must be a mapping of keys to values at the top level.")
    for keys in SECRET_KEYS:
        if _get(raw, keys) is not None:
            raise ConfigError(
                str(path),
                f"`{'.'.join(keys)}` is a secret and may not be written in a file.",
                column=".".join(keys),
                hint=f"Set the environment variable {_env_name(keys)} instead.",
            )
    for keys in URI_KEYS:
        value = _get(raw, keys)
        if isinstance(value, str) and PASSWORD_IN_URI.search(value):
            raise ConfigError(
                str(path),
                f"`{'.'.join(keys)}` holds a password, which may not be written in a file.",
                column=".".join(keys),
                hint=f"Set the environment variable {_env_name(keys)} instead.",
            )
    base_name = raw.pop("extends", None)
    data: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str] = {}
    if base_name:
        data, origin = _read_chain((path.parent / base_name).resolve(), seen=(*seen, path))
    for keys in PATH_KEYS:
        value = _get(raw, keys)
        if isinstance(value, str):
            _set(raw, keys, str((path.parent / value).resolve()))
    _merge(data, raw, origin, str(path), ())
    return data, origin


def _merge(
    into: dict[str, Any],
    new: Mapping[str, Any],
    origin: dict[tuple[str, ...], str],
    source: str,
    prefix: tuple[str, ...],
) -> None:
    for key, value in new.items():
        keys = (*prefix, str(key))
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value, origin, source, keys)
        else:
            into[key] = value
            origin[keys] = source
            if isinstance(value, Mapping):
                for sub in _leaf_keys(value, keys):
                    origin[sub] = source


def _leaf_keys(value: Mapping[str, Any], prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    out = []
    for key, sub in value.items():
        keys = (*prefix, str(key))
        out.append(keys)
        if isinstance(sub, Mapping):
            out.extend(_leaf_keys(sub, keys))
    return out


def _get(data: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(data, Mapping) or key not in data:
            return None
        data = data[key]
    return data


def _set(data: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    for key in keys[:-1]:
        data = data.setdefault(key, {})
    data[keys[-1]] = value


def _env_name(keys: tuple[str, ...]) -> str:
    return next(name for name, k in ENV_OVERRIDES.items() if k == keys)


def _config_error(
    exc: ValidationError, path: Path, origin: Mapping[tuple[str, ...], str]
) -> ConfigError:
    problems = []
    first_file = str(path)
    for i, err in enumerate(exc.errors()):
        keys = tuple(str(p) for p in err["loc"])
        where = _origin_of(keys, origin) or str(path)
        if i == 0:
            first_file = where
        dotted = ".".join(keys)
        if err["type"] == "extra_forbidden":
            text = f"unknown key `{dotted}`"
        elif err["type"] == "missing":
            text = f"missing key `{dotted}`"
        else:
            text = f"`{dotted}`: {err['msg']} (got {err.get('input')!r})"
        problems.append(f"{text} [{where}]" if where != first_file else text)
    return ConfigError(
        first_file,
        "invalid configuration: " + "; ".join(problems) + ".",
        column=".".join(str(p) for p in exc.errors()[0]["loc"]),
        hint="configs/default.yaml documents every key.",
    )


def _origin_of(keys: tuple[str, ...], origin: Mapping[tuple[str, ...], str]) -> str | None:
    for n in range(len(keys), 0, -1):
        if keys[:n] in origin:
            return origin[keys[:n]]
    return None


def as_of_or_today(settings: Settings, as_of: date | None, today: date) -> date:
    """The as-of date of a run: command line, then configuration, then today."""
    return as_of or settings.as_of or today
