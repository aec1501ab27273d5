"""A synthetic city in the layout of the partners' extracts, passing features/contracts.py.

``generate_city`` runs the generating process (synth.process), adds the consent
register and the contact vault, and writes every source: consents/ and contacts/ (folders
holding the register's part ``register.parquet``, beside which the portal adds its own),
events/<partner>, outcomes, services and indicators/, plus ``truth/truth.parquet`` (the
generator's true risks, never read by the pipeline) and ``city.json`` (what was made).
Deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

from features.validate import drop_exact_duplicates
from synth import names
from synth.process import (
    EMPLOYMENT_TYPES,
    OHJAAMO_TYPES,
    OUTREACH_TYPES,
    SCHOOL_TYPES,
    Areas,
    Simulation,
    simulate,
)

SCALES = {"demo": 5_000, "helsinki": 130_000, "finland": 1_000_000}
GENERATOR_VERSION = 2  # 2: consents/ and contacts/ as folders of parts
LANGUAGES = ("fi", "sv", "en")
GENDERS = ("F", "M", "X", None)
EVENT_TYPES = {
    "school": SCHOOL_TYPES,
    "outreach": OUTREACH_TYPES,
    "ohjaamo": OHJAAMO_TYPES,
    "employment": EMPLOYMENT_TYPES,
}
SOURCES = tuple(EVENT_TYPES)
NOTICE_VERSIONS = ((date(2023, 3, 1), "v1"), (date(2024, 9, 1), "v2"), (date(9999, 1, 1), "v3"))
CHANNELS = ("social_media_ad", "ohjaamo", "outreach", "school", "web_form")
# Helsinki's employment-service teams by the first three digits of the postal code.
TEAM_BY_PREFIX = {
    "001": "etelainen", "002": "lantinen", "003": "lantinen", "004": "lantinen",
    "005": "keskinen", "006": "pohjoinen", "007": "koillinen", "008": "kaakkoinen",
    "009": "itainen",
}  # fmt: skip
INDICATOR_FILE = "helsinki_indicators.csv"


# Sources written as folders of parts, the register's own part named register.*
REGISTER_FOLDERS = ("consents", "contacts")


@dataclass(frozen=True)
class CitySpec:
    """What to generate.

    ``finnish_csv`` names sources written as Finnish spreadsheet exports (``;``, decimal
    comma, dd.mm.yyyy, UTF-8 with BOM) instead of Parquet; ``parts`` > 1 writes the
    partner events as folders of that many Parquet parts.
    """

    n_persons: int
    seed: int
    start: date = date(2022, 1, 1)
    end: date = date(2025, 12, 1)
    finnish_csv: tuple[str, ...] = ()
    parts: int = 1
    orphan_share: float = 0.002
    # Absolute reduction in the probability of registering for persons contacted. The
    # city's files never depend on it (nobody is contacted in them): synth.contact plants
    # it in outcomes generated for given hold-out draws, from its own random stream.
    contact_effect: float = 0.0


def spec_for_scale(scale: str, seed: int) -> CitySpec:
    """The standard city of a scale: demo exercises the Finnish CSV reader, finland parts."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    return CitySpec(
        n_persons=SCALES[scale],
        seed=seed,
        finnish_csv=("events/school",) if scale == "demo" else (),
        parts=8 if scale == "finland" else 1,
    )


def shipped_indicators() -> pl.DataFrame:
    """The real indicator extract shipped with Ennakko (Statistics Finland, CC BY 4.0)."""
    with resources.as_file(resources.files("features") / "data" / INDICATOR_FILE) as path:
        return pl.read_csv(path, schema_overrides={"area_code": pl.String, "period": pl.String})


def areas_from_indicators(indicators: pl.DataFrame) -> Areas:
    """Postal areas with their latest unemployment rate and youth population."""
    latest = indicators.filter(pl.col("area_level") == "postal_code").filter(
        pl.col("period") == pl.col("period").max()
    )
    wide = latest.pivot(on="indicator", index="area_code", values="value").sort("area_code")
    wide = wide.filter(pl.col("unemployment_rate").is_not_null() & (pl.col("youth_18_29") > 0))
    codes = wide["area_code"].to_numpy().astype(str)
    return Areas(
        codes=codes,
        unemployment_rate=wide["unemployment_rate"].to_numpy(),
        youth=wide["youth_18_29"].to_numpy().astype(float),
        team=np.array([TEAM_BY_PREFIX.get(c[:3], "keskinen") for c in codes]),
    )


