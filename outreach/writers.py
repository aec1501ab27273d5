"""Write one team's list for people (XLSX) and for machines (CSV, Parquet).

Every row asks for a decision. The XLSX opens with the statement that the list supports
the counsellor's judgement and decides nothing, freezes the header, sizes columns to be
read, offers the decision as a drop-down, and carries a legend of the flags in Finnish,
Swedish and English. Text a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is neutralised: written as a text cell
with Excel's quote prefix in XLSX, prefixed with an apostrophe in CSV (OWASP's advice for
files that may be opened in a spreadsheet). CSV and Parquet are byte-identical for identical inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from outreach.assemble import FLAGS

STATEMENT = {
    "fi": "Lista tukee ohjaajan harkintaa; se ei tee päätöksiä.",
    "sv": "Listan stöder handledarens bedömning; den fattar inga beslut.",
    "en": "This list supports the counsellor's judgement; it decides nothing.",
}
DECISION_LABELS = {
    "contacted": "contacted",
    "not reached": "not_reached",
    "declined": "declined",
    "not appropriate": "not_appropriate",
    "already helped elsewhere": "helped_elsewhere",
}
FLAG_LEGEND = {
    "new": ("Uusi listalla", "Ny på listan", "New on the list"),
    "score_change": ("Riski muuttunut paljon edellisestä", "Risken har ändrats mycket sedan sist",
                     "Risk changed a lot since the last run"),
    "near_cutoff": ("Lähellä listan rajaa", "Nära listans gräns", "Close to the list's cut-off"),
    "stale_data": ("Tiedot puutteelliset tai vanhoja", "Uppgifterna är ofullständiga eller gamla",
                   "Data incomplete or out of date"),
    "consent_expiring": ("Suostumus päättymässä: kysy uusimisesta",
                         "Samtycket går snart ut: fråga om förnyelse",
                         "Consent expiring soon: ask about renewal"),
    "drift": ("Aineisto poikkeaa mallin opetusaineistosta tänä yönä",
              "Materialet avviker i natt från modellens träningsmaterial",
              "Tonight's data differs from the model's training data"),
    "declined_before": ("Kieltäytynyt aiemmin", "Har tackat nej tidigare", "Declined before"),
}  # fmt: skip
RISK_BANDS = {
    "high": ("korkea", "hög", "high"),
    "medium": ("kohtalainen", "måttlig", "medium"),
    "low": ("matala", "låg", "low"),
}
COLUMNS = (
    "list_id", "rank", "person_id", "name", "phone", "email", "language", "risk_band",
    "probability", "reason_1", "reason_2", "reason_3", "flags", "consent_expires_at",
    "decision", "comment", "decided_at", "counsellor",
)  # fmt: skip
WIDTHS = {
    "list_id": 22, "rank": 6, "person_id": 15, "name": 24, "phone": 17, "email": 30,
    "language": 9, "risk_band": 10, "probability": 11, "reason_1": 48, "reason_2": 48,
    "reason_3": 48, "flags": 30, "consent_expires_at": 14, "decision": 24, "comment": 36,
    "decided_at": 12, "counsellor": 16,
}  # fmt: skip
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str | None) -> str | None:
    """Prefix text a spreadsheet would run as a formula with an apostrophe."""
    if value and value.startswith(DANGEROUS):
        return "'" + value
    return value


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Neutralise every text column (vectorised)."""
    pattern = r"^[=+\-@\t\r]"
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(pattern))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c, dtype in frame.schema.items()
        if dtype == pl.String
    )


def list_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """The published columns, in order, with empty decision columns for the counsellor."""
    out = rows.with_columns(
        pl.col("probability").round(3),
        pl.lit(None, dtype=pl.String).alias("decision"),
        pl.lit(None, dtype=pl.String).alias("comment"),
        pl.lit(None, dtype=pl.Date).alias("decided_at"),
        pl.lit(None, dtype=pl.String).alias("counsellor"),
    )
    return out.select(COLUMNS)


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    neutralise_frame(frame).write_csv(path, date_format="%Y-%m-%d", float_precision=3)


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    frame.write_parquet(path, statistics=False, compression="zstd")


