"""Login through the city's identity provider: who may in, and what is kept of them.

mozilla-django-oidc runs the code flow (state, nonce, PKCE, RS256 ID token); this backend
decides on the claims, before any row is written:

- assurance: ``loa`` must be ``substantial`` or ``high`` (Suomi.fi strong identification);
- identity code: ``national_id_num`` must be a valid Finnish code (``portal.identity``;
  test codes 900-999 only where ``PORTAL_ACCEPT_TEST_CODES`` allows);
- age: on today's date in the city's time zone, within ``PORTAL_AGE_RANGE`` (15-29).

A refusal stores nothing but one word in the session (``login_refused``: ``loa``, ``code``
or ``age``) for the kind explanation page; the log line names no person. The city's own
backend (yjdh ``shared/oidc/auth.py``) checks none of this: these checks are ours.
"""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from flows import clock
from portal.contact import NAME_SESSION_KEY, seal_name
from portal.identity import IdentityCodeError, age_on, birth_date, validate
from portal.models import Person
from portal.refusals import AMR_SESSION_KEY
from portal.refusals import SESSION_KEY as REFUSAL_SESSION_KEY

log = logging.getLogger(__name__)


def refusal(claims: dict, today: date) -> str | None:
    """Why these claims may not log in (``loa``, ``code``, ``age``), or None if they may."""
    if claims.get("loa") not in settings.PORTAL_ACCEPTED_LOA:
        return "loa"
    try:
        code = validate(
            claims.get("national_id_num"), allow_test_codes=settings.PORTAL_ACCEPT_TEST_CODES
        )
    except IdentityCodeError:
        return "code"
    low, high = settings.PORTAL_AGE_RANGE
    if not low <= age_on(birth_date(code), today) <= high:
        return "age"
    return None


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """Users keyed on ``sub``; a ``Person`` with the encrypted code made on first login."""

    def authenticate(self, request, **kwargs):
        """The code flow's last steps. An answer the provider no longer accepts (a code
        that expired while the page lay open, one already used) or a provider that does
        not answer ends on the kind failure page, never an error page: nothing is stored."""
        import requests

        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException as failed:
            log.warning("login not completed: the provider refused or failed (%s)",
                        type(failed).__name__)  # fmt: skip
            return None

    def verify_claims(self, claims: dict) -> bool:
        reason = refusal(claims, clock.today(settings.TIME_ZONE))
        if reason:
            self.request.session[REFUSAL_SESSION_KEY] = reason
            return False
        self.request.session.pop(REFUSAL_SESSION_KEY, None)
        amr = claims.get("amr") or ["unknown"]
        self.request.session[AMR_SESSION_KEY] = str(amr[0] if isinstance(amr, list) else amr)
        # The name only sealed (encrypted) for the session; stored only on "contact me".
        self.request.session[NAME_SESSION_KEY] = seal_name(claims)
        return True

    def get_user(self, user_id):
        """The session's user with their person in the same query (every personal page
        needs both), the identity code left encrypted in the database until a page asks
        for it (few do; decrypting it on every page costs time and exposes it for nothing)."""
        users = self.UserModel.objects.select_related("person")
        try:
            return users.defer("person__encrypted_identity_code").get(pk=user_id)
        except self.UserModel.DoesNotExist:
            return None

    def filter_users_by_claims(self, claims: dict):
        sub = claims.get("sub")
        if not sub:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(uuid=sub)

    def create_user(self, claims: dict):
        code = claims["national_id_num"]
        if Person.objects.filter(identity_code=code).exists():
            # The same person under another sub: the provider is not behaving as agreed.
            self.request.session[REFUSAL_SESSION_KEY] = "code"
            raise SuspiciousOperation("identity code already linked to another login")
        with transaction.atomic():
            user = self.UserModel.objects.create(uuid=claims["sub"], username=claims["sub"])
            user.set_unusable_password()
            user.save(update_fields=["password"])
            Person.objects.create(
                user=user,
                encrypted_identity_code=code,
                identity_code=code,
                birth_year=birth_date(code).year,
            )
        return user

    def update_user(self, user, claims: dict):
        person = getattr(user, "person", None)
        if person is None or person.encrypted_identity_code != claims["national_id_num"]:
            self.request.session[REFUSAL_SESSION_KEY] = "code"
            raise SuspiciousOperation("the login's identity code changed")
        return user
