"""Write one team's list for people (XLSX) and for machines (CSV, Parquet).

Every row asks for a decision. The XLSX speaks the team's language (Finnish or Swedish,
English optional; words from :mod:`outreach.labels`), says in every page header that the
list supports the counsellor's judgement and decides nothing, and prints: A4 landscape,
one page wide, headings repeated, rows tall enough for their text, the technical columns
after the print area. Text a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is neutralised: written as a text cell
with Excel's quote prefix in XLSX, prefixed with an apostrophe in CSV (OWASP's advice for
files that may be opened in a spreadsheet). CSV and Parquet are byte-identical for
identical inputs and keep the code values (bands, flags) machines read.

Persons who asked in the portal to be contacted come first, ``section`` "asked" (rank 0,
no risk): the workbook prints them under a heading of their own, then the ranked rows
under theirs; CSV and Parquet say it in the ``section`` column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from outreach import labels
from outreach.assemble import FLAGS, rest_days
from outreach.decisions import DECISIONS
from outreach.labels import LANGS
from outreach.reasons import context_text
from outreach.spec import OutreachSpec

STATEMENT = labels.STATEMENT
FLAG_LEGEND = {f: tuple(labels.FLAGS[f][lang] for lang in LANGS) for f in FLAGS}
RISK_BANDS = {b: tuple(words[lang] for lang in LANGS) for b, words in labels.BANDS.items()}
COLUMNS = (
    "list_id", "rank", "section", "person_id", "name", "phone", "email", "language", "risk_band",
    "probability", "reason_1", "reason_2", "reason_3", "age_band", "home_area", "flags",
    "consent_expires_at", "decision", "comment", "decided_at", "counsellor",
)  # fmt: skip
# The workbook's columns: what a counsellor reads and fills in first, printed on one page
# width (name and rank frozen); the technical columns after them, outside the print area.
SHEET_COLUMNS = (
    ("rank", 4), ("name", 16), ("contact", 25), ("language", 8), ("risk", 12),
    ("reasons", 58), ("context", 15), ("flags", 18), ("decision", 16), ("comment", 18),
    ("decided_at", 11), ("counsellor", 10),
)  # fmt: skip
TECHNICAL_COLUMNS = (("person_id", 15), ("list_id", 22), ("probability", 12), ("risk_band", 10))
HEADER_ROW, KEY_ROW = 2, 3  # zero-based: plain headings, then the keys the import reads
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
    optional = {"age_band": pl.String, "home_area": pl.String, "section": pl.String}
    out = rows.with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in optional.items() if c not in rows.columns]
    ).with_columns(
        pl.col("probability").round(3),
        pl.col("section").fill_null("ranked"),
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


def _lines(*parts: str | None) -> str | None:
    return "\n".join(p for p in parts if p) or None


def sheet_cells(row: dict, lang: str) -> dict[str, object]:
    """One list row as the workbook shows it, in the team's language ``lang``."""
    percent = labels.tr(labels.TEXT["percent"], lang, n=round(100 * (row["probability"] or 0)))
    band = labels.tr(labels.BANDS.get(row["risk_band"], {"en": str(row["risk_band"])}), lang)
    expires = row.get("consent_expires_at")
    flag_words = []
    for flag in (f for f in (row.get("flags") or "").split(",") if f):
        word = labels.tr(labels.FLAGS_SHORT.get(flag, {"en": flag}), lang)
        if flag == "consent_expiring" and expires is not None:
            word = labels.tr(labels.TEXT["consent_until"], lang, flag=word, date=_fi_date(expires))
        flag_words.append(word)
    language = row.get("language")
    asked = row.get("section") == "asked"
    if asked:  # not scored: no rank, no risk
        risk: str | None = labels.tr(labels.ASKED["risk"], lang)
    else:
        risk = labels.tr(labels.TEXT["risk"], lang, band=band, percent=percent)
    return {
        "rank": None if asked else row["rank"],
        "name": row.get("name"),
        "contact": _lines(row.get("phone"), row.get("email")),
        "language": labels.tr(labels.LANGUAGE_NAMES[language], lang)
        if language in labels.LANGUAGE_NAMES
        else language,
        "risk": risk,
        "reasons": _lines(*(row.get(f"reason_{k}") for k in (1, 2, 3))),
        "context": context_text(row.get("age_band"), row.get("home_area"), lang),
        "flags": ", ".join(flag_words) or None,
        "decision": row.get("decision"),
        "comment": row.get("comment"),
        "decided_at": row.get("decided_at"),
        "counsellor": row.get("counsellor"),
        "person_id": row["person_id"],
        "list_id": row["list_id"],
        "probability": row["probability"],
        "risk_band": row["risk_band"],
    }


