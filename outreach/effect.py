"""Does contact help? The hold-out's effect on later registration, with its uncertainty.

The hold-out (``outreach.holdout_share``) draws at random among the persons ranked near a
team's capacity cut-off; the held-out stay off the lists. The two arms differ only by
chance and by being eligible for a place, so the difference in their later registration
is an unbiased estimate of what that eligibility does (intention to treat, ITT). Not every
not-held-out person gets a place (the margin reaches below the cut-off), so the ITT
divided by the difference in listed share (Wald / instrumental variable) estimates what a
place itself does. The plan fixing all this before outcomes existed is
``docs/holdout-analysis-plan.md``; its hash is in the audit log (``holdout.plan``).

Sign: an effect is ``share(held out) - share(not held out)``, positive when contact
*reduces* later registration as unemployed (the hoped-for direction).

Pure: frames and numbers in, numbers and words out; no clock, no file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
from scipy.stats import binomtest, norm

from outreach.cells import publishable

ALPHA = 0.05  # two-sided, as the plan fixes it
POWER = 0.80
MIN_LISTED_GAP = 0.05  # below this difference in listed share a place's effect is not estimated

# The CONSORT-style flow of the draws: (parent, children); every parent is the sum.
FLOW_STEPS = (
    ("eligible at the margin", ("held out", "not held out")),
    ("held out", ("held out: horizon passed", "held out: horizon not passed")),
    ("not held out", ("not held out: horizon passed", "not held out: horizon not passed")),
    (
        "held out: horizon passed",
        ("held out: outcome known", "held out: outcomes extract ends too early"),
    ),
    (
        "not held out: horizon passed",
        ("not held out: outcome known", "not held out: outcomes extract ends too early"),
    ),
)


@dataclass(frozen=True)
class Interval:
    """A point estimate with its two-sided ``1 - ALPHA`` confidence interval (shares)."""

    estimate: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class Effect:
    """The hold-out's result over persons whose outcome is known.

    ``itt`` and ``place`` are None when they may not be published (an arm or its
    registrations under the minimum cell) or cannot be estimated; ``mde`` is the ITT a
    two-sided test at ``ALPHA`` would detect with ``POWER`` at this sample and base rate.
    """

    n_held: int
    n_not: int
    registered_held: int
    registered_not: int
    listed_held: float
    listed_not: float
    itt: Interval | None
    place: Interval | None
    mde: float | None
    informative: bool
    min_cell: int
    max_half_width: float


def outcome_rows(
    draws: pl.DataFrame,
    outcomes: pl.DataFrame,
    horizon_days: int,
    observed_until: date,
    outcomes_until: date | None = None,
) -> pl.DataFrame:
    """Every drawn person once (their first draw) with ``horizon_passed``, ``known`` and
    ``registered`` (within ``(as_of, as_of + horizon]``).

    The horizon has passed when ``as_of + horizon < observed_until``; the outcome is known
    when it has passed and the outcomes extract reaches its end (``outcomes_until``, the
    extract's last day; None: it reaches every passed horizon).
    """
    horizon = pl.duration(days=horizon_days)
    first = draws.sort("as_of").unique("person_id", keep="first", maintain_order=True)
    ends = pl.col("as_of") + horizon
    covered = pl.lit(True) if outcomes_until is None else ends <= pl.lit(outcomes_until)
    rows = first.select(
        "person_id", "as_of", "held_out", "listed", horizon_passed=ends < pl.lit(observed_until)
    ).with_columns(known=pl.col("horizon_passed") & covered)
    hits = (
        rows.join(outcomes.select("person_id", "registered_at"), on="person_id")
        .filter((pl.col("registered_at") > pl.col("as_of")) & (pl.col("registered_at") <= ends))
        .select("person_id")
        .unique()
        .with_columns(registered=pl.lit(True))
    )
    return rows.join(hits, on="person_id", how="left").with_columns(
        pl.col("registered").fill_null(False) & pl.col("known")
    )


def newcombe(k1: int, n1: int, k2: int, n2: int, alpha: float = ALPHA) -> Interval:
    """``k1/n1 - k2/n2`` with Newcombe's hybrid score interval (from the two Wilson
    intervals, scipy's): it stays inside [-1, 1] and holds its level at small n."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = binomtest(k1, n1).proportion_ci(1 - alpha, method="wilson")
    l2, u2 = binomtest(k2, n2).proportion_ci(1 - alpha, method="wilson")
    d = p1 - p2
    return Interval(d, d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2))


