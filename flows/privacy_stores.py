"""What each store of a workspace keeps, field by field, and for how long.

Apart from the report that prints it because tests/test_privacy_report.py holds these field
lists to the code that writes the stores (outreach.writers.COLUMNS,
outreach.assemble.DRAW_COLUMNS, flows.lists.save_scores), so they cannot drift apart; one
module is the one place to change when a store changes. The decisions' fields are read from
the store's own schema (outreach.decisions.STORE_SCHEMA).
"""

from __future__ import annotations

from dataclasses import dataclass

from features.catalogue import build_catalogue, model_features
from flows.audit import LOG_DIR, LOG_NAME
from flows.settings import Settings
from outreach.decisions import STORE_SCHEMA

LIST_FIELDS = (
    "list_id", "rank", "section", "person_id", "name", "phone", "email", "language", "risk_band",
    "probability", "reason_1", "reason_2", "reason_3", "age_band", "home_area", "flags",
    "consent_expires_at", "decision", "comment", "decided_at", "counsellor",
)  # fmt: skip
SCORE_FIELDS = ("person_id", "team", "probability", "listed")
DECISION_FIELDS = tuple(STORE_SCHEMA)
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
        Store("audit log", f"{LOG_DIR}/{LOG_NAME}",
              "event, run id, dates, counts, file names and hashes, model versions, keyed "
              "hashes of erased persons", "none in clear", None,
              "without limit: it is the record of processing"),
        Store("erasure register", "privacy/erasures.jsonl",
              "keyed hashes of erased pseudonyms, date, reason", "keyed hashes only", None,
              "without limit: it keeps erased persons out of every later run"),
        Store("application log", "logs/ennakko.log", "stages and counts", "none",
              settings.retention.logs,
              f"rotates at {settings.logs.max_bytes:,} bytes; rotated files older than the "
              "period are deleted by `ennakko retention`"),
        Store("MLflow", "mlflow/", "aggregate metrics, reports, models",
              "none (no row-level data)", None, "until deleted by hand"),
        Store("Prefect", "prefect/", "flow and task runs: configuration path, as-of date",
              "none", None, "Prefect's own settings"),
        Store("reports", "reports/", "this record, the reviews report",
              f"none (cells under {settings.privacy.min_cell_size} suppressed)", None,
              "until deleted by hand"),
    ]  # fmt: skip


def stores_section(s: Settings) -> list[str]:
    """The report's table of stores, with the number of model inputs this configuration has."""
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
