"""Rules for an applicant's identity fields, the same for the portal's form, the API's
serializer and the services (the model fields carry them, so `full_clean` applies them too).

Each message names the field and the rule it broke. The rules stop what a reviewer would flag:
impossible dates of birth (0001-01-01, 2999-01-01), names that hide or reorder text with
control, bidi or zero-width characters, and phone numbers or ids in other digit systems.
"""

import re
import unicodedata
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible

MIN_AGE_YEARS = 18
MAX_AGE_YEARS = 120
PHONE_MIN_DIGITS, PHONE_MAX_DIGITS = 6, 15  # E.164 allows at most 15
NATIONAL_ID_MIN_CHARACTERS = 4

# Other (C*: control Cc, format Cf — bidi overrides and isolates, zero-width characters,
# the byte-order mark —, surrogates, private use, unassigned) and line or paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_PHONE = re.compile(r"\+?[0-9 ()\-]+")
_NATIONAL_ID = re.compile(r"[A-Za-z0-9 \-]+")


def normalise_text(value: str) -> str:
    """One spelling for one text: Unicode NFC ("Zoë" typed as e + combining diaeresis becomes
    one character), without surrounding spaces."""
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else value


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@deconstructible
class DateOfBirthValidator:
    """A date of birth that makes the applicant 18 to 120 years old on the day it is entered."""

    def __init__(self, label: str = "Date of birth") -> None:
        self.label = label

    def __call__(self, value: date) -> None:
        if value is None:
            return
        today = timezone.localdate()
        if value > today:
            raise ValidationError(
                f"{self.label} cannot be in the future ({value.isoformat()}).",
                code="date_of_birth_future",
            )
        age = age_on(value, today)
        if not MIN_AGE_YEARS <= age <= MAX_AGE_YEARS:
            raise ValidationError(
                f"{self.label} must make the applicant {MIN_AGE_YEARS} to {MAX_AGE_YEARS} years "
                f"old today; {value.isoformat()} makes them {age}.",
                code="date_of_birth_implausible",
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, DateOfBirthValidator) and self.label == other.label


@deconstructible
class PlainTextValidator:
    """Text without control, formatting (bidi, zero-width) or separator characters: what is
    shown is what is stored. Letters of every script are welcome (Zoë, Nguyễn, 李)."""

    def __init__(self, label: str, require_letter: bool = False) -> None:
        self.label = label
        self.require_letter = require_letter

    def __call__(self, value: str) -> None:
        if not value:
            return
        for character in value:
            if unicodedata.category(character) in _REFUSED_CATEGORIES:
                raise ValidationError(
                    f"{self.label} may not contain control, formatting or invisible characters "
                    f"(found U+{ord(character):04X}).",
                    code="invisible_character",
                )
        if self.require_letter and not any(character.isalpha() for character in value):
            raise ValidationError(
                f"{self.label} must contain at least one letter.", code="no_letter"
            )

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, PlainTextValidator)
            and self.label == other.label
            and self.require_letter == other.require_letter
        )


@deconstructible
class PhoneValidator:
    def __init__(self, label: str = "Phone") -> None:
        self.label = label

    def __call__(self, value: str) -> None:
        if not value:
            return
        digits = sum(character in "0123456789" for character in value)
        if (
            not _PHONE.fullmatch(value)
            or not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS
            or "+" in value[1:]
        ):
            raise ValidationError(
                f"{self.label} must be {PHONE_MIN_DIGITS} to {PHONE_MAX_DIGITS} digits 0-9, "
                "optionally starting with + and grouped with spaces, dashes or parentheses.",
                code="phone_format",
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, PhoneValidator) and self.label == other.label


@deconstructible
class NationalIdValidator:
    def __init__(self, label: str = "National ID") -> None:
        self.label = label

    def __call__(self, value: str) -> None:
        if not value:
            return
        significant = sum(character.isalnum() for character in value)
        if not _NATIONAL_ID.fullmatch(value) or significant < NATIONAL_ID_MIN_CHARACTERS:
            raise ValidationError(
                f"{self.label} must be at least {NATIONAL_ID_MIN_CHARACTERS} letters A-Z or "
                "digits 0-9, optionally grouped with spaces or dashes.",
                code="national_id_format",
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, NationalIdValidator) and self.label == other.label


validate_date_of_birth = DateOfBirthValidator()
validate_full_name = PlainTextValidator("Full name", require_letter=True)
validate_external_reference = PlainTextValidator("External reference")
validate_purpose = PlainTextValidator("Purpose")
validate_phone = PhoneValidator()
validate_national_id = NationalIdValidator()
