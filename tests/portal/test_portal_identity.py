"""portal.identity: the identity code's rules, birth dates, ages and masking (no Django)."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.fi import hetu

from portal.identity import (
    IdentityCodeError,
    age_on,
    birth_date,
    compact,
    is_test_code,
    make_test_code,
    mask,
    validate,
)

# The register's own example (stdnum's doctest): a real-format code, individual number 308.
ORDINARY = "131052-308T"
TEST_PERSON = "140508A912J"  # born 14.5.2008, individual number 912: a test code


def test_a_valid_code_is_returned_unchanged() -> None:
    assert validate(ORDINARY) == ORDINARY


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "missing"),
        (None, "missing"),
        ("131052-308t", "format"),  # lower case: from an identity provider it is suspect
        (" 131052-308T", "format"),
        ("131052 308T", "format"),
        ("131052-308", "format"),
        ("131052*308T", "format"),  # no such century sign
        ("310252-308Y", "date"),  # 31 February
        ("131052-001X", "date"),  # individual numbers start at 002
        ("131052-308U", "checksum"),
        ("19900101-1234", "format"),  # a Swedish personnummer: foreign codes are refused
    ],
)
def test_bad_codes_are_refused_with_a_reason_and_without_the_code(code, reason) -> None:
    with pytest.raises(IdentityCodeError) as caught:
        validate(code)
    assert caught.value.reason == reason
    assert not code or code.strip() not in str(caught.value)


def test_test_codes_only_where_allowed() -> None:
    assert is_test_code(TEST_PERSON)
    assert not is_test_code(ORDINARY)
    with pytest.raises(IdentityCodeError) as caught:
        validate(TEST_PERSON)
    assert caught.value.reason == "test_code"
    assert validate(TEST_PERSON, allow_test_codes=True) == TEST_PERSON
    # stdnum agrees: 900-999 is refused by default, accepted as temporary
    assert not hetu.is_valid(TEST_PERSON)
    assert hetu.is_valid(TEST_PERSON, allow_temporary=True)


def test_compact_strips_and_upper_cases() -> None:
    assert compact(" 131052-308t ") == ORDINARY


@pytest.mark.parametrize(
    ("code", "born"),
    [
        ("010199+9012", date(1899, 1, 1)),
        (ORDINARY, date(1952, 10, 13)),
        ("131052Y308T", date(1952, 10, 13)),  # the 2023 extra signs for the 1900s
        (TEST_PERSON, date(2008, 5, 14)),
        ("140508B912J", date(2008, 5, 14)),  # and for the 2000s
    ],
)
def test_birth_date_follows_the_century_sign(code: str, born: date) -> None:
    assert validate(code, allow_test_codes=True) == code
    assert birth_date(code) == born


def test_age_turns_on_the_birthday() -> None:
    born = date(2010, 6, 15)
    assert age_on(born, date(2025, 6, 14)) == 14
    assert age_on(born, date(2025, 6, 15)) == 15
    assert age_on(born, date(2040, 6, 14)) == 29
    assert age_on(born, date(2040, 6, 15)) == 30
    leap = date(2008, 2, 29)
    assert age_on(leap, date(2023, 2, 28)) == 14
    assert age_on(leap, date(2023, 3, 1)) == 15


def test_mask_hides_the_individual_part() -> None:
    assert mask(TEST_PERSON) == "140508A****"
    assert "912" not in mask(TEST_PERSON)


@pytest.mark.parametrize(
    "born", [date(2008, 5, 14), date(1999, 12, 31), date(2010, 2, 28), date(1890, 1, 1)]
)
def test_made_test_codes_are_valid_test_codes(born: date) -> None:
    for individual in (900, 912, 999):
        code = make_test_code(born, individual)
        assert validate(code, allow_test_codes=True) == code
        assert is_test_code(code)
        assert birth_date(code) == born
    assert make_test_code(date(2008, 5, 14), 912) == TEST_PERSON
    with pytest.raises(ValueError, match="900-999"):
        make_test_code(born, 308)
