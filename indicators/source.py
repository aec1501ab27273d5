"""Bytes and text of a source file, with every I/O and decoding failure turned into SourceError.

Statistics offices publish in UTF-8, UTF-8 with BOM, Latin-1 and Windows-1252. A reader states
which legacy encoding its format may use (``fallback``); everything else must be UTF-8, so a
mis-encoded file fails here with the line that broke instead of as a bare UnicodeDecodeError.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

from features.errors import SourceError


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """Return the file's bytes (the first ``limit`` of them if given).

    A missing, unreadable or 0-byte file raises SourceError.
    """
    source = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read() if limit is None else handle.read(limit)
    except FileNotFoundError:
        raise SourceError(source, "file not found") from None
    except IsADirectoryError:
        raise SourceError(source, "is a directory, not a file") from None
    except OSError as err:
        raise SourceError(source, f"cannot read the file ({err.strerror or err})") from None
    if not raw:
        raise SourceError(source, "the file is empty (0 bytes)")
    return raw


def decode(
    raw: bytes,
    source: str,
    *,
    encoding: str | None = None,
    fallback: str | None = None,
) -> tuple[str, str]:
    """Decode ``raw`` and return ``(text, encoding_used)`` with newlines normalised to ``\\n``.

    An explicit ``encoding`` is used strictly. Otherwise a BOM or valid UTF-8 wins (legacy
    encodings almost never produce valid UTF-8 once a non-ASCII letter appears), then
    ``fallback`` if the format allows one.
    """
    if encoding is not None:
        name = _codec_name(encoding, source)
        if name == "utf-8" and raw.startswith(codecs.BOM_UTF8):
            name = "utf-8-sig"
        return _strict(raw, source, name), name
    if raw.startswith(codecs.BOM_UTF8):
        return _strict(raw, source, "utf-8-sig"), "utf-8-sig"
    try:
        return _normalise(raw.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        if fallback is None:
            return _strict(raw, source, "utf-8"), "utf-8"  # raises with a located message
    return _strict(raw, source, fallback), fallback


def _codec_name(encoding: str, source: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise SourceError(source, f"unknown encoding {encoding!r}") from None


def _strict(raw: bytes, source: str, encoding: str) -> str:
    try:
        return _normalise(raw.decode(encoding))
    except UnicodeDecodeError as err:
        line_no, line = _locate(raw, err.start, encoding)
        raise SourceError(
            source,
            f"cannot decode the file as {encoding}: byte 0x{raw[err.start]:02x} on line {line_no}",
            examples=[line.strip()],
            hint="Pass the file's real encoding (for example encoding='latin-1') or re-export "
            "it as UTF-8.",
        ) from None


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _locate(raw: bytes, offset: int, encoding: str) -> tuple[int, str]:
    """Return the 1-based line number and the text of the line holding byte ``offset``."""
    before = raw[:offset].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    line_no = before.count(b"\n") + 1
    start = before.rfind(b"\n") + 1
    rest = raw[offset:].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    end = rest.find(b"\n")
    line = before[start:] + (rest[:end] if end >= 0 else rest)
    return line_no, line.decode(encoding, errors="replace")


def ragged_line(text: str, separator: str) -> tuple[int, str] | None:
    """Return the first line (1-based number, text) whose field count differs from the header's.

    Used to turn a CSV parser's "more fields than the schema" into a located message.
    """
    lines = text.split("\n")
    rows = csv.reader(lines, delimiter=separator)
    width = None
    for line_no, row in enumerate(rows, start=1):
        if not row:
            continue
        if width is None:
            width = len(row)
        elif len(row) != width:
            return line_no, separator.join(row)
    return None