def generate_city(spec: CitySpec, out: Path, indicators: pl.DataFrame | None = None) -> dict:
    """Generate and write the city; return the summary also written to ``city.json``."""
    indicators = shipped_indicators() if indicators is None else indicators
    areas = areas_from_indicators(indicators)
    rng = np.random.default_rng(spec.seed)
    epoch = np.datetime64("1970-01-01", "D")
    month_days = (
        np.arange(np.datetime64(spec.start, "M"), np.datetime64(spec.end, "M"))
        .astype("datetime64[D]")
        .astype(np.int64)
    )
    end_day = int((np.datetime64(spec.end, "D") - epoch).astype(int))
    sim = simulate(spec.n_persons, month_days, end_day, areas, rng)
    ids = _pseudonyms(spec.n_persons, rng)

    if out.exists():
        shutil.rmtree(out)
    (out / "events").mkdir(parents=True)
    (out / "truth").mkdir()
    (out / "indicators").mkdir()

    persons = _persons(sim, ids, areas)
    consents = _consents(persons, spec, rng)
    contacts = _contacts(persons, rng)
    counts: dict[str, int] = {}
    counts["consents"] = _write(consents, out, "consents", spec)
    counts["contacts"] = _write(contacts, out, "contacts", spec)
    for source, cols in sim.events.items():
        frame = _events_frame(cols, ids, EVENT_TYPES[source], spec, rng)
        # Two identical rows (two contacts on one day, no value) are one row in a partner's
        # extract, which has no finer time; the contracts would drop the second anyway.
        frame, _ = drop_exact_duplicates(frame)
        counts[f"events/{source}"] = _write(frame, out, f"events/{source}", spec)
    outcomes, services = _outcomes_services(sim, ids)
    counts["outcomes"] = _write(outcomes, out, "outcomes", spec)
    counts["services"] = _write(services, out, "services", spec)
    indicators.write_csv(out / "indicators" / INDICATOR_FILE)
    _truth_frame(sim, ids).write_parquet(out / "truth" / "truth.parquet")

    summary = {
        "generator": f"ennakko-synth {GENERATOR_VERSION}",
        "n_persons": spec.n_persons,
        "seed": spec.seed,
        "start": spec.start.isoformat(),
        "end": spec.end.isoformat(),
        "rows": counts,
        "events": sum(v for k, v in counts.items() if k.startswith("events/")),
        "note": "Synthetic persons; names, numbers and risks are fictional.",
    }
    (out / "city.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _pseudonyms(n: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct consent-register pseudonyms like ``EN3F9A0C12B7``."""
    raw = np.unique(rng.integers(0, 16**10, size=int(n * 1.2) + 16, dtype=np.int64))
    raw = rng.permutation(raw)[:n]
    if raw.size < n:  # pragma: no cover - astronomically unlikely
        raise RuntimeError("pseudonym space exhausted")
    return np.array([f"EN{x:010X}" for x in raw.tolist()])


def _persons(sim: Simulation, ids: np.ndarray, areas: Areas) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person_id": ids,
            "birth_year": sim.birth_year.astype(np.int32),
            "postal_code": areas.codes[sim.area],
            "team": areas.team[sim.area],
            "language": np.array(LANGUAGES)[sim.language],
            "gender": pl.Series(
                np.array(GENDERS, dtype=object)[sim.gender].tolist(), dtype=pl.String
            ),
        }
    )


def _notice_version(given: np.ndarray) -> np.ndarray:
    out = np.empty(given.size, dtype=object)
    lower = np.datetime64("1900-01-01")
    for until, version in NOTICE_VERSIONS:
        bound = np.datetime64(until)
        out[(given >= lower) & (given < bound)] = version
        lower = bound
    return out.astype(str)


def _purposes(n: int, rng: np.random.Generator) -> np.ndarray:
    parts = [
        np.where(rng.random(n) < 0.96, "scoring", ""),
        np.where(rng.random(n) < 0.92, "contact", ""),
    ]
    parts += [np.where(rng.random(n) < 0.93, f"source:{s}", "") for s in SOURCES]
    joined = np.array([",".join(p for p in row if p) for row in zip(*parts, strict=True)])
    return joined


