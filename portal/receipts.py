"""The receipt of one consent change: its records with the ISO/IEC TS 27560 fields.

The JSON form is what ``/kuitti/<id>.json`` downloads; ``portal/schemas/
consent-receipt.schema.json`` describes it (a test validates receipts against it).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from portal.models import ConsentRecord, Person

SCHEMA_VERSION = "1"


def records(person: Person, receipt: uuid.UUID) -> list[ConsentRecord]:
    """The person's records of one receipt (none: not theirs, or no such receipt)."""
    found = ConsentRecord.objects.filter(person=person, receipt=receipt)
    return list(found.select_related("notice").order_by("purpose"))


def stamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def record_json(record: ConsentRecord) -> dict:
    return {
        "consent_id": str(record.record_id),
        "schema_version": record.schema_version,
        "controller": record.controller,
        "purpose": record.purpose,
        "legal_basis": record.legal_basis,
        "data_categories": record.data_categories,
        "notice": {
            "version": record.notice.version,
            "language": record.notice.language,
            "sha256": record.notice.sha256,
        },
        "channel": record.channel,
        "collection_method": record.collection_method,
        "state": record.state,
        "given_at": stamp(record.given_at),
        "expires_at": stamp(record.expires_at),
        "withdrawn_at": stamp(record.withdrawn_at),
        "replaces": str(record.replaces_id) if record.replaces_id else None,
        "recorded_at": stamp(record.recorded_at),
    }


def receipt_json(person: Person, receipt: uuid.UUID, found: list[ConsentRecord]) -> dict:
    return {
        "receipt_id": str(receipt),
        "schema_version": SCHEMA_VERSION,
        "pii_principal": person.person_id,
        "controller": found[0].controller,
        "issued_at": stamp(found[0].recorded_at),
        "records": [record_json(r) for r in found],
    }
