"""Bytes and text of an indicator file, with every I/O and decoding failure a SourceError.

The work is done once, in :mod:`features.text` (shared with the partners' extracts): this
module gives the indicator readers the names they use. Statistics offices publish in
UTF-8, UTF-8 with BOM, Latin-1 and Windows-1252; a reader states which legacy encoding
its format may use (``fallback`` of :func:`decode`).
"""

from __future__ import annotations

from features.text import csv_error, ragged_line, read_bytes
from features.text import decode_text as decode

__all__ = ["csv_error", "decode", "ragged_line", "read_bytes"]
