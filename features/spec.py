"""Typed parameters of the data layer.

The flows build these from the YAML configuration once, at the entry point; everything in
``features`` takes them as explicit arguments, so it runs and tests without any file,
environment variable or clock.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Spec(BaseModel):
    """Base for every settings block: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadSpec(Spec):
    """How to read one tabular source (a file ``<name>.csv|.parquet`` or a folder of parts)."""

    path: str | None = Field(
        None, description="File or folder relative to data_dir; default: the source name."
    )
    format: Literal["auto", "csv", "parquet"] = "auto"
    encoding: Literal["auto", "utf-8", "windows-1252", "latin-1"] = "auto"
    separator: Literal["auto", ",", ";", "\t", "|"] = "auto"
    decimal: Literal["auto", ".", ","] = "auto"
    date_format: Literal["auto", "iso", "fi"] = "auto"
    on_error: Literal["fail", "quarantine"] = "fail"
    max_bad_share: float = Field(0.01, ge=0.0, le=1.0)
    max_csv_mb: float = Field(
        1024,
        gt=0,
        description="A larger CSV is refused unread (it is decoded whole in memory): "
        "send Parquet or a folder of parts.",
    )


class Labels(Spec):
    """Localised text: Finnish, Swedish and English."""

    fi: str
    sv: str
    en: str


class PartnerSpec(ReadSpec):
    """A row-level partner source under ``events/<name>``, used only with consent."""

    label: Labels
    event_types: tuple[str, ...] = Field(min_length=1)
    value_meaning: dict[str, str] = Field(
        default_factory=dict, description="What `value` holds for each event type."
    )
    max_age_days: int = Field(
        45, ge=1, description="Newest row older than this on the as-of date: stale-data flag."
    )
    dpia: str = Field("", description="Reference of the data-protection impact assessment.")
    on_error: Literal["fail", "quarantine"] = "quarantine"


class ConsentPolicy(Spec):
    """Which consents count (see features.consent)."""

    invalid_notice_versions: tuple[str, ...] = ()
    expiry_warning_days: int = Field(30, ge=0)


# The area levels a person's row joins directly (features.build): by the home postal code,
# or one figure for the whole country. Another level would need an area mapping.
AreaLevel = Literal["postal_code", "country"]


class IndicatorUse(Spec):
    """One area indicator that becomes a feature."""

    indicator: str
    area_level: AreaLevel = "postal_code"
    lag_days: int = Field(
        90, ge=0, description="Days after the period ends before the figure is published."
    )
    name: str | None = Field(None, description="Feature name; default area_<indicator>.")


class IndicatorSpec(Spec):
    files: tuple[str, ...] = ()
    use: tuple[IndicatorUse, ...] = ()


class FeatureSpec(Spec):
    """As-of feature building."""

    windows_days: tuple[int, ...] = (30, 90, 365)
    all_history: bool = True
    trend_windows_days: tuple[int, ...] = (90,)
    decay_days: tuple[int, ...] = Field(
        (60,),
        description="Decayed counts: each row weighs exp(-age / days); recent rows count most.",
    )
    sensitive: tuple[str, ...] = ("gender", "language")
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @field_validator("windows_days", "trend_windows_days", "decay_days")
    @classmethod
    def _sorted_unique(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(w <= 0 for w in v):
            raise ValueError("windows must be positive numbers of days")
        return tuple(sorted(set(v)))


class LabelSpec(Spec):
    horizon_days: int = Field(180, ge=1)


class FoldSpec(Spec):
    """Rolling-origin temporal folds over monthly as-of dates."""

    step_months: int = Field(1, ge=1, description="Spacing of as-of dates.")
    train_months: int = Field(12, ge=1, description="As-of dates of training history per fold.")
    n_folds: int = Field(3, ge=1, description="Number of rolling test origins.")
    test_spacing_months: int = Field(2, ge=1, description="Months between test origins.")
