"""``/poista/``: erase everything from the portal's own page (Django's test client).

The page says what goes and that it is final; only a ticked confirmation (with CSRF)
erases, then logs out; a busy workspace erases nothing and says try again (503). The
workspace and persons are those of the GDPR API's tests (``erasable``).
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from flows.privacy import REGISTER, find_traces
from portal.models import ArrivalCount, ConsentRecord, Person
from tests.portal import test_portal_gdpr as gdpr
from tests.portal.test_portal_gdpr import PHONE, STORES, Erasable, workspace_held

# The GDPR API tests' fixtures, shared: the persons and stores, and the environment kept.
erasable = gdpr.erasable
keep_environment = gdpr.keep_environment

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client: Client, erasable: Erasable) -> Client:
    client.force_login(erasable.person.user)
    return client


def test_page_says_what_goes_and_asks_for_confirmation(logged_in: Client) -> None:
    assert 'href="/poista/?lang=' in logged_in.get("/omat-tiedot/").content.decode()
    page = logged_in.get("/poista/?lang=en")
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    what = re.search(r'<ul id="what">(.*?)</ul>', html, re.S).group(1)
    assert what.count("<li>") == 4 and "(2 records)" in what
    assert "cannot be undone" in html
    box = re.search(r'<input type="checkbox" name="confirm"[^>]*>', html).group(0)
    assert "checked" not in box
    assert 'name="csrfmiddlewaretoken"' in html and "<script" not in html.lower()


def test_page_needs_login(client: Client, erasable: Erasable) -> None:
    assert client.get("/poista/").status_code == 302
    assert client.post("/poista/", {"confirm": "yes"}).status_code == 302
    assert Person.objects.filter(pk=erasable.person.pk).exists()


def test_nothing_is_erased_without_the_box_or_the_csrf_token(
    logged_in: Client, erasable: Erasable
) -> None:
    before, records = erasable.digests(), ConsentRecord.objects.count()
    unticked = logged_in.post("/poista/?lang=en", {})
    assert unticked.status_code == 400
    assert 'id="confirm-error"' in unticked.content.decode()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(erasable.person.user)
    assert strict.post("/poista/", {"confirm": "yes"}).status_code == 403
    assert Person.objects.filter(pk=erasable.person.pk).exists()
    assert ConsentRecord.objects.count() == records
    assert erasable.digests() == before


def test_confirmed_erasure_reaches_every_store_and_logs_out(
    logged_in: Client, erasable: Erasable
) -> None:
    person_id = erasable.person.person_id
    assert len(find_traces(erasable.workspace, [person_id])) == len(STORES)
    done = logged_in.post("/poista/?lang=sv", {"confirm": "yes"})
    assert done.status_code == 302 and done["Location"] == "/poistettu/?lang=sv"
    assert not Person.objects.filter(person_id=person_id).exists()
    assert find_traces(erasable.workspace, [person_id]) == []
    assert find_traces(erasable.data_dir, [person_id, PHONE]) == []
    assert ArrivalCount.objects.get(step="erasure").n == 1
    assert erasable.workspace.joinpath(*REGISTER).exists()
    assert Person.objects.filter(pk=erasable.other.pk).exists()
    page = logged_in.get(done["Location"])
    assert page.status_code == 200 and 'id="erased"' in page.content.decode()
    assert logged_in.get("/poista/").status_code == 302  # logged out


def test_a_busy_workspace_erases_nothing_and_says_try_again(
    logged_in: Client, erasable: Erasable
) -> None:
    before = erasable.digests()
    with workspace_held(erasable.workspace):
        busy = logged_in.post("/poista/?lang=en", {"confirm": "yes"})
    assert busy.status_code == 503 and 'id="busy"' in busy.content.decode()
    assert "try again in a moment" in busy.content.decode()
    assert Person.objects.filter(pk=erasable.person.pk).exists()
    assert erasable.digests() == before
