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
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:  # never the code
        return self.person_id
