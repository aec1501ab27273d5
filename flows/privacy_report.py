"""``ennakko privacy report``: a record of processing, generated from the configuration and data.

It supports the data-protection impact assessment (DPIA); it does not replace it. It
checks rather than asserts where it can: who was scored and listed on the newest published
date is reconciled with the consent register on that date (anyone without a valid consent
is counted, and must be none); the model inputs are the champion's own feature names;
every store is named with the fields it keeps and for how long. Every time is shown in
``settings.timezone`` (Europe/Helsinki), whatever offset it was written with. Counts under
the configured minimum cell size are shown as "< N", except the counts that must be zero.

Why no Prefect or MLflow here: a data-protection officer's command should answer at once
and start nothing; the champion's inputs are read from the local MLflow store's SQLite
database and artifact files with the standard library.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

import polars as pl

from features.catalogue import build_catalogue, by_name, model_features
from features.consent import consent_state
from features.contracts import CONTRACTS, Context, events_contract
from flows.audit import AuditLog, heads_in_manifests
from flows.privacy import erased_hashes, erased_ids, layer_id
from flows.settings import Settings
from flows.workspace import Workspace

META_FILE = "risk_model.json"  # models.registry.META_FILE, without importing MLflow

# What each store keeps, field by field. tests/test_privacy_report.py holds these to the
# code that writes the stores (outreach.writers.COLUMNS, outreach.reviews.STORE_SCHEMA,
# outreach.assemble.DRAW_COLUMNS, flows.lists.save_scores), so they cannot drift apart.
LIST_FIELDS = (
    "list_id", "rank", "person_id", "name", "phone", "email", "language", "risk_band",
    "probability", "reason_1", "reason_2", "reason_3", "age_band", "home_area", "flags",
    "consent_expires_at", "decision", "comment", "decided_at", "counsellor",
)  # fmt: skip
SCORE_FIELDS = ("person_id", "team", "probability", "listed")
DECISION_FIELDS = (
    "list_id", "person_id", "decision", "reason", "decided_at", "counsellor", "team", "rank",
    "risk_band", "override", "imported_at", "corrects", "superseded_at",
)  # fmt: skip
HOLDOUT_FIELDS = ("person_id", "as_of", "team", "rank", "probability", "held_out", "listed")
SNAPSHOT_FIELDS = ("person_id", "as_of")


@dataclass
class Store:
    """One place Ennakko keeps data: what it holds and how long (``days`` None: no limit)."""

    name: str
    path: str
    fields: str
    personal: str
    days: int | None
    kept: str = ""


@dataclass
class Reconciliation:
    """Persons scored and listed on one published date against consent on that date."""

    as_of: date
    scored: int = 0
    scored_valid: int = 0
    listed: int = 0
    listed_valid: int = 0
    erased_present: int = 0
    withdrawn_since: int = 0
    notes: list[str] = field(default_factory=list)
    scores_checked: bool = True
    violations: int = 0  # distinct persons counted in any must-be-zero row


def _count(n: int, min_cell: int) -> str:
    return f"< {min_cell}" if 0 < n < min_cell else f"{n:,}"


def local_time(value: str | datetime | None, tz: ZoneInfo) -> str:
    """An ISO timestamp shown in ``tz`` (a naive one is taken as already in ``tz``)."""
    if value is None or value == "":
        return "never"
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(tz).isoformat(timespec="seconds")


def newest_published(ws: Workspace) -> tuple[date, Path] | None:
    """The newest ``lists/<D>`` that points at a published version."""
    root = ws.path("lists")
    found = []
    for link in root.iterdir() if root.exists() else ():
        try:
            day = date.fromisoformat(link.name)
        except ValueError:
            continue
        if link.is_dir():
            found.append((day, link))
    return max(found) if found else None


def reconcile(
    ws: Workspace,
    settings: Settings,
    consents: pl.DataFrame,
    day: date,
    folder: Path,
    today: date,
    *,
    audit_key: bytes | None,
    pseudonym_key: bytes | None,
) -> Reconciliation:
    """Count who was scored and listed on ``day`` with and without a valid consent then.

    ``consents`` is the consent register as read (pseudonyms as issued). Scores hold the
    second-layer ids when ``ENNAKKO_PSEUDONYM_KEY`` was on; they are mapped back with the
    key, and left unchecked (said so) when the key is missing.
    """
    result = Reconciliation(as_of=day)
    state = consent_state(consents, day, settings.consent, settings.partners)
    may_score = set(state.filter(pl.col("can_score"))["person_id"].to_list())
    may_list = set(state.filter(pl.col("can_score") & pl.col("can_contact"))["person_id"].to_list())
    listed: set[str] = set()
    for file in sorted(folder.glob("*.parquet")):
        listed |= set(pl.read_parquet(file, columns=["person_id"])["person_id"].to_list())
    result.listed = len(listed)
    result.listed_valid = len(listed & may_list)
    scored: set[str] = set()
    scores = ws.path("scores", f"{day.isoformat()}.parquet")
    if scores.exists():
        scored = set(pl.read_parquet(scores, columns=["person_id"])["person_id"].to_list())
    else:
        result.notes.append(f"No scores were kept for {day.isoformat()} (retention, or removed).")
    register = consents["person_id"].unique().to_list()
    if pseudonym_key:
        back = {layer_id(p, pseudonym_key): p for p in register}
        scored = {back.get(p, p) for p in scored}
    elif scored and not scored & set(register):
        result.scores_checked = False
        result.notes.append(
            "The scores hold second-layer pseudonyms and ENNAKKO_PSEUDONYM_KEY is not set, so "
            "the scored persons could not be matched with the consent register."
        )
    result.scored = len(scored)
    result.scored_valid = len(scored & may_score)
    offenders = (listed - may_list) | ((scored - may_score) if result.scores_checked else set())
    if audit_key is not None:
        erased = (scored | listed) & set(erased_ids(ws, consents.select("person_id"), audit_key))
        result.erased_present = len(erased)
        offenders |= erased
    elif erased_hashes(ws):
        result.notes.append("No audit key: erased persons could not be looked for.")
    result.violations = len(offenders)
    if today > day:
        now = consent_state(consents, today, settings.consent, settings.partners)
        ended = set(now.filter(~pl.col("can_contact"))["person_id"].to_list())
        result.withdrawn_since = len(listed & ended)
    return result


def champion_inputs(settings: Settings) -> tuple[str | None, list[str] | None, str]:
    """The champion's version and feature names from the local MLflow store, if readable.

    Returns (version, names, where); names is None when the store is a server or cannot be
    read here, and ``where`` says why.
    """
    uri = settings.mlflow_uri
    if not uri.startswith("sqlite:///"):
        return None, None, "the MLflow store is a server, which this report does not start"
    db = Path(unquote(uri[len("sqlite:///") :]))
    if not db.is_file():
        return None, None, f"there is no MLflow store at {db} yet"
    try:
        with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as con:
            row = con.execute(
                "SELECT v.version, v.run_id, r.artifact_uri FROM registered_model_aliases a "
                "JOIN model_versions v ON v.name = a.name AND v.version = a.version "
                "JOIN runs r ON r.run_uuid = v.run_id WHERE a.name = ? AND a.alias = ?",
                (settings.model.registered_name, "champion"),
            ).fetchone()
    except sqlite3.Error as exc:
        return None, None, f"the MLflow store could not be read ({type(exc).__name__})"
    if row is None:
        return None, None, "no model is registered as champion yet"
    version, run_id, artifact_uri = str(row[0]), row[1], row[2]
    candidates = [Path(unquote(urlparse(artifact_uri).path)) / META_FILE]
    # A workspace moved to a new folder: the store still names the old one.
    candidates += sorted(settings.mlflow_artifacts.glob(f"*/{run_id}/artifacts/{META_FILE}"))
    for meta in candidates:
        try:
            names = json.loads(meta.read_text(encoding="utf-8"))["features"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return version, names, f"the champion's {META_FILE} in the MLflow store"
    return version, None, f"the champion's {META_FILE} was not found in the MLflow store"


def stores(settings: Settings, inputs: int) -> list[Store]:
    """Every place Ennakko keeps data, with its fields and retention."""
    r = settings.retention
    sensitive = ", ".join(settings.features.sensitive)
    return [
        Store("lists", "lists/.versions/<D>--<run>/<D>-<team>.xlsx, .csv, .parquet",
              ", ".join(LIST_FIELDS),
              "pseudonym, name, phone, e-mail, language, risk, reasons, flags; decision, "
              "comment, decided_at and counsellor are left empty for the counsellor",
              r.lists),
        Store("lists (manifest)", "lists/.versions/<D>--<run>/manifest.json",
              "run id, model version, counts per team and flag, SHA-256 of every file, "
              "audit chain head", "none (counts only)", r.lists),
        Store("scores", "scores/<D>.parquet", ", ".join(SCORE_FIELDS),
              "pseudonym (second layer when on) and risk of every scored person", r.scores),
        Store("features", "features/<D>--<key>.parquet and .aside.parquet",
              f"person_id, as_of and the {inputs} model inputs below; aside: person_id, "
              f"as_of, {sensitive} (fairness audit only, never model inputs)",
              "pseudonym (second layer when on) and derived partner data", r.features),
        Store("quarantine", "quarantine/<D>/<source>.parquet",
              "row, the source's columns as read (text), reason",
              "refused rows as the partner sent them: pseudonyms, and from the contact "
              "vault names, phone numbers and e-mail addresses", r.quarantine),
        Store("extracts", "extracts/",
              "copies of partners' extracts, if an operator keeps them in the workspace "
              "(Ennakko writes none)", "as the extracts", r.extracts),
        Store("snapshots", "snapshots/<model>-v<N>.parquet", ", ".join(SNAPSHOT_FIELDS),
              "pseudonyms a model version was trained on (for erasure)", r.snapshots),
        Store("reviews (decisions)", "reviews/decisions.parquet", ", ".join(DECISION_FIELDS),
              "**counsellors' comments** (`reason`, free text about the young person) and "
              "**counsellor ids** (`counsellor`, the counsellor's name or code) are personal "
              "data, of the young person and of the counsellor; with the pseudonym and the "
              "decision", r.reviews, f"{r.reviews} days from `decided_at`, row by row"),
        Store("reviews (hold-out)", "reviews/holdout.parquet", ", ".join(HOLDOUT_FIELDS),
              "pseudonym, risk and whether held out", r.reviews,
              f"{r.reviews} days from `as_of`, row by row"),
        Store("audit log", "audit/audit.jsonl",
              "event, run id, dates, counts, file names and hashes, model versions, keyed "
              "hashes of erased persons", "none in clear", None,
              "without limit: it is the record of processing"),
        Store("erasure register", "privacy/erasures.jsonl",
              "keyed hashes of erased pseudonyms, date, reason", "keyed hashes only", None,
              "without limit: it keeps erased persons out of every later run"),
        Store("application log", "logs/ennakko.log", "stages and counts", "none", None,
              "not deleted by `ennakko retention`: rotate it with the system's log rotation"),
        Store("MLflow", "mlflow/", "aggregate metrics, reports, models",
              "none (no row-level data)", None, "until deleted by hand"),
        Store("Prefect", "prefect/", "flow and task runs: configuration path, as-of date",
              "none", None, "Prefect's own settings"),
        Store("reports", "reports/", "this record, the reviews report",
              f"none (cells under {settings.privacy.min_cell_size} suppressed)", None,
              "until deleted by hand"),
    ]  # fmt: skip


@dataclass
class Record:
    """The record of processing (Markdown) and its one line for the terminal."""

    text: str
    headline: str
    reconciliation: Reconciliation | None

    @property
    def violations(self) -> int:
        return self.reconciliation.violations if self.reconciliation else 0


def privacy_report(
    settings: Settings,
    ws: Workspace,
    now: datetime,
    consents: pl.DataFrame | None,
    *,
    audit_key: bytes | None,
    pseudonym_key: bytes | None,
) -> Record:
    """The record of processing.

    ``now`` is the clock as the entry point read it; ``consents`` the consent register as
    read (None when it could not be read: the counts that need it are left out, said so).
    """
    s = settings
    tz = ZoneInfo(s.timezone)
    today = now.astimezone(tz).date()
    as_of = s.as_of or today
    min_cell = s.privacy.min_cell_size
    published = newest_published(ws)
    rec = None
    if published and consents is not None and consents.height:
        rec = reconcile(
            ws, s, consents, published[0], published[1], max(today, as_of),
            audit_key=audit_key, pseudonym_key=pseudonym_key,
        )  # fmt: skip
    headline = _headline(rec, published)
    lines = [
        f"# Record of processing: Ennakko, {s.area_name}",
        "",
        f"Generated {local_time(now, tz)} from `{s.config_path}`. All times are in "
        f"{s.timezone}. This record supports the data-protection impact assessment; it does "
        "not replace it.",
        "",
        headline,
        "",
        "## Controller and purpose",
        f"- Controller: {s.privacy.controller}.",
        "- Purpose: to offer early, voluntary guidance to young people at risk of unemployment "
        "who have consented to it. The service is not statutory; every processing rests on "
        "the person's consent, which is purpose-bound, can expire and can be withdrawn.",
        "- Lists are advice to counsellors, never decisions: every row needs a human decision.",
        "",
        "## Consent purposes",
        "- `scoring`: the person's data may be used to estimate their risk.",
        "- `contact`: the person may appear on a counsellor's list with contact details.",
        "- `source:<partner>`: that partner's rows about the person may be used.",
        (
            "- Consents given under these privacy-notice versions are treated as invalid: "
            + ", ".join(f"`{v}`" for v in s.consent.invalid_notice_versions)
            + "."
            if s.consent.invalid_notice_versions
            else "- No privacy-notice version is configured as invalid "
            "(`consent.invalid_notice_versions`)."
        ),
        f"- Consents ending within {s.consent.expiry_warning_days} days are flagged so the "
        "counsellor can ask about renewal.",
        "",
        *_reconciliation(rec, published, min_cell),
        *_inputs(s),
        "## Sources and the fields read",
        "| source | fields | DPIA | newest row allowed |",
        "| --- | --- | --- | --- |",
    ]
    ctx_contract = Context(max(today, as_of), tuple(s.partners))
    for name, factory in CONTRACTS.items():
        if name == "reviews":
            continue
        fields = ", ".join(c.name for c in factory(ctx_contract).columns)
        lines.append(f"| {name} | {fields} | core register | |")
    for name, partner in s.partners.items():
        contract = events_contract(Context(ctx_contract.reference_date, tuple(s.partners),
                                           partner.event_types), name)  # fmt: skip
        fields = ", ".join(c.name for c in contract.columns)
        types = ", ".join(partner.event_types)
        lines.append(
            f"| events/{name} ({partner.label.en}) | {fields}; event types: {types} | "
            f"{partner.dpia or 'MISSING'} | {partner.max_age_days} days |"
        )
    lines += [
        "",
        "Direct identifiers (name, phone, e-mail) are read only from the contact vault and only "
        "when a list is written. Feature caches and scores hold only the pseudonym"
        + (" as a keyed hash (second pseudonym layer on)" if pseudonym_key else "")
        + "; models, logs and MLflow hold no identifier of any kind. The sensitive attributes ("
        + ", ".join(s.features.sensitive)
        + ") are used only for the fairness audit, never as model inputs.",
        "",
        "## Recipients",
        *[f"- {r}" for r in s.privacy.recipients],
        "- Analysts see aggregate reports only (MLflow): no row-level personal data.",
        "",
        "## Retention",
        "| store | kept (days) |",
        "| --- | --- |",
        *[f"| {store} | {days} |" for store, days in s.retention.model_dump().items()],
        "",
        f"Files are created with mode {s.privacy.file_mode}, folders {s.privacy.dir_mode}. "
        f"Aggregate tables suppress cells under {min_cell} persons.",
        "",
        *_stores(s),
        "## Consents today",
    ]
    if consents is not None and consents.height:
        state = consent_state(consents, as_of, s.consent, s.partners)
        counts = dict(state.group_by("status").len().iter_rows())
        lines += [f"On {as_of.isoformat()}:", ""]
        lines += [f"- {status}: {_count(n, min_cell)}" for status, n in sorted(counts.items())]
        lines.append(f"- may be scored: {_count(int(state['can_score'].sum()), min_cell)}")
        lines.append(f"- may be contacted: {_count(int(state['can_contact'].sum()), min_cell)}")
    else:
        lines.append("The consent register could not be read.")
    lines += ["", *_records(s, ws, audit_key, tz)]
    return Record("\n".join(lines) + "\n", headline.replace("**", ""), rec)


def _headline(rec: Reconciliation | None, published: tuple[date, Path] | None) -> str:
    if published is None:
        return "**Consent reconciliation:** no list has been published yet."
    if rec is None:
        return (
            "**Consent reconciliation: not done.** The consent register could not be read, so "
            f"the lists of {published[0].isoformat()} were not checked against it."
        )
    if rec.violations:
        return (
            f"**⚠ CONSENT RECONCILIATION FAILED: {rec.violations:,} person(s) were scored or "
            f"listed on {rec.as_of.isoformat()} without a valid consent, or after erasure.** "
            "See 'Who was scored and listed'; stop the nightly runs and investigate."
        )
    scope = f"all {rec.scored:,} scored and " if rec.scores_checked else ""
    return (
        f"**Consent reconciliation of {rec.as_of.isoformat()}: {scope}all {rec.listed:,} "
        "listed persons had a valid consent on that date; no erased person was found.**"
    )


def _reconciliation(
    rec: Reconciliation | None, published: tuple[date, Path] | None, min_cell: int
) -> list[str]:
    lines = ["## Who was scored and listed, against consent", ""]
    if published is None:
        return [*lines, "No list has been published yet.", ""]
    if rec is None:
        return [*lines, "The consent register could not be read: not reconciled.", ""]
    mark = "must be 0"
    not_scored = rec.scored - rec.scored_valid
    not_listed = rec.listed - rec.listed_valid
    lines += [
        f"The newest published lists, of {rec.as_of.isoformat()}, against the consent "
        f"register on that date (the same rules as the consent gate).",
        "",
        "| persons on " + rec.as_of.isoformat() + " | count |",
        "| --- | ---: |",
    ]
    if rec.scores_checked:
        lines += [
            f"| scored | {rec.scored:,} |",
            f"| scored with a valid `scoring` consent | {rec.scored_valid:,} |",
            f"| **scored without a valid `scoring` consent** ({mark}) | **{not_scored:,}** |",
        ]
    lines += [
        f"| listed | {rec.listed:,} |",
        f"| listed with a valid `scoring` and `contact` consent | {rec.listed_valid:,} |",
        f"| **listed without a valid `contact` consent** ({mark}) | **{not_listed:,}** |",
        f"| **erased persons still in these lists or scores** ({mark}) | "
        f"**{rec.erased_present:,}** |",
        "",
    ]
    if rec.withdrawn_since:
        lines += [
            f"{_count(rec.withdrawn_since, min_cell)} listed person(s) may no longer be "
            "contacted (withdrawn or expired since): the next run leaves them out, and these "
            "lists are deleted when their retention ends.",
            "",
        ]
    lines += [*rec.notes, ""] if rec.notes else []
    return lines


def _inputs(s: Settings) -> list[str]:
    catalogue = build_catalogue(s.features, s.partners, s.indicators.use)
    known = by_name(catalogue)
    version, names, where = champion_inputs(s)
    if names is None:
        names = model_features(catalogue, s.features)
        source = (
            f"the feature catalogue of this configuration ({where}); the champion"
            + (f" (version {version})" if version else "")
            + " was trained on these unless the feature settings changed since"
        )
    else:
        source = where
    sensitive = sorted(set(names) & set(s.features.sensitive))
    lines = [
        f"## Model inputs ({len(names)})",
        "",
        f"Model{f' version {version}' if version else ''} `{s.model.registered_name}`; the "
        f"names are read from {source}.",
        "",
        (
            f"**⚠ Sensitive attributes are model inputs: {', '.join(sensitive)}.**"
            if sensitive
            else f"None of the sensitive attributes ({', '.join(s.features.sensitive)}) is a "
            "model input."
        ),
        "",
        "| input | from | what it is |",
        "| --- | --- | --- |",
    ]
    for name in names:
        feature = known.get(name)
        lines.append(
            f"| `{name}` | {feature.source if feature else ''} | "
            f"{feature.description if feature else 'not in the catalogue'} |"
        )
    return [*lines, ""]


def _stores(s: Settings) -> list[str]:
    catalogue = build_catalogue(s.features, s.partners, s.indicators.use)
    lines = [
        "## What each store keeps, and for how long",
        "",
        "Paths are below the workspace. Personal data of the counsellors (their comments and "
        "ids in returned decisions) is processed too, and kept as the decisions are.",
        "",
        "| store | where | fields | personal data | kept |",
        "| --- | --- | --- | --- | --- |",
    ]
    for store in stores(s, len(model_features(catalogue, s.features))):
        kept = store.kept or (f"{store.days} days" if store.days else "")
        lines.append(
            f"| {store.name} | `{store.path}` | {store.fields} | {store.personal} | {kept} |"
        )
    return [*lines, ""]


def _records(s: Settings, ws: Workspace, key: bytes | None, tz: ZoneInfo) -> list[str]:
    log = ws.path("audit", "audit.jsonl")
    audit = AuditLog(log, key or b"")
    entries = audit.read()
    if key is None:
        chain = "not checked: there is no audit key (ENNAKKO_AUDIT_KEY or the key file)"
    else:
        result = audit.verify(heads_in_manifests(ws.path("lists")))
        chain = (
            "intact"
            if result.ok
            else f"**BROKEN** at line {result.broken_at}: {result.problem} "
            "(run `ennakko audit verify`)"
        )
    imports = [e for e in entries if e.get("event") == "reviews-import"]
    decisions = ws.path("reviews", "decisions.parquet")
    stored = pl.read_parquet(decisions, columns=["person_id"]).height if decisions.exists() else 0
    return [
        "## Erasures, retention, returned decisions and the audit log",
        f"- Persons erased so far: {_count(len(erased_hashes(ws)), 1)}.",
        f"- Last erasure: {_last(entries, 'erasure', tz)}.",
        f"- Last retention run: {_last(entries, 'retention', tz)}.",
        f"- Returned lists imported: {len(imports)} import(s), each an audit entry; last "
        f"{_last(entries, 'reviews-import', tz)}. Decisions kept: "
        f"{_count(stored, s.privacy.min_cell_size)}.",
        f"- Last nightly run: {_last(entries, 'nightly', tz)}.",
        f"- Audit log: {len(entries)} entries, chain {chain}.",
    ]


def _last(entries: list[dict], event: str, tz: ZoneInfo) -> str:
    moments = []
    for e in entries:
        if e.get("event") == event and e.get("at"):
            try:
                moment = datetime.fromisoformat(e["at"])
            except (TypeError, ValueError):
                continue
            moments.append(moment if moment.tzinfo else moment.replace(tzinfo=tz))
    return local_time(max(moments), tz) if moments else "never"
