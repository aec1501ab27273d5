"""What the portal's tests share beyond fixtures: the two ports (chosen once per test
process, before Django's settings are read) and a requests-driven login.

Setting ``DJANGO_SETTINGS_MODULE`` and calling ``django.setup()`` here, at collection,
lets test modules import the portal's models at their top.
"""

from __future__ import annotations

import os
import re
import socket
from urllib.parse import urljoin


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


OP_PORT = free_port()
PORTAL_PORT = free_port()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ["OIDC_OP_BASE_URL"] = f"http://127.0.0.1:{OP_PORT}"
os.environ["DJANGO_LIVE_TEST_SERVER_ADDRESS"] = f"127.0.0.1:{PORTAL_PORT}"


def settings_for_these_ports() -> None:
    """Settings already read before this module (an xdist worker inherits the ports its
    parent chose, and pytest-django may read the settings first) are read again, so the
    portal and its provider agree on this process's ports."""
    from django.conf import settings

    if settings.configured and os.environ["OIDC_OP_BASE_URL"] != settings.OIDC_OP_BASE_URL:
        import importlib

        from django.utils.functional import empty

        import portal.settings

        importlib.reload(portal.settings)
        settings._wrapped = empty


def django_setup() -> None:
    import django

    settings_for_these_ports()
    django.setup()


django_setup()


def log_in(portal_url: str, sub: str, home: tuple[str, str] | None = ("00100", "fi")):
    """Log in as a browser would, with requests: the portal's login link, the provider's
    login form (the test person's sub, any password) and consent form, back to the
    portal's callback; on a first login the postal code and language page gets ``home``
    (None: stay on that page). Returns the session and the last response."""
    import requests

    session = requests.Session()
    response = session.get(f"{portal_url}/oidc/authenticate/", timeout=10)
    for prompt, data in (("login", {"login": sub, "password": "x"}), ("consent", {})):
        form = re.search(r'action="([^"]+)"', response.text)
        if not form or f'value="{prompt}"' not in response.text:
            break
        response = session.post(
            urljoin(response.url, form.group(1)), data={"prompt": prompt, **data}, timeout=10
        )
    if home and "/postinumero/" in response.url:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)
        target = re.search(r'name="next" value="([^"]*)"', response.text).group(1)
        response = session.post(
            response.url,
            data={"csrfmiddlewaretoken": token, "next": target, "postal_code": home[0],
                  "language": home[1]},
            headers={"Referer": response.url},
            timeout=10,
        )  # fmt: skip
    return session, response


def logged_in_person(client, n: int, code: str, team: str | None = "etelainen"):
    """A portal person with a home (postal code 00100, Finnish, ``team``; None: no home
    given yet), logged in on Django's test ``client``; ``n`` makes their login unique."""
    from portal.models import Person, User

    user = User.objects.create(uuid=f"00000000-0000-4000-8000-{n:012d}", username=f"u{n}")
    home = {"postal_code": "00100", "language": "fi", "team": team} if team else {}
    person = Person.objects.create(
        user=user, encrypted_identity_code=code, identity_code=code, birth_year=2006, **home
    )
    client.force_login(user)
    return person
