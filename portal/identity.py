"""The Finnish personal identity code (henkilötunnus) as the portal handles it: no Django.

The identity provider sends the code in the ``national_id_num`` claim. It is checked with
``stdnum.fi.hetu`` (format, date, check character), after the city's rule for codes from
an identity provider: the code arrives upper case and without spaces, or it is refused
(yjdh's ``kesaseteli/common/utils.py`` does the same) rather than quietly repaired.

Individual numbers 900-999 are never given to real people: the population register uses
them for temporary and test codes. The portal's test persons carry such codes, so they
are accepted only when ``allow_test_codes`` is set (demo and tests); production refuses
them (``portal.settings`` refuses the setting itself there).

Nothing here logs or prints a code; errors carry a reason word, never the code.
"""

from __future__ import annotations

from datetime import date

from stdnum.exceptions import ValidationError
from stdnum.fi import hetu

__all__ = [
    "IdentityCodeError",
    "age_on",
    "birth_date",
    "compact",
    "is_test_code",
    "make_test_code",
    "mask",
    "validate",
]

# The century sign (7th character) and the century it stands for, as the population
# register has used them since 2023 (the extra signs Y-U and B-F) and before (+, -, A).
CENTURY = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}
CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
TEST_INDIVIDUALS = range(900, 1000)


class IdentityCodeError(ValueError):
    """A code that is not a valid Finnish identity code. ``reason`` is one word:

    ``missing``, ``format`` (not 11 characters of the right kinds, lower case or spaces),
    ``date`` (no such birth date), ``checksum`` (wrong check character) or ``test_code``
    (individual number 900-999 where test codes are not accepted). The message never
    holds the code.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"not a valid Finnish identity code ({reason})")
        self.reason = reason


def compact(code: str) -> str:
    """``code`` stripped of spaces and in upper case (``stdnum.fi.hetu.compact``)."""
    return hetu.compact(code)


def validate(code: object, *, allow_test_codes: bool = False) -> str:
    """``code`` if it is a valid identity code, else :class:`IdentityCodeError`.

    The code must be exactly as the register writes it: upper case, no spaces (a code from
    an identity provider that is not is suspect, not to be repaired).
    """
    if not isinstance(code, str) or not code:
        raise IdentityCodeError("missing")
    if code != compact(code) or len(code) != 11:
        raise IdentityCodeError("format")
    try:
        hetu.validate(code, allow_temporary=True)
    except ValidationError as exc:
        reason = {"InvalidChecksum": "checksum", "InvalidComponent": "date"}.get(
            type(exc).__name__, "format"
        )
        raise IdentityCodeError(reason) from None
    if is_test_code(code) and not allow_test_codes:
        raise IdentityCodeError("test_code")
    return code


def is_test_code(code: str) -> bool:
    """Whether the individual number is 900-999 (temporary and test codes)."""
    return int(code[7:10]) in TEST_INDIVIDUALS


def birth_date(code: str) -> date:
    """The birth date a valid code encodes (day, month, two-digit year, century sign)."""
    return date(CENTURY[code[6]] + int(code[4:6]), int(code[2:4]), int(code[0:2]))


def age_on(born: date, day: date) -> int:
    """Whole years from ``born`` to ``day``: a person is 15 on their 15th birthday. A
    person born on 29 February turns a year older on 1 March in common years."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def mask(code: str) -> str:
    """The code as shown on a page: birth date and century sign, the rest hidden
    (``140508A****``), as the city's services show it."""
    return code[:7] + "****"


def make_test_code(born: date, individual: int) -> str:
    """A fictional code for a test person born on ``born``, with individual number
    ``individual`` (900-999, never given to a real person) and a valid check character."""
    if individual not in TEST_INDIVIDUALS:
        raise ValueError("test codes use individual numbers 900-999 only")
    sign = {1800: "+", 1900: "-", 2000: "A"}[born.year // 100 * 100]
    digits = f"{born:%d%m}{born.year % 100:02d}{individual:03d}"
    return f"{digits[:6]}{sign}{digits[6:]}{CHECK_CHARACTERS[int(digits) % 31]}"