def _fi_date(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


def wrapped_lines(text: str, width: int) -> int:
    """Lines ``text`` takes in a column ``width`` characters wide, wrapped at spaces."""
    total = 0
    for paragraph in text.split("\n"):
        lines, used = 1, 0
        for word in paragraph.split():
            need = len(word) if used == 0 else used + 1 + len(word)
            if need <= width or used == 0:
                used = need
                while used > width:  # a word longer than the column breaks anywhere
                    lines, used = lines + 1, used - width
            else:
                lines, used = lines + 1, len(word)
        total += lines
    return total


def row_height(cells: dict[str, object], widths: dict[str, int], line_pt: float = 12.6) -> float:
    """Points a row needs so every wrapped cell shows all its lines of 10-point text (a
    column unit holds about 1.2 such characters)."""
    most = 1
    for key, value in cells.items():
        if isinstance(value, str) and key in widths:
            most = max(most, wrapped_lines(value, int(widths[key] * 1.2) - 1))
    return round(most * line_pt + 3, 1)


def _header_text(text: str) -> str:
    """Page header/footer text with Excel's ``&`` codes escaped."""
    return text.replace("&", "&&")


def write_xlsx(
    frame: pl.DataFrame,
    path: Path,
    *,
    title: str,
    as_of: date,
    model_version: str,
    team: str,
    language: str = "fi",
    days_off: Mapping[str, int] | None = None,
) -> None:
    """The counsellor's workbook in the team's ``language``, made to be printed.

    Plain headings over a row of column keys (the import reads the keys, so a heading may
    be translated), rank and name frozen, one page wide in A4 landscape with the headings
    on every page and the statement that the list decides nothing in every page header,
    rows tall enough for their text, a drop-down of decisions in the team's language, a
    note when low-band persons fill places, and a guide sheet.
    """
    lang = language if language in LANGS else "fi"
    workbook = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False}
    )
    workbook.set_properties(
        {"title": title, "created": datetime(as_of.year, as_of.month, as_of.day)}
    )
    base = {"font_size": 10, "valign": "top"}
    head = workbook.add_format(
        {**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}
    )
    keyfmt = workbook.add_format({"font_size": 7, "font_color": "#808080", "italic": True})
    note = workbook.add_format({"bold": True, "font_size": 12})
    lownote = workbook.add_format({**base, "text_wrap": True, "bg_color": "#FFF2CC"})
    cell = workbook.add_format({**base, "text_wrap": True, "border": 1, "border_color": "#BFBFBF"})
    quoted = workbook.add_format({**base, "text_wrap": True, "border": 1,
                                  "border_color": "#BFBFBF", "quote_prefix": True})  # fmt: skip
    dated = workbook.add_format({**base, "border": 1, "border_color": "#BFBFBF",
                                 "num_format": "dd.mm.yyyy"})  # fmt: skip
    sheet = workbook.add_worksheet("Lista")
    columns = (*SHEET_COLUMNS, *TECHNICAL_COLUMNS)
    widths = dict(columns)
    position = {key: c for c, (key, _) in enumerate(columns)}
    statement = labels.STATEMENT[lang]
    sheet.write_string(0, 0, statement, note)
    sheet.write_string(1, 0, labels.tr(labels.TEXT["title"], lang, title=title, team=team,
                                       date=_fi_date(as_of), model=model_version))  # fmt: skip
    if frame.height and (frame["risk_band"] == "low").any():
        first, last_col = position["reasons"], len(SHEET_COLUMNS) - 1
        sheet.merge_range(1, first, 1, last_col, labels.TEXT["low_note"][lang], lownote)
        sheet.set_row(1, 30)
    for col, (key, width) in enumerate(columns):
        sheet.write_string(HEADER_ROW, col, labels.tr(labels.HEADERS[key], lang), head)
        sheet.write_string(KEY_ROW, col, key, keyfmt)
        sheet.set_column(col, col, width)
    sheet.set_row(HEADER_ROW, 28)
    sheet.set_row(KEY_ROW, 10)
    section = workbook.add_format({**base, "bold": True, "font_size": 11, "text_wrap": True,
                                   "bg_color": "#E2EFDA", "border": 1})  # fmt: skip
    formats = {"cell": cell, "quoted": quoted, "dated": dated, "section": section}
    last = max(_write_rows(sheet, frame, lang, position, widths, formats), KEY_ROW + 1)
    _decision_inputs(sheet, lang, position, last)
    sheet.freeze_panes(KEY_ROW + 1, position["name"] + 1)
    sheet.autofilter(KEY_ROW, 0, last, len(columns) - 1)
    _print_setup(sheet, statement, lang, last)
    _legend(workbook, head, workbook.add_format({"text_wrap": True, "valign": "top"}), lang,
            days_off)  # fmt: skip
    workbook.close()


