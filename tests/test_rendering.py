"""What people open renders: the training report in a browser, the list workbook in LibreOffice.

Both tools come from Debian's packages, not from the locked Python dependencies. Where one
is missing, its test skips with one line naming it (the ``chromium`` and ``soffice``
fixtures of tests/conftest.py), before the nightly run it needs is built; in CI (``CI``
set; .ci/run installs both) a missing tool fails the test instead.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import mlflow
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("prefect")]


def test_the_html_report_renders_in_headless_chromium_without_errors(
    chromium: str, published, tmp_path: Path
) -> None:
    """The training report opens in headless Chromium with no console error or failed
    request, shows its three figures, and has the points-table and fairness sections."""
    from playwright.sync_api import sync_playwright

    summary, settings, _, _ = published
    run_id = summary["trained"]["run_id"]
    report = Path(mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="report/report.html", tracking_uri=settings.mlflow_uri, dst_path=str(tmp_path)
    ))  # fmt: skip
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        title = page.title()
        headings = page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert errors == []
    assert "Ennakko training report" in title
    assert len(images) == 3 and all(w > 100 for w in images)
    assert any("points table" in h for h in headings) and any("fairness" in h for h in headings)
    assert shot.stat().st_size > 50_000


def test_the_list_workbook_converts_to_pdf_in_libreoffice(
    soffice: str, published, tmp_path: Path
) -> None:
    """A published list workbook converts to a PDF in headless LibreOffice: a file a
    spreadsheet program opens and prints."""
    _, settings, _, _ = published
    workbook = sorted((settings.workspace / "lists" / "2025-12-01").glob("*.xlsx"))[0]
    result = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(workbook)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    pdf = tmp_path / workbook.with_suffix(".pdf").name
    assert result.returncode == 0, result.stderr
    assert pdf.exists() and pdf.stat().st_size > 5_000
    assert pdf.read_bytes().startswith(b"%PDF")
