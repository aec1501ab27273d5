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


def _twenty_rows():
    """A 20-person Swedish-team list with the longest texts the lists produce."""
    from datetime import date

    import polars as pl

    from outreach.writers import list_frame

    reasons = (
        "Handledningsminuter på Navigatorn under hela uppföljningen: 660 (vanligen 45)",
        "Avlagda kompetenspoäng under hela uppföljningen: bara 12 (vanligen 24)",
        "Kontakt med uppsökande ungdomsarbete: inga uppgifter på 8 månader",
    )
    rows = [
        {"list_id": "2025-12-01-lantinen", "rank": i, "person_id": f"EN{i:010d}",
         "name": f"Henrietta-Josefiina{i:02d} Wahlström-Kärkkäinen", "phone": f"+358 40 {i:07d}",
         "email": f"henrietta.wahlstrom.karkkainen{i}@example.org", "language": "sv",
         "risk_band": "medium" if i < 18 else "low", "probability": 0.5 - i / 100,
         "reason_1": reasons[0], "reason_2": reasons[1], "reason_3": reasons[2],
         "age_band": "21–24", "home_area": "00420",
         "flags": "new,near_cutoff,stale_data,consent_expiring",
         "consent_expires_at": date(2025, 12, 20)}
        for i in range(1, 21)
    ]  # fmt: skip
    return list_frame(pl.DataFrame(rows))


def test_a_twenty_person_list_prints_on_two_a4_landscape_pages_with_name_and_decision(
    soffice: str, tmp_path: Path
) -> None:
    """Converted by LibreOffice, a 20-row list with the longest texts prints on at most two
    A4 landscape pages; every page of the list carries the statement, the headings of the
    name and decision columns, and every person's name is printed (read from the PDF's
    text, as a counsellor would see it)."""
    import shutil
    from datetime import date

    from outreach.labels import HEADERS, STATEMENT
    from outreach.writers import write_xlsx

    for tool in ("pdftotext", "pdfinfo"):
        if not shutil.which(tool):
            from tests.conftest import unavailable

            raise unavailable(f"{tool} is not installed (apt-get install poppler-utils)")
    workbook = tmp_path / "2025-12-01-lantinen.xlsx"
    write_xlsx(_twenty_rows(), workbook, title="Ennakko · Helsinki", as_of=date(2025, 12, 1),
               model_version="7", team="lantinen", language="sv")  # fmt: skip
    result = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(workbook)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    pdf = workbook.with_suffix(".pdf")
    assert result.returncode == 0 and pdf.exists(), result.stderr
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    size = next(line for line in info.stdout.splitlines() if line.startswith("Page size"))
    width, height = (float(x) for x in size.split(":")[1].split("pts")[0].split(" x "))
    assert (round(width), round(height)) == (842, 595), size  # A4 landscape
    pages = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    listed = [p for p in pages if "Wahlström-Kärkkäinen" in p]
    assert 1 <= len(listed) <= 2, f"{len(listed)} pages of the list"
    for page in listed:
        flat = " ".join(page.split())
        assert STATEMENT["sv"] in flat
        assert HEADERS["name"]["sv"] in flat and HEADERS["decision"]["sv"] in flat
    names = " ".join(listed)
    assert all(f"Henrietta-Josefiina{i:02d}" in names for i in range(1, 21))
    assert "Listan har unga med låg risk" in " ".join(listed[0].split())


def test_the_mlflow_ui_opens_the_training_run_in_the_model_training_view(
    chromium: str, published, tmp_path: Path
) -> None:
    """The address Ennakko prints opens MLflow's UI on the training run, named for what
    it is, in the model-training view (not the GenAI overview with its trace tools)."""
    import socket
    import sys
    import time

    from playwright.sync_api import sync_playwright

    summary, settings, _, _ = published
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true",
           "PATH": str(Path(sys.executable).parent)}  # fmt: skip
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "ui", "--backend-store-uri",
         settings.mlflow_uri, "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{port}{summary['trained']['ui_path']}")
            page.get_by_text("Model training").first.wait_for(timeout=60_000)
            page.get_by_text("train 2025-12-01 v1").first.wait_for(timeout=60_000)
            text = page.inner_text("body")
            page.screenshot(path=str(tmp_path / "mlflow.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Detect Issues" not in text and "Traces\n0" not in text
    assert "pooled_roc_auc" in text or "Metrics" in text
