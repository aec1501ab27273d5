"""The portal in a real browser: Playwright driving the system Chromium at 320 px width.

A young person arrives from a Jodel ad, reads the Finnish page without sideways scrolling
and with no cookie set, clicks the login button, logs in at the local OpenID provider
and arrives on their own page, logged in.
"""

from __future__ import annotations

from portal.models import Person

WIDTH = 320


def test_arrive_at_320_px_and_log_in(chromium: str, portal_url: str, oidc_provider) -> None:
    from playwright.sync_api import sync_playwright

    person = oidc_provider.persons["young"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": WIDTH, "height": 640}, locale="fi-FI")
            page = context.new_page()
            page.goto(f"{portal_url}/?c=jodel")
            assert page.inner_text("h1") == "Haluatko, että ohjaaja ottaa sinuun yhteyttä?"
            assert "Ihminen, ei koskaan kone, päättää" in page.inner_text("main")
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
            assert context.cookies() == []  # nothing stored before login

            page.get_by_role("link", name="Kirjaudu Suomi.fi:llä").click()
            # The provider's development forms stand in for Suomi.fi.
            page.fill("input[name=login]", person.sub)
            page.fill("input[name=password]", "x")
            page.click("button[type=submit]")
            page.click("button[type=submit]")  # the provider's consent prompt
            page.wait_for_url(f"{portal_url}/omat-tiedot/")
            assert page.inner_text("#logged-in") == "Olet kirjautunut sisään."
            assert page.inner_text("#code") == person.code[:7] + "****"
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
            assert {c["name"] for c in context.cookies()} >= {"sessionid"}
        finally:
            browser.close()
    assert Person.objects.count() == 1
