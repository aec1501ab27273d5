""" "Contact me": the choices offered, the name kept from login, and the requests' records.

The person picks how to be reached (phone call, text message or e-mail) and the number or
address, a language, and may answer two questions from fixed choices (always with
"rather not say"; no free text, so nothing unexpected is ever stored). The name comes from
the identity provider's ``given_name`` and ``family_name``: at login it is only sealed
into the short session (AES-GCM under the field encryption key), and stored, encrypted,
only when the person asks to be contacted. Each request and each closing writes an entry
in Ennakko's audit log naming the person only by keyed hash.
"""

from __future__ import annotations

import base64
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from flows import clock
from portal.consent import audit_log, person_hash
from portal.models import ContactRequest, Person

NAME_SESSION_KEY = "login_name"
PHONE = re.compile(r"^\+?[0-9 ()-]{6,24}$")
METHODS = (
    ("phone", _("Phone call")),
    ("sms", _("Text message")),
    ("email", _("E-mail")),
)
LANGUAGES = (("fi", "Suomi"), ("sv", "Svenska"), ("en", "English"))
MESSAGES = {
    "postal_code": _("Write your postal code as five digits, for example 00100."),
    "not_served": _(
        "This service is for young people who live in Helsinki. Check your postal code."
    ),
    "language": _("Choose a language."),
}
# The answers' tokens are features.contracts' SITUATIONS and HELP_WANTED (a test keeps them
# equal; not imported here, so the pages start without the contracts' libraries).
SITUATIONS = (
    ("studying", _("I am studying")),
    ("working", _("I am working")),
    ("looking_for_work", _("I am looking for work or a study place")),
    ("at_home", _("I am at home")),
    ("other", _("Something else")),
    ("rather_not_say", _("I would rather not say")),
)
HELP = (
    ("work", _("Finding work")),
    ("studies", _("Finding a study place")),
    ("money", _("Money matters")),
    ("housing", _("Housing")),
    ("wellbeing", _("Feeling well and coping")),
    ("not_sure", _("I am not sure yet")),
    ("rather_not_say", _("I would rather not say")),
)


def _cipher() -> EncryptedCharField:
    return EncryptedCharField(max_length=200)


def seal_name(claims: dict) -> str:
    """The login's name, encrypted for the session (empty when the provider gave none)."""
    name = " ".join(str(claims.get(k) or "").strip() for k in ("given_name", "family_name"))
    name = " ".join(name.split())
    return base64.b64encode(_cipher().encrypt(name)).decode() if name else ""


def unseal_name(sealed: str | None) -> str:
    if not sealed:
        return ""
    try:
        return _cipher().decrypt(base64.b64decode(sealed)) or ""
    except (ValueError, TypeError):  # a key rotated away, or a tampered value
        return ""


def clean(data: dict) -> tuple[dict, dict[str, str]]:
    """The request's values from a submitted form, and the errors per field (messages
    for the person). Unknown choices are errors, never stored."""
    errors: dict[str, str] = {}
    method = data.get("method", "")
    if method not in dict(METHODS):
        errors["method"] = _("Choose how we should contact you.")
    phone = " ".join(data.get("phone", "").split())
    email = data.get("email", "").strip()
    if method in ("phone", "sms") and not PHONE.match(phone):
        errors["phone"] = _("Write your phone number with digits, for example 040 123 4567.")
    if method == "email":
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("Write your e-mail address, for example nimi@esimerkki.fi.")
    language = data.get("language", "")
    if language not in dict(LANGUAGES):
        errors["language"] = _("Choose a language.")
    situation, help_wanted = data.get("situation", ""), data.get("help_wanted", "")
    if situation and situation not in dict(SITUATIONS):
        errors["situation"] = _("Choose one of the answers, or leave it empty.")
    if help_wanted and help_wanted not in dict(HELP):
        errors["help_wanted"] = _("Choose one of the answers, or leave it empty.")
    values = {
        "method": method,
        "phone": phone if method in ("phone", "sms") else "",
        "email": email if method == "email" else "",
        "language": language,
        "situation": situation,
        "help_wanted": help_wanted,
    }
    return values, errors


def open_requests(person: Person):
    return ContactRequest.objects.filter(person=person, closed_at__isnull=True)


def ask(person: Person, values: dict, name: str, channel: str) -> ContactRequest:
    """Store a request (an open earlier one is closed by it: one open request a person)
    and its audit entry, in one transaction; nothing is stored if the append fails."""
    moment = clock.now(settings.TIME_ZONE)
    with transaction.atomic():
        open_requests(person).update(closed_at=moment, closed_reason="replaced")
        request = ContactRequest.objects.create(
            person=person, requested_at=moment, name=name, **values
        )
        log, key = audit_log()
        log.append(
            {
                "event": "portal.contact_request",
                "person_hash": person_hash(person.person_id, key),
                "method": values["method"],
                "language": values["language"],
                "channel": channel,
                "at": moment.isoformat(timespec="seconds"),
            }
        )
    return request


def close_all(person: Person, reason: str) -> int:
    """Close the person's open requests (``do_not_contact``, ``erased``); the count."""
    moment = clock.now(settings.TIME_ZONE)
    with transaction.atomic():
        closed = open_requests(person).update(closed_at=moment, closed_reason=reason)
        if closed:
            log, key = audit_log()
            log.append(
                {
                    "event": "portal.contact_closed",
                    "person_hash": person_hash(person.person_id, key),
                    "reason": reason,
                    "requests": closed,
                    "at": moment.isoformat(timespec="seconds"),
                }
            )
    return closed
