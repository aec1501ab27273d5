"""Consent in a real browser at 320 px: log in, tick scoring, contact and one partner,
save, and read the receipt, all without sideways scrolling or JavaScript of our own."""

from __future__ import annotations

from portal.models import ConsentRecord

WIDTH = 320


def test_consent_at_320_px(chromium: str, portal_url: str, oidc_provider) -> None:
    from playwright.sync_api import sync_playwright

    person = oidc_provider.persons["young"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": WIDTH, "height": 640}, locale="fi-FI")
            page = context.new_page()
            page.goto(f"{portal_url}/oidc/authenticate/")
            page.fill("input[name=login]", person.sub)
            page.fill("input[name=password]", "x")
            page.click("button[type=submit]")
            page.click("button[type=submit]")  # the provider's consent prompt
            page.wait_for_url(f"{portal_url}/omat-tiedot/")

            page.goto(f"{portal_url}/suostumus/?c=jodel")
            assert page.inner_text("h1") == "Suostumuksesi"
            boxes = page.locator("input[type=checkbox]")
            assert boxes.count() == 6
            assert not any(boxes.nth(i).is_checked() for i in range(6))  # none pre-ticked
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
            page.get_by_label("Pisteytys").check()
            page.get_by_label("Yhteydenotto").check()
            page.get_by_label("Ammattiopisto").check()
            page.get_by_role("button", name="Tallenna valintani").click()

            page.wait_for_url(f"{portal_url}/kuitti/**")
            assert page.inner_text("h1") == "Kuitti"
            assert page.inner_text("#saved") == "Valintasi on tallennettu."
            assert "Ammattiopisto: suostumus annettu" in page.inner_text("#changes")
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        finally:
            browser.close()
    given = set(ConsentRecord.objects.values_list("purpose", "channel"))
    assert given == {("scoring", "jodel"), ("contact", "jodel"), ("source:school", "jodel")}
    methods = set(ConsentRecord.objects.values_list("collection_method", flat=True))
    assert methods == {"web-form:oidc-suomi_fi"}  # the login's amr