def _consents(persons: pl.DataFrame, spec: CitySpec, rng: np.random.Generator) -> pl.DataFrame:
    """A consent register with expired, withdrawn, renewed and partial-purpose consents."""
    n = persons.height
    first = np.datetime64(date(2021, 9, 1))
    last = np.datetime64(spec.end) - 30
    span = int((last - first).astype(int))
    given = first + rng.integers(0, span, size=n).astype("timedelta64[D]")
    expires = np.where(rng.random(n) < 0.8, given + np.timedelta64(730, "D"), np.datetime64("NaT"))
    withdraw = rng.random(n) < 0.07
    w_days = rng.integers(20, 700, size=n).astype("timedelta64[D]")
    withdrawn = np.where(withdraw, given + w_days, np.datetime64("NaT"))
    withdrawn = np.where(withdrawn < np.datetime64(spec.end), withdrawn, np.datetime64("NaT"))
    first_rows = persons.with_columns(
        given_at=pl.Series(given.astype("datetime64[D]")),
        expires_at=pl.Series(expires.astype("datetime64[D]")),
        withdrawn_at=pl.Series(withdrawn.astype("datetime64[D]")),
        purposes=pl.Series(_purposes(n, rng)),
    )
    renew = (
        ~np.isnat(expires)
        & np.isnat(withdrawn)
        & (expires < np.datetime64(spec.end))
        & (rng.random(n) < 0.5)
    )
    r_given = expires[renew] - rng.integers(0, 60, size=int(renew.sum())).astype("timedelta64[D]")
    renewed = first_rows.filter(pl.Series(renew)).with_columns(
        given_at=pl.Series(r_given.astype("datetime64[D]")),
        expires_at=pl.Series((r_given + np.timedelta64(730, "D")).astype("datetime64[D]")),
        withdrawn_at=pl.lit(None, dtype=pl.Date),
        purposes=pl.Series(_purposes(int(renew.sum()), rng)),
    )
    rows = pl.concat([first_rows, renewed])
    given_all = rows["given_at"].to_numpy()
    consent_ids = np.array([f"C{spec.seed % 1000:03d}-{i:08d}" for i in range(rows.height)])
    return rows.with_columns(
        consent_id=pl.Series(consent_ids),
        notice_version=pl.Series(_notice_version(given_all)),
        channel=pl.Series(np.array(CHANNELS)[rng.integers(0, len(CHANNELS), rows.height)]),
    ).select(
        "person_id", "consent_id", "given_at", "expires_at", "withdrawn_at", "purposes",
        "channel", "notice_version", "birth_year", "postal_code", "language", "team", "gender",
    )  # fmt: skip


