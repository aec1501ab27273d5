"""Patterns for labels that become file names, feature names and audit text.

A team name from the consent register names list files (``lists/<D>/<D>-<team>.xlsx``),
list ids and audit entries; a partner's name names a folder (``events/<name>``) and
features. Checked at the boundary, where they enter (the consents contract, the
configuration), they cannot carry a path separator, a control character, an over-long
name or a personal identifier into a file name or the append-only audit log.

Plain regular expressions, no heavy imports: the configuration loader uses them too.
"""

from __future__ import annotations

# After trimming, Unicode NFC and lower-casing (the consents contract does all three): a
# letter, then up to 39 letters, digits, _ or -. Starting with a letter keeps identity
# codes and phone numbers out; without @ and . no e-mail address fits.
TEAM = r"^[a-zåäö][a-zåäö0-9_-]{0,39}$"
TEAM_RULE = "1-40 letters (a-z, å, ä, ö), digits, _ or -, starting with a letter"
# Partner names and event types (configuration only).
NAME = r"^[a-z][a-z0-9_]{0,39}$"
NAME_RULE = "1-40 lower-case letters a-z, digits or _, starting with a letter"
# Finnish postal codes: exactly five digits (a spreadsheet's lost leading zeros restored).
POSTAL_CODE = r"^\d{5}$"
