"""The portal's records: its users (keyed on the identity provider's ``sub``) and persons.

A ``Person`` holds the identity code only encrypted (AES-GCM, ``FIELD_ENCRYPTION_KEYS``)
beside a keyed search hash for exact lookup (django-searchable-encrypted-fields, as the
city's yjdh does), and the pseudonym ``person_id`` the rest of Ennakko keys everything on.
The portal is the consent register, so it *issues* the pseudonym: ``EN`` and ten random
hex digits, as the register does, never derived from the code (a derived one would come
back identical after an erasure).
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from encrypted_fields.fields import EncryptedCharField, SearchField
from helusers.models import AbstractUser


class User(AbstractUser):
    """A login: ``uuid`` is the identity provider's ``sub``; no name or code is kept here."""


def identity_code_hash_key() -> str:
    """The search hash's key, read when used: a callable keeps it out of migrations."""
    return settings.PORTAL_IDENTITY_CODE_HASH_KEY


def new_person_id() -> str:
    """A fresh pseudonym, ``EN`` + 10 upper-case hex digits (features.contracts.PSEUDONYM)."""
    return "EN" + secrets.token_hex(5).upper()


class Person(models.Model):
    """The young person behind a login; created only after every login check passed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person"
    )
    encrypted_identity_code = EncryptedCharField(max_length=11)
    identity_code = SearchField(
        hash_key=identity_code_hash_key, encrypted_field_name="encrypted_identity_code"
    )
    person_id = models.CharField(max_length=12, unique=True, default=new_person_id)
    birth_year = models.PositiveSmallIntegerField()
    # Asked once after login (``/postinumero/``); the export leaves a person out until set.
    postal_code = models.CharField(max_length=5, blank=True, default="")
    language = models.CharField(max_length=2, blank=True, default="")
    team = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:  # never the code
        return self.person_id


class Notice(models.Model):
    """One version of the privacy notice in one language, as shown (``portal/notices/``).

    ``sha256`` is of the exact text shown, so a record can prove which words a person read.
    """

    version = models.CharField(max_length=16)
    language = models.CharField(max_length=2)
    sha256 = models.CharField(max_length=64)
    effective_from = models.DateField()

    class Meta:
        constraints = (models.UniqueConstraint(fields=["version", "language"], name="notice_once"),)

    def __str__(self) -> str:
        return f"{self.version}/{self.language}"


class ImmutableRecordError(Exception):
    """A consent record was about to be changed or deleted: records are only ever added."""


class ConsentRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecordError("consent records cannot be updated; add a new record")

    def delete(self):
        raise ImmutableRecordError("consent records cannot be deleted (only erasure removes them)")


class ConsentRecord(models.Model):
    """One change of one purpose, never altered (ISO/IEC TS 27560 fields).

    A change of a purpose writes a new record that ``replaces`` the purpose's previous one;
    a withdrawal is a record with ``withdrawn_at`` set. ``receipt`` groups the records of one
    submitted form (one receipt). Only an erasure of the person removes records (the
    cascade from ``Person``, which does not pass through this class's ``delete``).
    """

    STATES = (("given", "given"), ("withdrawn", "withdrawn"))

    record_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    schema_version = models.CharField(max_length=8, default="1")
    receipt = models.UUIDField(db_index=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    controller = models.CharField(max_length=200)
    purpose = models.CharField(max_length=64)
    legal_basis = models.CharField(max_length=100)
    data_categories = models.CharField(max_length=300)
    notice = models.ForeignKey(Notice, on_delete=models.PROTECT)
    channel = models.CharField(max_length=32)
    collection_method = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=STATES)
    given_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="replaced_by"
    )
    recorded_at = models.DateTimeField()

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        ordering = ("recorded_at",)

    def __str__(self) -> str:
        return f"{self.purpose}:{self.state}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError("consent records cannot be updated; add a new record")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("consent records cannot be deleted (only erasure removes them)")


class ContactRequest(models.Model):
    """ "Contact me": how and in which language the person wants to be reached.

    The phone number, e-mail address and name are stored only encrypted (AES-GCM, as the
    identity code); the name is the one the identity provider gave at login, kept only
    because the person asked to be contacted. The two questions have fixed answers (no
    free text). A request stays open until a counsellor's decision, a "do not contact me"
    or an erasure closes it.
    """

    METHODS = (("phone", "phone"), ("sms", "sms"), ("email", "email"))
    CLOSED = (
        ("decision", "decision"),
        ("do_not_contact", "do_not_contact"),
        ("erased", "erased"),
        ("replaced", "replaced"),  # by the person's newer request
    )

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contact_requests")
    requested_at = models.DateTimeField()
    method = models.CharField(max_length=8, choices=METHODS)
    phone = EncryptedCharField(max_length=32, blank=True, default="")
    email = EncryptedCharField(max_length=254, blank=True, default="")
    name = EncryptedCharField(max_length=200, blank=True, default="")
    language = models.CharField(max_length=2)
    situation = models.CharField(max_length=24, blank=True, default="")
    help_wanted = models.CharField(max_length=24, blank=True, default="")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=16, choices=CLOSED, blank=True, default="")

    class Meta:
        ordering = ("requested_at", "pk")

    def __str__(self) -> str:  # never a contact detail
        return f"{self.method}:{'closed' if self.closed_at else 'open'}"


class ArrivalCount(models.Model):
    """How many arrived and took each later step, per day and channel: aggregate only (no
    cookie, IP address or user agent behind it)."""

    STEPS = (
        "arrival",
        "notice",
        "login",
        "consent",
        "contact_request",
        "withdrawal",
        "erasure",
    )

    day = models.DateField()
    channel = models.CharField(max_length=32)
    step = models.CharField(max_length=16, choices=[(s, s) for s in STEPS])
    n = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["day", "channel", "step"], name="count_once"),
        )

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.step}: {self.n}"
