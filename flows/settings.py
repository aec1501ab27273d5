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

Reading the files themselves (size and YAML limits, secrets kept out of files, the
``extends:`` chain) is :mod:`flows.config_file`'s job; this module types the result. A
value outside its allowed set (``area_level``, ``timezone``, an executor ``kind``) is
refused at load time naming the file, the key and what is allowed. Names
that become file names (partners, teams in ``outreach.capacity.per_team``) must match a
strict pattern, the workspace and the partners' drop folder must be apart, and an as-of
date may not lie in the future (:func:`check_as_of`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator

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
from flows.config_file import (
    ENV_OVERRIDES,
    PATH_KEYS,
    ConfigError,
    read_chain,
    set_key,
)
from flows.logs import LogSpec
from models.spec import ModelSpec
from outreach.spec import OutreachSpec


class SourcesSpec(Spec):
    consents: ReadSpec = ReadSpec(on_error="fail")
    contacts: ReadSpec = ReadSpec(on_error="fail")
    outcomes: ReadSpec = ReadSpec(on_error="quarantine")
    services: ReadSpec = ReadSpec(on_error="quarantine")
    # Optional (the portal's "contact me"): an absent file means no requests.
    contact_requests: ReadSpec = ReadSpec(on_error="fail")


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
    logs: int = Field(30, ge=1, description="Rotated application log files.")


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
    logs: LogSpec = LogSpec()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        """A mistyped zone is refused here, not by the clock in the middle of a run."""
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a known IANA time zone, such as Europe/Helsinki") from None
        return name

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


# data_dir may lie here, inside the workspace: retention then deletes old extracts.
EXTRACTS = "extracts"
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
    data, origin = read_chain(path, seen=())
    env = os.environ if env is None else env
    for name, keys in ENV_OVERRIDES.items():
        if env.get(name):
            value: Any = env[name]
            if keys in PATH_KEYS:
                value = str(Path(value).resolve())
            set_key(data, keys, value)
            origin[keys] = f"environment variable {name}"
    for dotted, value in (overrides or {}).items():
        keys = tuple(dotted.split("."))
        set_key(data, keys, value)
        origin[keys] = "the command line"
    data["config_path"] = str(path)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, path, origin) from None
    _check_names(settings, path, origin)
    _check_folders(settings, path, origin)
    return settings


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
            words = err["msg"].removeprefix("Value error, ")  # our validators' own words
            text = f"`{dotted}`: {words} (got {err.get('input')!r})"
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
