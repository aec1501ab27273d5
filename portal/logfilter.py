"""A logging filter on every portal and Django handler: no identifier reaches a log line.

A logged path keeps no query string (the OpenID provider's ``code`` and ``state`` ride in
the callback's), and anything shaped like an identity code, e-mail address, phone number
(``features.errors.scrub``) or one of the portal's ``EN`` pseudonyms is hidden, in the
message, its arguments and its traceback. The record is changed in place, so every
handler after this one (and the root logger's, where records propagate) sees it
redacted.
"""

from __future__ import annotations

import logging
import re

from features.errors import HIDDEN, scrub

# A path (or URL) followed by its query string: the query string goes.
QUERY = re.compile(r"(/[^\s?#\"']*)\?[^\s\"'#]*")
# The portal's pseudonym (portal.models: EN + 10 upper-case hex digits).
PSEUDONYM = re.compile(r"(?<![0-9A-Za-z])EN[0-9A-F]{10}(?![0-9A-Za-z])")


def redact(text: str) -> str:
    """``text`` without query strings, identifier-shaped values or pseudonyms."""
    return PSEUDONYM.sub(HIDDEN, scrub(QUERY.sub(r"\1", text)))


class Redact(logging.Filter):
    """Rewrite each record's message (and traceback) redacted; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken format: keep the template only
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
