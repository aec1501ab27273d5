"""``manage.py portal_export [--out DIR]``: the portal's consents for the nightly job.

Writes ``<DIR>/consents/portal.parquet`` (default DIR: Ennakko's ``data_dir``) through
``portal.exports.export_consents``; prints counts only, never a person.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Write the portal's consents where the nightly job reads them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", help="data folder (default: Ennakko's data_dir)")

    def handle(self, *args, **options) -> None:
        from portal.exports import ExportRefusedError, export_consents

        out = options["out"] or settings.ENNAKKO.data_dir
        try:
            done = export_consents(out)
        except (ExportRefusedError, OSError) as exc:
            raise CommandError(f"export refused: {exc}") from None
        self.stdout.write(
            f"{done.path}: {done.rows} rows, {done.persons} persons"
            f" ({done.left_out} left out: no postal code, language or team yet)"
        )
