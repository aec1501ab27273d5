"""Later registrations of hold-out draws with a known, planted effect of contact.

The synthetic city contacts nobody: its registrations come from the generating process
(synth.process) alone, so its files stay the same whatever ``CitySpec.contact_effect``
says. To check that the hold-out's analysis (outreach.effect) finds an effect that is
there, and says "not informative yet" when there is none to find, this module writes
outcomes for given draws from potential outcomes:

* without contact a person registers within the horizon with their listed risk
  (``probability``, the model's estimate near the cut-off);
* a contacted person (here: listed, i.e. given a place; the held-out never are) registers
  with that probability minus ``effect`` (floored at 0, which shrinks the effect for
  persons at lower risk than it: keep the effect below the margin's risks);
* one uniform draw per person decides both, so the planted effect is exactly the
  difference between a person's two potential outcomes.

Randomness comes from its own Generator seeded with the city's seed and a fixed tag, so
calling it never moves the city's own random stream.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from synth.city import CitySpec

STREAM = 0x_C0_47AC7  # a separate stream: the city's own draws are untouched


def planted_outcomes(
    draws: pl.DataFrame, effect: float, seed: int, horizon_days: int
) -> pl.DataFrame:
    """Outcomes (person_id, registered_at) for ``draws`` (person_id, as_of, probability,
    listed), contacted = listed, with ``effect`` taken off a contacted person's risk.

    A registering person registers on a day drawn within ``(as_of, as_of + horizon]``.
    """
    rng = np.random.default_rng([seed, STREAM])
    n = draws.height
    u = rng.random(n)
    day = rng.integers(1, horizon_days + 1, size=n)
    risk = draws["probability"].to_numpy() - effect * draws["listed"].to_numpy()
    registers = u < np.clip(risk, 0.0, 1.0)
    offsets = pl.Series("offset", day, dtype=pl.Int64)
    return (
        draws.select("person_id", "as_of")
        .with_columns(offset=offsets, registers=pl.Series(registers))
        .filter(pl.col("registers"))
        .select(
            "person_id",
            registered_at=pl.col("as_of") + pl.duration(days=pl.col("offset")),
        )
        .with_columns(pl.col("registered_at").cast(pl.Date))
    )


def city_outcomes(spec: CitySpec, draws: pl.DataFrame, horizon_days: int) -> pl.DataFrame:
    """:func:`planted_outcomes` with the city's ``contact_effect`` and seed."""
    return planted_outcomes(draws, spec.contact_effect, spec.seed, horizon_days)


def margin_draws(
    n: int, seed: int, as_of_first, days: int = 60, held_share: float = 0.5
) -> pl.DataFrame:
    """``n`` persons drawn at a capacity margin over ``days`` nights from ``as_of_first``:
    risks of 0.35-0.65, ``held_share`` held out, the not-held-out listed when ranked
    above the cut-off (about half of them). For tests and demonstrations."""
    rng = np.random.default_rng([seed, STREAM, 1])
    held = rng.random(n) < held_share
    above_cutoff = rng.random(n) < 0.5
    return pl.DataFrame(
        {
            "person_id": [f"P{seed:04d}{i:07d}" for i in range(n)],
            "as_of": [as_of_first + timedelta(days=int(d)) for d in rng.integers(0, days, n)],
            "team": "T1",
            "rank": rng.integers(1, 21, size=n),
            "probability": rng.uniform(0.35, 0.65, size=n),
            "held_out": held,
            "listed": ~held & above_cutoff,
        }
    )
