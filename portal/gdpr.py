"""The city profile's GDPR API (helsinki-profile-gdpr-api, module ``helsinki_gdpr``).

``/gdpr-api/v1/profiles/<uuid>`` answers GET (query scope) with everything the portal
holds about the person, as the library's tree of ``{key, value}`` / ``{key, children}``
nodes, and DELETE (delete scope, ``dry_run`` honoured) with the same erasure as the
"erase everything" page. The uuid is the login's, i.e. the profile token's ``sub``; the
library refuses a token whose ``sub`` is another person's (403).

The tree is built here from ``SERIALIZE_FIELDS`` in the library's ``serialize_fields``
form (``name`` and an optional ``accessor``), rather than by ``SerializableMixin`` on the
models, so the models keep their own managers (``ConsentRecord``'s refuses deletes).
The identity code is shown masked; contact details are shown: they are the person's own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from helsinki_gdpr.types import Error, ErrorResponse

from portal.identity import mask
from portal.models import Person

log = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    """JSON-friendly values: dates and datetimes in ISO form, UUIDs and the rest as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _id(value: Any) -> str | None:
    return str(value.pk) if value is not None else None


Fields = tuple[dict[str, Any], ...]

SERIALIZE_FIELDS: dict[str, Fields] = {
    "person": (
        {"name": "person_id"},
        {"name": "encrypted_identity_code", "key": "IDENTITY_CODE", "accessor": mask},
        {"name": "birth_year"},
        {"name": "postal_code"},
        {"name": "language"},
        {"name": "team"},
        {"name": "created_at"},
        {"name": "consents", "model": "consent_record"},
        {"name": "contact_requests", "model": "contact_request"},
    ),
    "consent_record": (
        {"name": "record_id"},
        {"name": "receipt"},
        {"name": "controller"},
        {"name": "purpose"},
        {"name": "legal_basis"},
        {"name": "data_categories"},
        {"name": "notice", "accessor": str},
        {"name": "channel"},
        {"name": "collection_method"},
        {"name": "state"},
        {"name": "given_at"},
        {"name": "expires_at"},
        {"name": "withdrawn_at"},
        {"name": "replaces", "accessor": _id},
        {"name": "recorded_at"},
    ),
    "contact_request": (
        {"name": "requested_at"},
        {"name": "method"},
        {"name": "phone"},
        {"name": "email"},
        {"name": "name"},
        {"name": "language"},
        {"name": "situation"},
        {"name": "help_wanted"},
        {"name": "closed_at"},
        {"name": "closed_reason"},
    ),
}


def serialize(obj: Any, model: str) -> dict:
    """One object as the library's node: ``{"key": MODEL, "children": [...]}``; a field
    naming another model (a reverse relation) becomes a node of its objects' nodes."""
    children = []
    for spec in SERIALIZE_FIELDS[model]:
        key = spec.get("key", spec["name"].upper())
        if "model" in spec:
            related = getattr(obj, spec["name"], None)
            if related is None:  # a relation this database does not have (yet)
                continue
            nodes = [serialize(item, spec["model"]) for item in related.all()]
            children.append({"key": key, "children": nodes})
            continue
        accessor: Callable[[Any], Any] = spec.get("accessor", _plain)
        value = getattr(obj, spec["name"])
        children.append({"key": key, "value": _plain(accessor(value))})
    return {"key": model.upper(), "children": children}


class Profile:
    """What the library's view handles: the person's login (``user``, checked against the
    token's) and ``serialize()``."""

    def __init__(self, person: Person) -> None:
        self.person = person
        self.user = person.user

    def serialize(self) -> dict:
        return serialize(self.person, "person")


def lookup(model: type[Person], uuid: Any) -> Profile:
    """``GDPR_API_MODEL_LOOKUP``: the person by their login's uuid (raises
    ``Person.DoesNotExist``, which the library answers with 204)."""
    return Profile(model.objects.select_related("user").get(user__uuid=uuid))


BUSY = Error(
    "busy",
    {
        "fi": "Tietojasi käsitellään juuri nyt. Mitään ei poistettu. Yritä hetken päästä "
        "uudelleen.",
        "sv": "Dina uppgifter behandlas just nu. Inget raderades. Försök igen om en stund.",
        "en": "Your data is being processed right now. Nothing was erased. Please try again "
        "in a moment.",
    },
)


FAILED = Error(
    "technical_error",
    {
        "fi": "Tietojasi ei voitu poistaa nyt teknisen vian vuoksi. Yritä myöhemmin uudelleen.",
        "sv": "Dina uppgifter kunde inte raderas nu på grund av ett tekniskt fel. Försök igen "
        "senare.",
        "en": "Your data could not be erased now because of a technical fault. Please try "
        "again later.",
    },
)


def delete_data(profile: Profile, dry_run: bool) -> ErrorResponse | None:
    """``GDPR_API_DELETER``: erase the person everywhere (or, on a dry run, only check it
    could be done now). A busy workspace, or an erasure Ennakko refuses (a broken audit
    chain, say), is a 403 with the reason in fi/sv/en; the log names only the error's class.

    The library runs this inside a transaction it rolls back on a dry run; the erasure of
    the derived stores cannot be rolled back, so a dry run never starts it."""
    from features.errors import SourceError
    from portal.erasure import REASON_GDPR_API, BusyError, erase_person

    try:
        erase_person(profile.person, REASON_GDPR_API, via="gdpr-api", dry_run=dry_run)
    except BusyError:
        log.warning("GDPR API delete refused: the workspace is busy")
        return ErrorResponse([BUSY])
    except SourceError as exc:
        log.error("GDPR API delete failed: %s", type(exc).__name__)
        return ErrorResponse([FAILED])
    return None
