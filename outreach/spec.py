"""Typed parameters of list assembly, built once by the flows from the configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from features.spec import Spec


class CapacitySpec(Spec):
    default: int = Field(25, ge=0, description="Rows per team when the team is not listed.")
    per_team: dict[str, int] = Field(default_factory=dict)
    period: Literal["run", "week"] = "run"
    runs_per_week: int = Field(5, ge=1, description="With period=week: runs sharing capacity.")

    def for_team(self, team: str) -> int:
        """Rows the team gets on one list."""
        weekly_or_run = self.per_team.get(team, self.default)
        if self.period == "run":
            return weekly_or_run
        return -(-weekly_or_run // self.runs_per_week)


class BandSpec(Spec):
    """Calibrated-probability thresholds of the risk bands."""

    high: float = Field(0.5, gt=0, lt=1)
    medium: float = Field(0.25, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> BandSpec:
        if self.medium >= self.high:
            raise ValueError("bands.medium must be below bands.high")
        return self


class FlagSpec(Spec):
    score_change: float = Field(0.15, gt=0, description="Probability change that is 'large'.")
    near_cutoff: int = Field(3, ge=0, description="Rows either side of the capacity cut-off.")


Language = Literal["fi", "sv", "en"]


class OutreachSpec(Spec):
    capacity: CapacitySpec = CapacitySpec()
    language: Language = Field("fi", description="Language of a team's list workbook.")
    team_language: dict[str, Language] = Field(
        default_factory=dict, description="Per team: the workbook's language, if not language."
    )
    cooldown_days: int = Field(30, ge=0)
    decline_days: int = Field(180, ge=0)
    bands: BandSpec = BandSpec()
    flags: FlagSpec = FlagSpec()
    holdout_share: float = Field(
        0.0, ge=0, lt=0.5, description="Share of the capacity margin held out at random."
    )
    holdout_margin: int = Field(10, ge=1, description="Rows either side of the cut-off drawn.")
    holdout_days: int = Field(90, ge=1, description="Days a held-out person stays off lists.")
    holdout_informative_halfwidth: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Hold-out effect's 95 % interval half-width (a share) at or below which "
        "an interval including zero is informative (docs/holdout-analysis-plan.md).",
    )
    drift_psi_alert: float = Field(0.25, gt=0)
    max_stale_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of listed persons flagged stale_data above which a run stops.",
    )

    def language_for(self, team: str) -> str:
        """The language a team's counsellors read their workbook in."""
        return self.team_language.get(team, self.language)
