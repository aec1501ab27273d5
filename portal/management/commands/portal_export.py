"""``manage.py portal_export [--out DIR]``: the portal's consents for the nightly job.

Writes ``<DIR>/consents/portal.parquet`` (default DIR: Ennakko's ``data_dir``) through
``portal.exports.export_consents``, and ``<DIR>/contact_requests.parquet`` and
``<DIR>/contacts/portal.parquet`` through ``export_contacts``; prints counts and paths
only, never a person.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Write the portal's consents where the nightly job reads them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", help="data folder (default: Ennakko's data_dir)")

    def handle(self, *args, **options) -> None:
        from portal.exports import ExportRefusedError, export_consents, export_contacts

        out = options["out"] or settings.ENNAKKO.data_dir
        try:
            done = export_consents(out)
            requests, contacts = export_contacts(out)
        except (ExportRefusedError, OSError) as exc:
            raise CommandError(f"export refused: {exc}") from None
        self.stdout.write(
            f"{done.path}: {done.rows} rows, {done.persons} persons"
            f" ({done.left_out} left out: no postal code, language or team yet)"
        )
        self.stdout.write(f"{requests} and {contacts} written")