def _write_rows(
    sheet,
    frame: pl.DataFrame,
    lang: str,
    position: dict[str, int],
    widths: dict[str, int],
    formats: dict[str, object],
) -> int:
    """One sheet row per list row, each cell written as its type, rows tall enough; when
    some persons asked to be contacted, a heading over their rows and one over the ranked
    rows. Returns the last sheet row written."""
    cell, quoted, dated = formats["cell"], formats["quoted"], formats["dated"]
    sections = frame["section"].to_list() if "section" in frame.columns else []
    headed = "asked" in sections
    r, current = KEY_ROW, None
    for row in frame.iter_rows(named=True):
        r += 1
        if headed and row.get("section") != current:
            current = row.get("section")
            key = "heading" if current == "asked" else "ranked_heading"
            sheet.merge_range(r, 0, r, len(SHEET_COLUMNS) - 1,
                              labels.tr(labels.ASKED[key], lang), formats["section"])  # fmt: skip
            sheet.set_row(r, 20)
            r += 1
        cells = sheet_cells(row, lang)
        for key, value in cells.items():
            c = position[key]
            if value is None:
                sheet.write_blank(r, c, None, cell)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, c, value, cell)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), dated)
            else:
                # A formula-like text keeps its characters and gets Excel's quote prefix
                # (the cell is text, shown as written, and stays text when edited).
                text = str(value)
                sheet.write_string(r, c, text, quoted if text.startswith(DANGEROUS) else cell)
        sheet.set_row(r, row_height(cells, widths))
    return r


def _decision_inputs(sheet, lang: str, position: dict[str, int], last: int) -> None:
    """A drop-down of the decisions in ``lang`` and a date check, below the key row."""
    choices = [words[lang] for words in DECISIONS.values()]
    decision_col = position["decision"]
    sheet.data_validation(
        KEY_ROW + 1, decision_col, last + 200, decision_col,
        {"validate": "list", "source": choices, "error_type": "stop",
         "error_message": labels.tr(labels.TEXT["choose"], lang, choices=", ".join(choices))},
    )  # fmt: skip
    date_col = position["decided_at"]
    sheet.data_validation(
        KEY_ROW + 1, date_col, last + 200, date_col,
        {"validate": "date", "criteria": ">", "value": datetime(2000, 1, 1),
         "input_title": labels.HEADERS["decided_at"][lang], "error_type": "warning"},
    )  # fmt: skip