def write_xlsx(
    frame: pl.DataFrame,
    path: Path,
    *,
    title: str,
    as_of: date,
    model_version: str,
    team: str,
) -> None:
    """The counsellor's workbook: statement, the list, a drop-down per decision, a legend."""
    workbook = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False}
    )
    workbook.set_properties(
        {"title": title, "created": datetime(as_of.year, as_of.month, as_of.day)}
    )
    bold = workbook.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}
    )
    note = workbook.add_format({"bold": True, "font_size": 12})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    sheet = workbook.add_worksheet("Lista")
    sheet.write_string(0, 0, " / ".join(STATEMENT.values()), note)
    sheet.write_string(1, 0, f"{title} · {team} · {as_of.isoformat()} · model {model_version}")
    header_row = 3
    for col, name in enumerate(COLUMNS):
        sheet.write_string(header_row, col, name, bold)
        sheet.set_column(
            col, col, WIDTHS.get(name, 14), wrap if name.startswith("reason") else None
        )
    # In the workbook a formula-like text keeps its characters and gets Excel's quote prefix
    # (the cell is text, shown as written, and stays text when edited).
    quoted = workbook.add_format({"quote_prefix": True})
    for r, row in enumerate(frame.iter_rows(), start=header_row + 1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            else:
                text = str(value)
                sheet.write_string(r, c, text, quoted if text.startswith(DANGEROUS) else None)
    last = header_row + max(frame.height, 1)
    decision_col = COLUMNS.index("decision")
    sheet.data_validation(
        header_row + 1, decision_col, last + 200, decision_col,
        {"validate": "list", "source": list(DECISION_LABELS), "error_type": "stop",
         "error_message": "Choose one of: " + ", ".join(DECISION_LABELS)},
    )  # fmt: skip
    date_col = COLUMNS.index("decided_at")
    sheet.data_validation(
        header_row + 1, date_col, last + 200, date_col,
        {"validate": "date", "criteria": ">", "value": datetime(2000, 1, 1),
         "input_title": "dd.mm.yyyy", "error_type": "warning"},
    )  # fmt: skip
    sheet.freeze_panes(header_row + 1, 3)
    sheet.autofilter(header_row, 0, last, len(COLUMNS) - 1)
    _legend(workbook, bold, wrap)
    workbook.close()


def _legend(workbook: xlsxwriter.Workbook, bold, wrap) -> None:
    sheet = workbook.add_worksheet("Ohje - Guide")
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 3, 55, wrap)
    row = 0
    for lang, text in STATEMENT.items():
        sheet.write_string(row, 0, lang, bold)
        sheet.write_string(row, 1, text)
        row += 1
    row += 1
    for col, name in enumerate(("flag", "suomi", "svenska", "English")):
        sheet.write_string(row, col, name, bold)
    for flag in FLAGS:
        row += 1
        sheet.write_string(row, 0, flag)
        for col, text in enumerate(FLAG_LEGEND[flag], start=1):
            sheet.write_string(row, col, text)
    row += 2
    sheet.write_string(row, 0, "decision", bold)
    sheet.write_string(
        row, 1, "Fill in one per row / Yksi päätös jokaiselle riville / Ett beslut per rad", bold
    )
    for label in DECISION_LABELS:
        row += 1
        sheet.write_string(row, 1, label)
    row += 2
    sheet.write_string(row, 0, "risk_band", bold)
    for band, words in RISK_BANDS.items():
        row += 1
        sheet.write_string(row, 0, band)
        for col, text in enumerate(words, start=1):
            sheet.write_string(row, col, text)


def write_team_files(
    frame: pl.DataFrame,
    folder: Path,
    stem: str,
    *,
    title: str,
    as_of: date,
    model_version: str,
    team: str,
) -> Sequence[Path]:
    """Write ``<stem>.xlsx``, ``.csv`` and ``.parquet`` into ``folder``; return the paths."""
    paths = [folder / f"{stem}.{ext}" for ext in ("xlsx", "csv", "parquet")]
    write_xlsx(frame, paths[0], title=title, as_of=as_of, model_version=model_version, team=team)
    write_csv(frame, paths[1])
    write_parquet(frame, paths[2])
    return paths
