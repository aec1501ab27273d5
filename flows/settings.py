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

A configuration is trusted no further than it must be: a file over 1 MB, a YAML alias
(``*name``: a few nested ones expand to billions of nodes, the "billion laughs") and
nesting deeper than a configuration needs are refused before anything is built. Names
that become file names (partners, teams in ``outreach.capacity.per_team``) must match a
strict pattern, the workspace and the partners' drop folder must be apart, and an as-of
date may not lie in the future (:func:`check_as_of`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError

from features.errors import SourceError
from features.names import NAME, NAME_RULE, TEAM, TEAM_RULE
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


class ReviewsSpec(Spec):
    """How `ennakko reviews import` treats a returned list with mistakes in some rows."""

    keep_good_rows: bool = Field(
        False, description="Store the rows without errors and report the others (else none)."
    )


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
    reviews: ReviewsSpec = ReviewsSpec()
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


MAX_CONFIG_BYTES = 1024 * 1024
MAX_CONFIG_DEPTH = 50
# data_dir may lie here, inside the workspace: retention then deletes old extracts.
EXTRACTS = "extracts"
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
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, path, origin) from None
    _check_names(settings, path, origin)
    _check_folders(settings, path, origin)
    return settings


class _Refused(yaml.YAMLError):
    """A YAML construct a configuration may not use: an alias, or nesting too deep."""

    def __init__(self, what: str, mark: Any) -> None:
        super().__init__(what)
        self.what, self.mark = what, mark


class _ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases and without deep nesting.

    An alias (``*name``) repeats a node; nine nested ones of ten make a billion nodes,
    which took 70 s and 3 GB before PyYAML gave up. Ennakko's settings need neither.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(f"*{event.anchor}", event.start_mark)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_CONFIG_DEPTH:
                raise _Refused("", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _load_yaml(path: Path) -> Any:
    """The YAML document of ``path``, or one ConfigError naming the file and the line."""
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            str(path),
            f"is {size:,} bytes, above the {MAX_CONFIG_BYTES:,} bytes (1 MB) a configuration "
            "may have, so it was not read.",
            hint="Is this the right file? configs/default.yaml, every setting documented, is "
            "about 12 kB.",
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path), f"is not UTF-8 text (byte {exc.start:,} cannot be decoded)."
        ) from None
    try:
        return yaml.load(text, Loader=_ConfigLoader)  # a SafeLoader, stricter still
    except _Refused as exc:
        where = f"line {exc.mark.line + 1}, column {exc.mark.column + 1}"
        if not exc.what:
            raise ConfigError(
                str(path),
                f"nests deeper than {MAX_CONFIG_DEPTH} levels at {where}, which no setting "
                "needs; the file was not read.",
            ) from None
        raise ConfigError(
            str(path),
            f"uses the YAML alias {exc.what} at {where}: aliases are not allowed in a "
            "configuration (a few nested ones can expand to billions of values).",
            hint="Write the values out, or use `extends:` to share settings between files.",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(str(path), f"is not valid YAML{where}: {exc}.") from None


def _check_names(settings: Settings, path: Path, origin: Mapping[tuple[str, ...], str]) -> None:
    """Names that become file names or feature names match a strict pattern; capacities ≥ 0."""
    for team, rows in settings.outreach.capacity.per_team.items():
        keys = ("outreach", "capacity", "per_team", team)
        if not re.fullmatch(TEAM, team):
            raise _key_error(
                keys,
                f"team name {team!r} not allowed: {TEAM_RULE} (as in the consents' team "
                "column, which is read in lower case).",
                path,
                origin,
            )
        if rows < 0:
            raise _key_error(
                keys,
                f"a team's capacity cannot be negative (got {rows}); 0 gives the team an "
                "empty list.",
                path,
                origin,
            )
    for partner, spec in settings.partners.items():
        if not re.fullmatch(NAME, partner):
            raise _key_error(
                ("partners", partner),
                f"partner name {partner!r} not allowed: {NAME_RULE} (it names the folder "
                "events/<name> and the partner's features).",
                path,
                origin,
            )
        for event_type in spec.event_types:
            if not re.fullmatch(NAME, event_type):
                raise _key_error(
                    ("partners", partner, "event_types"),
                    f"event type {event_type!r} not allowed: {NAME_RULE} (it names features).",
                    path,
                    origin,
                )


def _check_folders(settings: Settings, path: Path, origin: Mapping[tuple[str, ...], str]) -> None:
    """The workspace and the partners' drop folder apart, neither inside the other.

    Lists, databases and the audit log must not land where partners drop (and may read)
    extracts, and retention must not delete extracts it does not own. The one exception
    is ``data_dir`` under ``<workspace>/extracts``, where retention deletes old extracts.
    """
    workspace, data_dir = settings.workspace.resolve(), settings.data_dir.resolve()
    if data_dir.is_relative_to(workspace / EXTRACTS):
        return
    if workspace == data_dir:
        relation = "are the same folder"
    elif workspace.is_relative_to(data_dir):
        relation = "overlap: the workspace lies inside the data folder"
    elif data_dir.is_relative_to(workspace):
        relation = "overlap: the data folder lies inside the workspace"
    else:
        return
    where = {k: _origin_of((k,), origin) or str(path) for k in ("workspace", "data_dir")}
    raise ConfigError(
        where["workspace"],
        f"`workspace` ({workspace}, set in {where['workspace']}) and `data_dir` ({data_dir}, "
        f"set in {where['data_dir']}) {relation}; lists, databases and the audit log would "
        "mix with the partners' extracts.",
        column="workspace, data_dir",
        hint=f"Give each its own folder (data_dir may be {workspace / EXTRACTS}, where "
        "retention deletes old extracts).",
    )


def _key_error(
    keys: tuple[str, ...], message: str, path: Path, origin: Mapping[tuple[str, ...], str]
) -> ConfigError:
    return ConfigError(
        _origin_of(keys, origin) or str(path),
        f"invalid configuration: `{'.'.join(keys)}`: {message}",
        column=".".join(keys),
        hint="configs/default.yaml documents every key.",
    )


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
    raw = _load_yaml(path) or {}
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
    """The as-of date of a run: command line, then configuration, then today.

    Raises
    ------
    ConfigError
        When the date is more than a day after ``today`` (see :func:`check_as_of`).
    """
    if as_of is not None:
        return check_as_of(as_of, today, "--as-of")
    if settings.as_of is not None:
        return check_as_of(settings.as_of, today, str(settings.config_path))
    return today


def check_as_of(as_of: date, today: date, source: str = "--as-of") -> date:
    """``as_of``, unless it lies more than one day after ``today`` (the clock's date).

    A future as-of date moves the extract date that data contracts check against, so rows
    dated in the future would pass, and lists would be published for a day that has not
    come. One day of slack covers a run just before midnight in another time zone.
    ``source`` is where the date came from: ``--as-of`` or the configuration file.
    """
    if as_of <= today + timedelta(days=1):
        return as_of
    raise ConfigError(
        source,
        f"the as-of date {as_of.isoformat()} is {(as_of - today).days} days after today "
        f"({today.isoformat()}): lists cannot be made for a day that has not come.",
        column=None if source == "--as-of" else "as_of",
        hint="Give today's date or an earlier one (YYYY-MM-DD), or leave --as-of and "
        "`as_of` out to use today.",
    )
