"""The portal in a real browser: Playwright driving the system Chromium at 320 px width.

A young person arrives from a Jodel ad, reads the Finnish page without sideways scrolling
and with no cookie set, clicks the login button, logs in at the local OpenID provider
and arrives on their own page, logged in.
"""

from __future__ import annotations

from portal.models import Person
from tests.portal.conftest import PHONE_WIDTH, log_in_at_provider, phone


def test_arrive_at_320_px_and_log_in(
    chromium: str, portal_url: str, oidc_provider, tmp_path
) -> None:
    person = oidc_provider.persons["young"]
    with phone(chromium) as context:
        page = context.new_page()
        page.goto(f"{portal_url}/?c=jodel")
        assert page.inner_text("h1") == "Haluatko, että ohjaaja ottaa sinuun yhteyttä?"
        assert "Ihminen, ei koskaan kone, päättää" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        assert context.cookies() == []  # nothing stored before login
        page.screenshot(path=str(tmp_path / "arrival-320.png"), full_page=True)

        page.get_by_role("link", name="Kirjaudu Suomi.fi:llä").click()
        log_in_at_provider(page, portal_url, person.sub)
        assert page.inner_text("#logged-in") == "Olet kirjautunut sisään."
        assert page.inner_text("#code") == person.code[:7] + "****"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        assert {c["name"] for c in context.cookies()} >= {"sessionid"}
    assert Person.objects.count() == 1