def _print_setup(sheet, statement: str, lang: str, last: int) -> None:
    """A4 landscape, one page wide, headings repeated, the statement on every page."""
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.set_margins(left=0.3, right=0.3, top=0.6, bottom=0.4)
    sheet.set_header(
        f'&L&"-,Bold"&11{_header_text(statement)}&R{labels.TEXT["page"][lang]}', {"margin": 0.2}
    )
    sheet.print_area(0, 0, last, len(SHEET_COLUMNS) - 1)
    sheet.repeat_rows(HEADER_ROW, KEY_ROW)
    sheet.fit_to_pages(1, 0)
    sheet.hide_gridlines(0)


def _legend(
    workbook: xlsxwriter.Workbook, bold, wrap, lang: str, days_off: Mapping[str, int] | None
) -> None:
    sheet = workbook.add_worksheet("Ohje - Guide")
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 3, 55, wrap)
    sheet.set_column(4, 4, 55, wrap)
    days_off = days_off if days_off is not None else rest_days(OutreachSpec())
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 1)
    sheet.set_header(f'&L&"-,Bold"&11{_header_text(labels.STATEMENT[lang])}')
    order = (lang, *(x for x in LANGS if x != lang))
    row = 0
    for x in order:
        sheet.write_string(row, 0, x, bold)
        sheet.write_string(row, 1, labels.STATEMENT[x])
        row += 1
    row += 1
    sheet.write_string(row, 0, labels.HEADERS["reasons"][lang], bold)
    sheet.write_string(row, 1, labels.TEXT["guide_reasons"][lang])
    row += 2
    sheet.write_string(row, 0, labels.TEXT["guide_flags"][lang], bold)
    for col, x in enumerate(order, start=1):
        sheet.write_string(row, col, labels.LANGUAGE_NAMES[x][x], bold)
    for flag in FLAGS:
        row += 1
        sheet.write_string(row, 0, flag)
        for col, x in enumerate(order, start=1):
            sheet.write_string(row, col, labels.FLAGS[flag][x])
    row += 2
    sheet.write_string(row, 0, labels.TEXT["guide_decisions"][lang], bold)
    for code, words in DECISIONS.items():
        row += 1
        sheet.write_string(row, 0, code)
        for col, x in enumerate(order, start=1):
            sheet.write_string(row, col, words[x])
        effect = labels.TEXT[f"effect_{code}"]  # what the decision does to the next lists
        sheet.write_string(row, 4, labels.tr(effect, lang, days=days_off[code]))
    row += 2
    sheet.write_string(row, 0, labels.TEXT["guide_bands"][lang], bold)
    for band, words in labels.BANDS.items():
        row += 1
        sheet.write_string(row, 0, band)
        for col, x in enumerate(order, start=1):
            sheet.write_string(row, col, words[x])


def write_team_files(
    frame: pl.DataFrame,
    folder: Path,
    stem: str,
    *,
    title: str,
    as_of: date,
    model_version: str,
    team: str,
    language: str = "fi",
    days_off: Mapping[str, int] | None = None,
) -> Sequence[Path]:
    """Write ``<stem>.xlsx``, ``.csv`` and ``.parquet`` into ``folder``; return the paths.

    ``days_off``: days each decision keeps a person off the lists (outreach.assemble.
    rest_days), told on the guide sheet; the defaults when None."""
    paths = [folder / f"{stem}.{ext}" for ext in ("xlsx", "csv", "parquet")]
    write_xlsx(frame, paths[0], title=title, as_of=as_of, model_version=model_version,
               team=team, language=language, days_off=days_off)  # fmt: skip
    write_csv(frame, paths[1])
    write_parquet(frame, paths[2])
    return paths
