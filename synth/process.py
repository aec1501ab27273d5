"""The generating process of the synthetic city, month by month, vectorised over persons.

Why a process and not random tables: the pipeline must find a signal that behaves like the
real one (it builds up over months, shows in several partners' data at once, is noisy)
and evaluation must know the best achievable answer. The story, per person:

* A static **baseline** b from the real unemployment rate of the person's postal area
  (Statistics Finland Paavo), service language and gender, plus individual variation.
* A latent **disengagement** z drifting monthly towards b (AR(1), rho = 0.9), with rare
  life-event shocks. Nobody observes z.
* **School** (vocational): the enrolled are absent more as z rises (Poisson, log-linear),
  earn fewer competence points, and interrupt with a probability rising steeply in z;
  graduates leave at 180 points; young people not enrolled may enrol.
* **Work**, unobserved: out of school, employed with a probability falling in z and the
  area rate; out of school and out of work is NEET.
* **Outreach youth work** contacts mostly NEET young people with high z; **Ohjaamo**
  visits rise with z, NEET and ages 18-24.
* **Registration** as an unemployed job seeker (the label) has a monthly hazard
  ``logit h = -6.4 + 1.2 softplus(z - 0.3) + 1.3 NEET + 0.25 u + 0.35 NEET·u
  + 0.9 interrupted_recently + age bump + 0.5 registered_before`` (u: standardised
  area rate). Non-linear in z and age, with a NEET × area interaction. A registration
  makes the person a client of employment services for a few months (no new
  registration meanwhile); when it ends the employment-service history records it.

**Truth**: for the first day D of every month with six observed months after it, the
probability of registering within (D, D + 180 days] given the person's whole situation
on D (latent disengagement, NEET status, recent interruption, area, age, history):
``1 - prod(1 - h)`` over the six months, with the situation frozen at D except work,
whose later months take the process's own expectation. It knows what no data shows (the
latent state, whether the person works) but nothing of the future, so it is the best
any model of the past could reach: the oracle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RHO = 0.95
SIGMA = 0.22
WORK_RESAMPLE = 0.6  # monthly chance that work status is drawn anew
HORIZON_MONTHS = 6

SCHOOL_TYPES = ("enrolled", "absence", "credits", "interrupted", "graduated")
OUTREACH_TYPES = ("contact", "meeting")
OHJAAMO_TYPES = ("visit", "guidance")
EMPLOYMENT_TYPES = ("registration", "activation_start", "activation_end")


@dataclass
class Areas:
    """Postal areas the persons live in, with the real figures that drive risk."""

    codes: np.ndarray  # str, five-digit postal codes
    unemployment_rate: np.ndarray  # percent
    youth: np.ndarray  # inhabitants aged 18-29 (sampling weight)
    team: np.ndarray  # str, the employment-service team serving the area


@dataclass
class EventBuffer:
    """Growing columns of one partner source's events (person index, day, type, value)."""

    person: list[np.ndarray] = field(default_factory=list)
    day: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    value: list[np.ndarray] = field(default_factory=list)

    def add(self, person: np.ndarray, day: np.ndarray, kind: int, value: np.ndarray) -> None:
        if person.size:
            self.person.append(person.astype(np.int32))
            self.day.append(day.astype(np.int32))
            self.kind.append(np.full(person.size, kind, dtype=np.int8))
            self.value.append(value.astype(np.float32))

    def columns(self) -> dict[str, np.ndarray]:
        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

        return {
            "person": cat(self.person, np.int32),
            "day": cat(self.day, np.int32),
            "kind": cat(self.kind, np.int8),
            "value": cat(self.value, np.float32),
        }


@dataclass
class Simulation:
    """Everything the process produced, as arrays indexed by person."""

    area: np.ndarray
    birth_year: np.ndarray
    language: np.ndarray  # 0 fi, 1 sv, 2 en
    gender: np.ndarray  # 0 F, 1 M, 2 X, 3 not given
    events: dict[str, dict[str, np.ndarray]]
    registrations: dict[str, np.ndarray]  # person, day, end_day (-1: ongoing)
    other_services: dict[str, np.ndarray]  # person, day (ongoing rehabilitative work)
    truth: np.ndarray  # (n_persons, n_months) float32, NaN where unobserved
    month_days: np.ndarray  # first day of each month, days since epoch


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _days_in_month(month_days: np.ndarray, end_day: int) -> np.ndarray:
    return np.diff(np.append(month_days, end_day))