def _contacts(persons: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The contact vault: fictional names, numbers and addresses."""
    n = persons.height
    lang = persons["language"].to_numpy()
    pools = {
        "fi": (names.FIRST_FI, names.LAST_FI),
        "sv": (names.FIRST_SV, names.LAST_SV),
        "en": (names.FIRST_OTHER, names.LAST_OTHER),
    }
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    for code, (firsts, lasts) in pools.items():
        mask = lang == code
        first[mask] = np.array(firsts)[rng.integers(0, len(firsts), int(mask.sum()))]
        last[mask] = np.array(lasts)[rng.integers(0, len(lasts), int(mask.sum()))]
    full = np.char.add(np.char.add(first.astype(str), " "), last.astype(str))
    digits = rng.integers(0, 10_000_000, size=n)
    phone = np.array([f"+358 40 {d:07d}" for d in digits.tolist()], dtype=object)
    phone[rng.random(n) < 0.05] = None
    domains = np.array(names.EMAIL_DOMAINS)[rng.integers(0, 3, n)]
    local = np.char.lower(np.char.add(np.char.add(first.astype(str), "."), last.astype(str)))
    email = np.array(
        [
            f"{a}{b % 1000}@{d}"
            for a, b, d in zip(local.tolist(), digits.tolist(), domains.tolist(), strict=True)
        ],
        dtype=object,
    )
    email[rng.random(n) < 0.15] = None
    preferred = np.where(rng.random(n) < 0.95, lang, "en")
    return pl.DataFrame(
        {
            "person_id": persons["person_id"],
            "name": full,
            "phone": pl.Series(phone.tolist(), dtype=pl.String),
            "email": pl.Series(email.tolist(), dtype=pl.String),
            "preferred_language": preferred,
        }
    )


def _events_frame(
    cols: dict[str, np.ndarray],
    ids: np.ndarray,
    types: tuple[str, ...],
    spec: CitySpec,
    rng: np.random.Generator,
) -> pl.DataFrame:
    order = np.lexsort((cols["kind"], cols["day"], cols["person"]))
    person_ids = pl.Series("person_id", ids).gather(cols["person"][order])
    n_orphans = int(order.size * spec.orphan_share)
    frame = pl.DataFrame(
        {
            "person_id": person_ids,
            "event_date": pl.Series(cols["day"][order]).cast(pl.Date),
            "event_type": pl.Series(np.array(types)[cols["kind"][order]]),
            "value": pl.Series(cols["value"][order]).cast(pl.Float64),
        }
    )
    if n_orphans:
        # Rows about people the consent register does not know: the gate must drop them.
        orphan_ids = [f"EX{x:010X}" for x in rng.integers(0, 16**10, n_orphans).tolist()]
        picks = rng.integers(0, frame.height, n_orphans)
        orphans = frame[picks.tolist()].with_columns(person_id=pl.Series(orphan_ids))
        frame = pl.concat([frame, orphans])
    return frame


def _outcomes_services(sim: Simulation, ids: np.ndarray) -> tuple[pl.DataFrame, pl.DataFrame]:
    reg = sim.registrations
    order = np.lexsort((reg["day"], reg["person"]))
    day = pl.Series(reg["day"][order]).cast(pl.Date)
    person = pl.Series(ids).gather(reg["person"][order])
    outcomes = pl.DataFrame({"person_id": person, "registered_at": day})
    end = reg["end_day"][order]
    employment = pl.DataFrame(
        {
            "person_id": person,
            "service": "employment_services",
            "start": day,
            "end": pl.Series(end, dtype=pl.Int32).cast(pl.Date).set(pl.Series(end < 0), None),
        }
    )
    rehab = pl.DataFrame(
        {
            "person_id": pl.Series(ids).gather(sim.other_services["person"]),
            "service": "rehabilitative_work",
            "start": pl.Series(sim.other_services["day"]).cast(pl.Date),
        }
    ).with_columns(end=pl.lit(None, dtype=pl.Date))
    return outcomes, pl.concat([employment, rehab]).sort("person_id", "start", "service")


def _truth_frame(sim: Simulation, ids: np.ndarray) -> pl.DataFrame:
    """Wide: one row per person, one column per as-of month (ISO date), NaN unobserved."""
    months = sim.month_days.astype("datetime64[D]").astype(str)
    columns = {"person_id": ids}
    for j, month in enumerate(months):
        if not np.isnan(sim.truth[:, j]).all():
            columns[str(month)] = sim.truth[:, j]
    return pl.DataFrame(columns)


def _write(frame: pl.DataFrame, out: Path, name: str, spec: CitySpec) -> int:
    """Write one source as Parquet (parts for big events) or as a Finnish CSV export.

    The consent register and the contact vault are folders of parts (``register.*``), so
    the portal's parts (``consents/portal.parquet``, ``contacts/portal.parquet``) are read
    beside them: a file ``consents.parquet`` would leave the folder unread (refused).
    """
    target = out / name
    if name in REGISTER_FOLDERS:
        target.mkdir(parents=True)
        target = target / "register"
    if name in spec.finnish_csv:
        write_finnish_csv(frame, target.with_suffix(".csv"))
    elif name.startswith("events/") and spec.parts > 1:
        target.mkdir(parents=True)
        size = -(-frame.height // spec.parts)
        for i in range(spec.parts):
            frame.slice(i * size, size).write_parquet(target / f"part-{i:03d}.parquet")
    else:
        frame.write_parquet(target.with_suffix(".parquet"))
    return frame.height


def write_finnish_csv(frame: pl.DataFrame, path: Path) -> None:
    """A spreadsheet export as Finnish offices send them: ``;``, decimal comma, dd.mm.yyyy, BOM."""
    frame.write_csv(
        path,
        separator=";",
        decimal_comma=True,
        date_format="%d.%m.%Y",
        include_bom=True,
    )


def file_digest(path: Path) -> str:
    """SHA-256 of a file or of a folder's files in name order."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()
