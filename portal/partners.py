"""The identity codes a partner needs to find the rows of the persons consenting to it.

Outside the person's own page this is the only place where an identity code is
decrypted: ``ennakko partners requests`` asks for the codes of exactly the persons whose
consent covers a partner source on the day, and writes them to that partner's request
file. Nothing here logs, prints or stores a code.
"""

from __future__ import annotations

from collections.abc import Iterable

from portal.models import Person

CHUNK = 500


def identity_codes(person_ids: Iterable[str]) -> dict[str, str]:
    """``{person_id: identity code}`` for those of ``person_ids`` registered in the portal.

    Persons of the register without a portal record are simply absent from the result.
    """
    wanted = sorted(set(person_ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), CHUNK):  # SQLite limits a query's parameters
        rows = Person.objects.filter(person_id__in=wanted[start : start + CHUNK]).only(
            "person_id", "encrypted_identity_code"
        )
        found.update((p.person_id, p.encrypted_identity_code) for p in rows.iterator())
    return found