def wald(rows: pl.DataFrame, itt: float, alpha: float = ALPHA) -> Interval | None:
    """A place's effect: the ITT over the difference in listed share, its interval by the
    delta method (the covariance of registering and being listed within each arm counts).
    None when the listed shares differ by less than ``MIN_LISTED_GAP``."""
    arms = [rows.filter(pl.col("held_out") == h) for h in (True, False)]
    y = [a["registered"].cast(pl.Float64).to_numpy() for a in arms]
    d = [a["listed"].cast(pl.Float64).to_numpy() for a in arms]
    gap = float(d[1].mean() - d[0].mean())
    if gap < MIN_LISTED_GAP or min(len(a) for a in y) < 2:
        return None
    ratio = itt / gap
    var_itt = sum(np.var(v, ddof=1) / len(v) for v in y)
    var_gap = sum(np.var(v, ddof=1) / len(v) for v in d)
    cov = -sum(np.cov(yy, dd, ddof=1)[0, 1] / len(yy) for yy, dd in zip(y, d, strict=True))
    var = (var_itt - 2 * ratio * cov + ratio**2 * var_gap) / gap**2
    z = norm.ppf(1 - alpha / 2)
    half = z * math.sqrt(max(var, 0.0))
    return Interval(ratio, ratio - half, ratio + half)


