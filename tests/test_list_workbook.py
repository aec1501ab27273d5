"""The translated workbook goes out and comes back: the import reads what the writer wrote."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

from outreach.reviews import read_returned
from outreach.writers import list_frame, write_xlsx


def _rows(n: int) -> pl.DataFrame:
    return list_frame(
        pl.DataFrame(
            [
                {"list_id": "2025-12-01-a", "rank": i, "person_id": f"EN{i:010d}",
                 "name": f"Nuori {i}", "phone": None, "email": None, "language": "fi",
                 "risk_band": "high", "probability": 0.7, "reason_1": "Poissaolot: 3",
                 "reason_2": None, "reason_3": None, "flags": "new",
                 "consent_expires_at": None}
                for i in range(1, n + 1)
            ]
        )
    )  # fmt: skip


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_a_workbook_in_any_team_language_reads_back_row_for_row(tmp_path: Path, lang) -> None:
    """Whatever language the headings are in, the import finds the column keys, reads every
    listed person once (the heading rows are never taken for data) and the decision typed
    into the decision column."""
    path = tmp_path / "l.xlsx"
    write_xlsx(_rows(3), path, title="t", as_of=date(2025, 12, 1), model_version="1", team="a",
               language=lang)  # fmt: skip
    book = load_workbook(path)
    sheet = book["Lista"]
    keys = [c.value for c in sheet[4]]
    sheet.cell(6, keys.index("decision") + 1, "tavoitettu")
    book.save(path)
    back = read_returned(path)
    assert back["person_id"].to_list() == [f"EN{i:010d}" for i in range(1, 4)]
    assert back["list_id"].to_list() == ["2025-12-01-a"] * 3
    assert back["decision"].to_list() == [None, "tavoitettu", None]
    assert back["row"].to_list() == [5, 6, 7]
