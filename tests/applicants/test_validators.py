"""Boundaries of the identity rules (applicants/validators.py); the hostile inputs themselves
are replayed against the portal, the API and the services in tests/security/."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from applicants.validators import (
    age_on,
    validate_date_of_birth,
    validate_full_name,
    validate_national_id,
    validate_phone,
)


@pytest.fixture
def today(monkeypatch):
    """The clock is a boundary: a fixed day, 1 March 2026 (the day after 28 February)."""
    day = datetime.date(2026, 3, 1)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: day)
    return day


def test_ages_count_whole_years_leap_days_included():
    assert age_on(datetime.date(2008, 2, 29), datetime.date(2026, 2, 28)) == 17
    assert age_on(datetime.date(2008, 2, 29), datetime.date(2026, 3, 1)) == 18


@pytest.mark.parametrize(
    "born, accepted",
    [
        (datetime.date(2008, 3, 1), True),  # 18 today
        (datetime.date(2008, 3, 2), False),  # 18 tomorrow
        (datetime.date(1905, 3, 2), True),  # 120
        (datetime.date(1905, 3, 1), False),  # 121 today
        (datetime.date(2026, 3, 2), False),  # the future
    ],
)
def test_date_of_birth_boundaries(today, born, accepted):
    if accepted:
        validate_date_of_birth(born)
    else:
        with pytest.raises(ValidationError, match="Date of birth"):
            validate_date_of_birth(born)


def test_the_message_names_the_character_found():
    with pytest.raises(ValidationError, match=r"Full name .* \(found U\+202E\)"):
        validate_full_name("Eve\u202e")


@pytest.mark.parametrize("phone", ["+44 20 7946 0000", "(020) 7946-0000", "123456"])
def test_ordinary_phone_numbers_pass(phone):
    validate_phone(phone)


@pytest.mark.parametrize("national_id", ["AB123456C", "123-45-6789", "ab 12 34 56 c"])
def test_ordinary_national_ids_pass(national_id):
    validate_national_id(national_id)