def simulate(
    n: int, month_days: np.ndarray, end_day: int, areas: Areas, rng: np.random.Generator
) -> Simulation:
    """Run the process for ``n`` persons over the months starting at ``month_days``."""
    n_months = month_days.size
    month_len = _days_in_month(month_days, end_day)
    end_year = int(np.datetime64(end_day, "D").astype("datetime64[Y]").astype(int) + 1970)

    area = rng.choice(areas.codes.size, size=n, p=areas.youth / areas.youth.sum())
    u = (areas.unemployment_rate[area] - 9.0) / 3.5
    age_end = rng.integers(16, 30, size=n)
    birth_year = end_year - age_end
    language = rng.choice(3, size=n, p=[0.80, 0.06, 0.14])
    gender = rng.choice(4, size=n, p=[0.47, 0.47, 0.02, 0.04])

    baseline = (
        0.45 * u
        + 0.35 * (language == 2)
        - 0.10 * (language == 1)
        + 0.15 * (gender == 1)
        + rng.normal(0.0, 0.8, size=n)
    )
    z = baseline + rng.normal(0.0, 0.6, size=n)
    zbar = z.copy()  # sustained disengagement: what months of behaviour add up to

    years_of = month_days.astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    age0 = years_of[0] - birth_year
    p_enrol0 = np.select([age0 <= 18, age0 <= 20, age0 <= 24], [0.75, 0.45, 0.22], 0.07)
    enrolled = rng.random(n) < p_enrol0
    credits = np.where(enrolled, rng.uniform(0, 150, size=n), 0.0)
    graduated = (~enrolled) & (rng.random(n) < np.clip((age0 - 18) * 0.12, 0, 0.7))
    working = rng.random(n) < 0.5
    last_interrupt = np.full(n, -99, dtype=np.int32)
    client_until = np.full(n, -1, dtype=np.int32)  # month index until which a client
    n_registered = np.zeros(n, dtype=np.int16)

    school, outreach, ohjaamo, employment = (EventBuffer() for _ in range(4))
    reg_person: list[np.ndarray] = []
    reg_day: list[np.ndarray] = []
    reg_end: list[np.ndarray] = []
    truth = np.full((n, n_months), np.nan, dtype=np.float32)
    everyone = np.arange(n, dtype=np.int32)

    def days(t: int, who: np.ndarray) -> np.ndarray:
        return month_days[t] + rng.integers(0, month_len[t], size=who.size)

    for t in range(n_months):
        age = years_of[t] - birth_year
        shock = (rng.random(n) < 0.005) * rng.normal(1.2, 0.4, size=n)
        z = RHO * z + (1 - RHO) * baseline + SIGMA * rng.normal(size=n) + shock
        zbar = 0.8 * zbar + 0.2 * z
        is_client = client_until >= t
        z = np.where(is_client, z - 0.05, z)
        month = int(np.datetime64(int(month_days[t]), "D").astype("datetime64[M]").astype(int) % 12)
        term_start = month in (0, 7)  # January and August

        # School.
        idx = everyone[enrolled]
        zi = z[idx]
        n_abs = np.minimum(rng.poisson(0.65 * np.exp(0.85 * zi)), 10)
        who = np.repeat(idx, n_abs)
        school.add(who, days(t, who), 1, 1 + rng.poisson(2.0, size=who.size))
        earns = rng.random(idx.size) < 0.35
        points = np.maximum(0, np.round(rng.normal(6.0 - 2.0 * np.clip(zi, -2, 3), 2.0)))
        who = idx[earns]
        school.add(who, days(t, who), 2, points[earns])
        credits[who] += points[earns]
        p_int = _sigmoid(-5.0 + 1.3 * zi + 0.5 * (age[idx] >= 20))
        quits = idx[rng.random(idx.size) < p_int]
        school.add(quits, days(t, quits), 3, np.zeros(quits.size))
        enrolled[quits] = False
        last_interrupt[quits] = t
        grads = idx[(credits[idx] >= 180) & enrolled[idx]]
        school.add(grads, days(t, grads), 4, np.zeros(grads.size))
        enrolled[grads] = False
        graduated[grads] = True
        p_join = (0.02 + 0.08 * (age <= 20) * ~graduated) * (3.0 if term_start else 0.3)
        joins = everyone[(~enrolled) & ~is_client & (rng.random(n) < p_join)]
        school.add(joins, days(t, joins), 0, np.zeros(joins.size))
        enrolled[joins] = True
        credits[joins] = 0.0

        # Work (unobserved) and NEET.
        p_work = _sigmoid(2.0 - 2.2 * zbar - 0.25 * u + 0.6 * graduated - 0.8 * (age < 18))
        resample = rng.random(n) < WORK_RESAMPLE
        working = np.where(resample, rng.random(n) < p_work, working) & ~enrolled
        neet = ~enrolled & ~working

        # Outreach youth work and Ohjaamo.
        n_contact = rng.poisson(np.exp(-4.6 + 1.3 * z + 2.0 * neet))
        who = np.repeat(everyone, n_contact)
        outreach.add(who, days(t, who), 0, np.zeros(who.size))
        meets = who[rng.random(who.size) < 0.4]
        outreach.add(meets, days(t, meets), 1, np.zeros(meets.size))
        n_visit = rng.poisson(
            np.exp(-3.2 + 1.1 * z + 1.0 * neet + 0.3 * ((age >= 18) & (age <= 24)))
        )
        who = np.repeat(everyone, n_visit)
        ohjaamo.add(who, days(t, who), 0, np.zeros(who.size))
        guided = who[rng.random(who.size) < 0.5]
        ohjaamo.add(guided, days(t, guided), 1, 15 * (1 + rng.poisson(2.0, size=guided.size)))

        # Registration hazard, applied to non-clients (outcomes); the truth freezes the
        # situation of the month start and asks for the next six months.
        base = (
            -6.4
            + 1.5 * _softplus(zbar - 0.3)
            + 0.25 * u
            + np.where((age >= 18) & (age <= 21), 0.4, np.where(age < 17, -0.6, 0.0))
            + 0.5 * (n_registered > 0)
        )
        neet_effect = 1.1 + 0.25 * u  # the NEET × area interaction
        h = _sigmoid(base + neet_effect * neet + 0.9 * (t - last_interrupt <= 3))
        # Oracle: everything known on the month start; work status in later months is
        # what the process expects (drawn anew with WORK_RESAMPLE a month), the rest frozen.
        survive = np.ones(n)
        out_of_school = ~enrolled
        for k in range(HORIZON_MONTHS):
            keep = (1.0 - WORK_RESAMPLE) ** k
            p_neet = out_of_school * (keep * neet + (1.0 - keep) * (1.0 - p_work))
            recent = 0.9 * (t + k - last_interrupt <= 3)
            h_k = p_neet * _sigmoid(base + neet_effect + recent) + (1 - p_neet) * _sigmoid(
                base + recent
            )
            survive *= 1.0 - h_k
        truth[:, t] = 1.0 - survive
        regs = everyone[(~is_client) & (rng.random(n) < h)]
        start = days(t, regs)
        length = 1 + rng.geometric(0.25, size=regs.size)
        client_until[regs] = t + length
        n_registered[regs] += 1
        enrolled[regs] = False
        end_month = t + length
        ends_in_data = end_month < n_months
        safe_month = np.minimum(end_month, n_months - 1)
        end = np.where(
            ends_in_data,
            month_days[safe_month] + rng.integers(0, 28, size=regs.size),
            -1,
        )
        reg_person.append(regs)
        reg_day.append(start)
        reg_end.append(end)
        done = ends_in_data
        employment.add(regs[done], end[done], 0, (end - start)[done])
        act = regs[rng.random(regs.size) < 0.5]
        act_start = days(t, act) + 30
        act_ok = act_start < end_day
        employment.add(act[act_ok], act_start[act_ok], 1, np.zeros(int(act_ok.sum())))
        act_end = act_start + 30 + rng.integers(0, 60, size=act.size)
        act_ok &= act_end < end_day
        employment.add(act[act_ok], act_end[act_ok], 2, np.zeros(int(act_ok.sum())))

    rehab = everyone[(z > 2.2) & (client_until < n_months - 1) & (rng.random(n) < 0.3)]
    truth[:, max(n_months - HORIZON_MONTHS + 1, 0) :] = np.nan  # horizon not observed
    return Simulation(
        area=area,
        birth_year=birth_year,
        language=language,
        gender=gender,
        events={
            "school": school.columns(),
            "outreach": outreach.columns(),
            "ohjaamo": ohjaamo.columns(),
            "employment": employment.columns(),
        },
        registrations={
            "person": np.concatenate(reg_person),
            "day": np.concatenate(reg_day),
            "end_day": np.concatenate(reg_end),
        },
        other_services={
            "person": rehab,
            "day": end_day - rng.integers(20, 200, size=rehab.size),
        },
        truth=truth,
        month_days=month_days,
    )