def minimum_detectable(
    n1: int, n2: int, base_rate: float, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """The smallest ITT a two-sided test at ``alpha`` detects with ``power``:
    ``(z(1 - alpha/2) + z(power)) * sqrt(p (1 - p) (1/n1 + 1/n2))``, p the base rate."""
    if n1 < 1 or n2 < 1:
        return None
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return float(z * math.sqrt(base_rate * (1 - base_rate) * (1 / n1 + 1 / n2)))


def estimate(
    rows: pl.DataFrame, min_cell: int, max_half_width: float, publish: bool = True
) -> Effect:
    """The effect over the rows whose outcome is known (see :func:`outcome_rows`).

    Informative only when both arms and their registrations may be published (and
    ``publish``: the flow shows both arms' known counts) and the ITT interval excludes
    zero or is narrower than ``max_half_width`` either side.
    """
    known = rows.filter(pl.col("known"))
    held, not_held = (known.filter(pl.col("held_out") == h) for h in (True, False))
    nh, nn = held.height, not_held.height
    kh, kn = int(held["registered"].sum()), int(not_held["registered"].sum())
    listed = [float(a["listed"].mean()) if a.height else 0.0 for a in (held, not_held)]
    # The base rate, one success and one failure added so a small sample's 0 or 1 does
    # not claim any effect would be seen.
    mde = minimum_detectable(nh, nn, (kh + kn + 1) / (nh + nn + 2))
    shown = publish and all(
        n >= min_cell and publishable(k, min_cell) and publishable(n - k, min_cell)
        for n, k in ((nh, kh), (nn, kn))
    )
    itt = newcombe(kh, nh, kn, nn) if shown else None
    place = wald(known, itt.estimate) if itt is not None else None
    informative = itt is not None and (itt.excludes_zero() or itt.half_width <= max_half_width)
    return Effect(nh, nn, kh, kn, *listed, itt, place, mde, informative, min_cell, max_half_width)


def flow_counts(rows: pl.DataFrame) -> dict[str, int]:
    """The CONSORT counts of :data:`FLOW_STEPS` from :func:`outcome_rows`' frame."""
    out = {"eligible at the margin": rows.height}
    for held, arm in ((True, "held out"), (False, "not held out")):
        part = rows.filter(pl.col("held_out") == held)
        passed = int(part["horizon_passed"].sum())
        known = int(part["known"].sum())
        out[arm] = part.height
        out[f"{arm}: horizon passed"] = passed
        out[f"{arm}: horizon not passed"] = part.height - passed
        out[f"{arm}: outcome known"] = known
        out[f"{arm}: outcomes extract ends too early"] = passed - known
    return out


def suppress_flow(
    values: dict[str, int],
    steps: tuple[tuple[str, tuple[str, ...]], ...],
    min_cell: int,
    protect: frozenset[str] = frozenset(),
) -> dict[str, int | None]:
    """Small counts hidden (None), and with them enough others that no hidden count can be
    recomputed by subtraction: every step (parent = sum of children) with exactly one
    hidden cell hides one more, until none has: a cell not in ``protect`` before one in
    it, a child before the parent, the smallest first.
    """
    hidden = {k for k, v in values.items() if not publishable(v, min_cell)}
    changed = True
    while changed:
        changed = False
        for parent, children in steps:
            cells = (parent, *children)
            if sum(c in hidden for c in cells) != 1:
                continue
            shown = sorted(
                (c in protect, c == parent, values[c], c) for c in cells if c not in hidden
            )
            hidden.add(shown[0][3])
            changed = True
    return {k: None if k in hidden else v for k, v in values.items()}


KNOWN = ("held out: outcome known", "not held out: outcome known")


def analyse(
    rows: pl.DataFrame, min_cell: int, max_half_width: float
) -> tuple[pl.DataFrame, Effect]:
    """The flow table and the effect, published together: the known counts the estimate
    rests on are kept out of complementary suppression where another cell can go, and
    the estimate is withheld when the flow had to hide one of them."""
    shown = suppress_flow(flow_counts(rows), FLOW_STEPS, min_cell, frozenset(KNOWN))
    publish = all(shown[k] is not None for k in KNOWN)
    return flow_table(shown), estimate(rows, min_cell, max_half_width, publish)


def flow_table(shown: dict[str, int | None]) -> pl.DataFrame:
    """The suppressed flow as a (step, persons) table (null: suppressed)."""
    return pl.DataFrame(
        {"step": list(shown), "persons": list(shown.values())},
        schema={"step": pl.String, "persons": pl.Int64},
    )


def _pts(share: float) -> str:
    """A share as signed percentage points, one decimal."""
    return f"{100 * share:+.1f}"


WORDS = {
    "en": {
        "none": "No hold-out draw has reached its horizon with a known outcome yet: there "
        "is nothing to estimate.",
        "few": "Not informative yet: fewer than {min_cell} persons (or registrations) in "
        "an arm, too few to publish an estimate.",
        "wide": "Not informative yet: {nh} held-out and {nn} not-held-out persons have a "
        "known outcome. The 95 % interval of the effect, {lo} to {hi} percentage points, "
        "includes zero and is too wide to rule out an effect: the data cannot yet tell "
        "whether contact helps. At this sample only an effect of at least {mde} points "
        "would be detected (80 % power).",
        "effect": "Informative: held-out persons registered {est} percentage points {more} "
        "often than the not-held-out (95 % interval {lo} to {hi}): eligibility for a place "
        "{direction} later registration.",
        "null": "Informative: no effect larger than {bound} percentage points either way "
        "(95 % interval {lo} to {hi}).",
        "lowers": "lowers",
        "raises": "raises",
        "more": "more",
        "less": "less",
    },
    "fi": {
        "none": "Yksikään pidätysarvonnan (hold-out) arvonta ei ole vielä ohittanut "
        "seuranta-aikaansa niin, että tulos tunnettaisiin: arvioitavaa ei vielä ole.",
        "few": "Ei vielä informatiivinen: jommassakummassa ryhmässä on alle {min_cell} "
        "henkilöä (tai rekisteröitymistä), liian vähän arvion julkaisemiseen.",
        "wide": "Ei vielä informatiivinen: tulos tunnetaan {nh} pidätetyltä ja {nn} ei-"
        "pidätetyltä henkilöltä. Vaikutuksen 95 %:n luottamusväli, {lo}–{hi} "
        "prosenttiyksikköä, sisältää nollan ja on liian leveä: aineistosta ei vielä voi "
        "päätellä, auttaako yhteydenotto. Tällä otoksella havaittaisiin vain vähintään "
        "{mde} prosenttiyksikön vaikutus (80 %:n voima).",
        "effect": "Informatiivinen: pidätetyt rekisteröityivät {est} prosenttiyksikköä "
        "{more} kuin ei-pidätetyt (95 %:n luottamusväli {lo}–{hi}): oikeus "
        "listapaikkaan {direction} myöhempää rekisteröitymistä.",
        "null": "Informatiivinen: vaikutus on enintään {bound} prosenttiyksikköä "
        "suuntaan tai toiseen (95 %:n luottamusväli {lo}–{hi}).",
        "lowers": "vähentää",
        "raises": "lisää",
        "more": "useammin",
        "less": "harvemmin",
    },
    "sv": {
        "none": "Ingen lottning i kontrollgruppen (hold-out) har ännu nått sin "
        "uppföljningstid med känt utfall: det finns inget att skatta.",
        "few": "Inte informativt ännu: färre än {min_cell} personer (eller registreringar) "
        "i en grupp, för få för att publicera en skattning.",
        "wide": "Inte informativt ännu: utfallet är känt för {nh} personer i "
        "kontrollgruppen och {nn} andra. Effektens 95 % konfidensintervall, {lo} till {hi} "
        "procentenheter, innehåller noll och är för brett: data kan ännu inte visa om "
        "kontakten hjälper. Med detta urval upptäcks bara en effekt på minst {mde} "
        "procentenheter (80 % styrka).",
        "effect": "Informativt: kontrollgruppen registrerade sig {est} procentenheter "
        "{more} än de andra (95 % konfidensintervall {lo} till {hi}): rätten till en plats "
        "på listan {direction} senare registrering.",
        "null": "Informativt: ingen effekt större än {bound} procentenheter åt något håll "
        "(95 % konfidensintervall {lo} till {hi}).",
        "lowers": "minskar",
        "raises": "ökar",
        "more": "oftare",
        "less": "mer sällan",
    },
}


def verdict(effect: Effect | None, lang: str = "en") -> str:
    """The result in plain words: 'not informative yet' and why, or what it shows."""
    w = WORDS[lang]
    if effect is None or effect.n_held + effect.n_not == 0:
        return w["none"]
    itt = effect.itt
    if itt is None:
        return w["few"].format(min_cell=effect.min_cell)
    bounds = {"lo": _pts(itt.low), "hi": _pts(itt.high)}
    if not effect.informative:
        mde = f"{100 * effect.mde:.1f}" if effect.mde is not None else "?"
        return w["wide"].format(nh=effect.n_held, nn=effect.n_not, mde=mde, **bounds)
    if itt.excludes_zero():
        helps = itt.estimate > 0
        return w["effect"].format(
            est=f"{100 * abs(itt.estimate):.1f}",
            more=w["more"] if helps else w["less"],
            direction=w["lowers"] if helps else w["raises"],
            **bounds,
        )
    bound = f"{100 * max(abs(itt.low), abs(itt.high)):.1f}"
    return w["null"].format(bound=bound, **bounds)


@dataclass(frozen=True)
class Plan:
    """The analysis plan's SHA-256 as recorded in the audit log and as the file is now."""

    recorded: str | None
    current: str | None

    @property
    def pre_registered(self) -> bool:
        """Only when a hash was recorded and the plan file still has it."""
        return self.recorded is not None and self.recorded == self.current


def effect_table(effect: Effect, plan: Plan) -> pl.DataFrame:
    """The estimate as (measure, value) rows of text, for the report and MLflow."""

    def interval(i: Interval | None) -> str:
        if i is None:
            return ""
        return f"{_pts(i.estimate)} ({_pts(i.low)} to {_pts(i.high)})"

    status = (
        "pre-registered"
        if plan.pre_registered
        else "NOT pre-registered: no plan hash recorded"
        if plan.recorded is None
        else "NOT pre-registered: the plan file changed since its hash was recorded"
    )
    listed_n = round(effect.listed_not * effect.n_not)
    listed = (
        f"{effect.listed_not:.3f}"
        if effect.itt
        and publishable(listed_n, effect.min_cell)
        and publishable(effect.n_not - listed_n, effect.min_cell)
        else ""
    )
    rows = {
        "listed share, not held out": listed,
        "effect of eligibility (ITT), points, 95 % CI": interval(effect.itt),
        "effect of a place (Wald), points, 95 % CI": interval(effect.place),
        "minimum detectable effect (ITT, 80 % power), points": (
            f"{100 * effect.mde:.1f}" if effect.mde is not None and effect.itt else ""
        ),
        "informative": "yes" if effect.informative else "not informative yet",
        "analysis plan": status,
        "plan sha256 recorded": plan.recorded or "",
        "plan sha256 now": plan.current or "",
        **{f"verdict ({lang})": verdict(effect, lang) for lang in WORDS},
    }
    return pl.DataFrame({"measure": list(rows), "value": list(rows.values())})
