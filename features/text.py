"""Text of a file as sent: decoding, the line of an undecodable byte, separator sniffing.

One module for every reader of text files. Two kinds of file arrive:

* **partners' extracts** (:func:`decode_extract`, used by :mod:`features.readers`):
  ``auto`` takes UTF-8 (BOM or not), else Windows-1252, and refuses a file mixing the two;
  examples of a broken row never show a pseudonym or an identifier
  (:func:`features.describe.describe_row`);
* **public statistics** (:func:`decode_text`, used by :mod:`indicators`): a reader states
  which legacy encoding its format may use (``fallback``); everything else must be UTF-8,
  so a mis-encoded file fails with the line that broke instead of a bare
  UnicodeDecodeError.

Every failure is a :class:`~features.errors.SourceError` naming the file.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Sequence
from pathlib import Path

from features.describe import describe_row
from features.errors import SourceError

SEPARATORS = (";", ",", "\t", "|")
BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# A well-formed UTF-8 sequence of a character outside ASCII.
UTF8_MULTIBYTE = re.compile(
    rb"[\xC2-\xDF][\x80-\xBF]|[\xE0-\xEF][\x80-\xBF]{2}|[\xF0-\xF4][\x80-\xBF]{3}"
)


def sniff_separator(sample: str, candidates: Sequence[str] = SEPARATORS, default: str = ",") -> str:
    """The candidate found most often in ``sample`` (a header line, or a file's first
    lines); the first candidate wins a tie, ``default`` when none occurs at all."""
    counts = {sep: sample.count(sep) for sep in candidates}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else default


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and a lone ``\\r`` as ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


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


def decode_extract(
    raw: bytes,
    path: Path,
    encoding: str,
    *,
    vault: bool = False,
    personal: frozenset[str] = frozenset(),
) -> tuple[str, list[str]]:
    """Decode bytes as configured; ``auto`` takes UTF-8 (BOM or not), else Windows-1252.

    A UTF-8 byte-order mark means UTF-8 whatever is configured; a UTF-16 one (Excel's
    "Unicode text") means UTF-16. Under ``auto``, a file that is not UTF-8 but has a UTF-8
    line (non-ASCII letters encoded as UTF-8) mixes encodings and is refused. A declared
    single-byte encoding is taken at its word. Returns the text and notes for the report.
    """
    if raw.startswith(UTF16_BOMS):
        text = _decode_strict(raw, path, "utf-16", vault, personal)
        return text, ["read as UTF-16 (byte-order mark)"]
    if raw.startswith(BOM):
        return _decode_strict(raw[len(BOM) :], path, "utf-8", vault, personal), []
    if encoding == "auto":
        try:
            return raw.decode("utf-8"), []
        except UnicodeDecodeError as exc:
            utf8_line = first_utf8_line(raw)
            if utf8_line is not None:
                raise _mixed_encodings(raw, path, exc.start, utf8_line, vault, personal) from None
            return raw.decode("windows-1252", errors="replace"), [
                "not UTF-8: read as Windows-1252 (set `encoding:` to be explicit)"
            ]
    return _decode_strict(raw, path, encoding, vault, personal), []


def first_utf8_line(raw: bytes) -> int | None:
    """The 1-based number of the first line that is evidently UTF-8, or None.

    Such a line decodes as UTF-8 and holds a letter of Latin-1 (ä, ö, å, é: U+00C0-U+00FF),
    a dash or quote (U+2010-U+206F) or €. A Windows-1252 line holding ä (0xE4 before a
    letter) never decodes; one that happens to decode (Ä before an en dash is the UTF-8 of
    Ė) yields other characters, unless it holds Ã or â: text that is already mis-decoded.
    """
    pos = 0
    while match := UTF8_MULTIBYTE.search(raw, pos):
        start = raw.rfind(b"\n", 0, match.start()) + 1
        end = raw.find(b"\n", match.end())
        end = len(raw) if end < 0 else end
        pos = end + 1
        try:
            text = raw[start:end].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if any(_evidently_utf8(ch) for ch in text):
            return raw[:start].count(b"\n") + 1
    return None


def _evidently_utf8(ch: str) -> bool:
    return "\u00c0" <= ch <= "\u00ff" or "\u2010" <= ch <= "\u206f" or ch == "\u20ac"


def _mixed_encodings(
    raw: bytes, path: Path, offset: int, utf8_line: int, vault: bool, personal: frozenset[str]
) -> SourceError:
    line, column, example = _undecodable(raw, offset, "utf-8", vault, personal)
    return SourceError(
        str(path),
        f"mixes encodings: line {line} is not UTF-8 (byte 0x{raw[offset]:02X} cannot be "
        f"decoded) while line {utf8_line} is UTF-8, so neither reading keeps letters such as "
        "ä and ö intact; the file was not read.",
        column=column,
        examples=[example],
        hint=f"Correct line {line} (typed or pasted in another program), or re-export the "
        "whole file in one encoding, preferably UTF-8.",
    )


def _undecodable(
    raw: bytes, offset: int, encoding: str, vault: bool, personal: frozenset[str]
) -> tuple[int, str | None, str]:
    """Line, column and a safe example row for the undecodable byte at ``offset``."""
    line = raw[:offset].count(b"\n") + 1
    column, value = _field_at(raw, offset, encoding)
    where = f"line {line}" + (" (the header)" if line == 1 else f" (row {line - 1})")
    example = describe_row(
        {column: value} if column else {},
        where,
        f"{column}: byte 0x{raw[offset]:02X} is not {encoding}" if column else None,
        vault=vault,
        personal=personal,
    )
    return line, column, example


def _decode_strict(
    raw: bytes, path: Path, encoding: str, vault: bool, personal: frozenset[str] = frozenset()
) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line, column, example = _undecodable(raw, exc.start, encoding, vault, personal)
        raise SourceError(
            str(path),
            f"is not {encoding}: byte 0x{raw[exc.start]:02X} on line {line} cannot be decoded.",
            column=column,
            examples=[example],
            hint="Set `encoding: windows-1252` (or `auto`) for this source if the partner "
            "exports from Excel in Windows-1252 / Latin-1.",
        ) from None


def _field_at(raw: bytes, offset: int, encoding: str) -> tuple[str | None, str]:
    """The header column and the text of the field holding byte ``offset`` (best effort)."""
    header = raw.split(b"\n", 1)[0].decode(encoding, errors="replace").strip("\r")
    sep = sniff_separator(header)
    start = raw.rfind(b"\n", 0, offset) + 1
    end = raw.find(b"\n", offset)
    line = raw[start : end if end >= 0 else len(raw)]
    index = raw[start:offset].count(sep.encode())
    names = [n.strip() for n in next(csv.reader([header], delimiter=sep), [])]
    fields = line.split(sep.encode())
    value = fields[index].decode(encoding, errors="replace").strip() if index < len(fields) else ""
    return (names[index] if index < len(names) else None), value


def decode_text(
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
        if name == "utf-8" and raw.startswith(BOM):
            name = "utf-8-sig"
        return _strict(raw, source, name), name
    if raw.startswith(BOM):
        return _strict(raw, source, "utf-8-sig"), "utf-8-sig"
    try:
        return normalise_newlines(raw.decode("utf-8")), "utf-8"
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
        return normalise_newlines(raw.decode(encoding))
    except UnicodeDecodeError as err:
        line_no, line = _locate(raw, err.start, encoding)
        raise SourceError(
            source,
            f"cannot decode the file as {encoding}: byte 0x{raw[err.start]:02x} on line {line_no}",
            examples=[line.strip()],
            hint="Pass the file's real encoding (for example encoding='latin-1') or re-export "
            "it as UTF-8.",
        ) from None


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


def csv_error(source: str, text: str, separator: str, err: Exception) -> SourceError:
    """Locate a CSV parse failure: the first line with the wrong number of fields."""
    if (ragged := ragged_line(text, separator)) is not None:
        line_no, line = ragged
        return SourceError(
            source,
            f"line {line_no} has a different number of fields than the header",
            examples=[line],
            hint="Check the separator and the quoting on that line.",
        )
    return SourceError(source, f"cannot parse the CSV: {str(err).splitlines()[0]}")
