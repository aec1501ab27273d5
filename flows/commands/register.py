"""``ennakko register``: the entry for a public algorithm register, from the runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.commands.common import DEFAULT_CONFIG, Config, load, out, prepare, user_errors

PLACEHOLDER_CONTACT = "algorithm-register@example.invalid"


@user_errors
def register(
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the files (default: <workspace>/reports/register)."),
    ] = None,
    config: Config = DEFAULT_CONFIG,
    contact: Annotated[
        str,
        typer.Option(
            help="Public contact address printed in the entry (set it before publishing)."
        ),
    ] = PLACEHOLDER_CONTACT,
) -> None:
    """Write the algorithm register entry (Finnish, Swedish, English; Markdown, JSON, HTML).

    The fields follow the Dutch algorithm register standard v0.3.1; every figure names the
    MLflow run or audit entry it was read from. A draft fundamental-rights impact
    assessment (EU AI Act Art. 27) is included, its open questions marked for the lawyers.
    """
    import json

    from flows.context import start
    from flows.register import gather
    from outreach.register_entry import build, markdown, page
    from outreach.register_text import LANGS

    settings = prepare(load(config))
    ctx = start(str(config), None, "register", settings=settings)
    facts = gather(ctx, contact)
    folder = (out_dir or ctx.ws.path("reports", "register")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    entries = {lang: build(facts, lang) for lang in LANGS}
    for lang, entry in entries.items():
        ctx.ws.write_text(
            folder / f"register.{lang}.json", json.dumps(entry, ensure_ascii=False, indent=2) + "\n"
        )
        ctx.ws.write_text(folder / f"register.{lang}.md", markdown(entry, facts.min_cell))
    ctx.ws.write_text(folder / "register.html", page(entries, facts.min_cell))
    if contact == PLACEHOLDER_CONTACT:
        out.print("Note: the contact address is a placeholder; give --contact before publishing.")
    out.print(f"Wrote the register entry (model version {facts.model_version}) to {folder}")
