"""Applicants' identity data: at rest (a stolen database or backup shows no national id) and
as hostile input (impossible dates of birth, names that hide or reorder text, phone numbers
and ids in other digit systems), refused alike by the portal, the API and the services."""

import datetime
import unicodedata

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from applicants.encryption import FieldDecryptionError
from applicants.models import Applicant
from applicants.services import applicant_create, applicant_update, national_ids_reencrypt
from tests.apikit import assert_error, ids
from tests.security.test_defaults import run_django

pytestmark = pytest.mark.django_db

NATIONAL_ID = "AB 123456 C"
API = "/api/v1/applicants/"


@pytest.fixture
def identified(officer):
    return applicant_create(
        owner=officer,
        data={
            "full_name": "Ada Lovelace",
            "external_reference": "AL-1",
            "national_id": NATIONAL_ID,
        },
    )


def raw_column(table: str, column: str, pk_column: str, pk: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def all_text_in(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
        return " ".join(str(value) for row in cursor.fetchall() for value in row)


# --- data at rest --------------------------------------------------------------------------


def test_the_database_holds_no_national_id_in_clear(identified):
    (stored,) = raw_column("applicants_applicant", "national_id", "id", identified.pk)
    assert "123456" not in stored and stored.startswith("gAAAAA")  # a Fernet token
    for table in ("applicants_applicant", "applicants_historicalapplicant"):
        text = all_text_in(table)
        assert "123456" not in text and "AB123456C" not in text, table
    identified.refresh_from_db()
    assert identified.national_id == NATIONAL_ID  # the application reads it back


def test_masking_still_shows_only_the_last_four_characters(identified, officer_client, officer_api):
    (stored,) = raw_column("applicants_applicant", "national_id", "id", identified.pk)
    assert stored != NATIONAL_ID  # encrypted, and yet:
    page = officer_client.get(reverse("applicants:detail", args=[identified.pk])).content.decode()
    assert "•••••••56 C" in page and "123456" not in page
    body = officer_api.get(f"{API}{identified.pk}/").json()
    assert body["national_id_masked"] == "•••••••56 C" and "national_id" not in body


def test_an_exact_national_id_finds_its_applicant_in_the_portal_and_the_api(
    identified, officer_client, officer_api, other_officer
):
    applicant_create(
        owner=other_officer,
        data={"full_name": "Not Yours", "external_reference": "NY-1", "national_id": NATIONAL_ID},
    )
    for spelling in ("AB123456C", "ab-123456-c", " AB 12 34 56 C "):
        page = officer_client.get(reverse("applicants:list"), {"q": spelling})
        assert list(page.context["page"].object_list) == [identified], spelling
        assert ids(officer_api.get(API, {"q": spelling})) == {identified.pk}, spelling
    assert ids(officer_api.get(API, {"q": "AB123456"})) == set()  # exact, not a prefix
    applications = officer_api.get("/api/v1/applications/", {"q": "AB123456C"})
    assert applications.status_code == 200


def test_a_wrong_key_is_a_clear_error_not_garbage(identified, settings):
    settings.CREDITPORTAL_FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(FieldDecryptionError, match="CREDITPORTAL_FIELD_ENCRYPTION_KEYS"):
        Applicant.objects.get(pk=identified.pk)


def test_keys_rotate_old_ids_stay_readable_and_findable(identified, settings, officer_api):
    old_key = settings.CREDITPORTAL_FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.CREDITPORTAL_FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert Applicant.objects.get(pk=identified.pk).national_id == NATIONAL_ID
    assert ids(officer_api.get(API, {"q": "AB123456C"})) == {identified.pk}

    assert national_ids_reencrypt() == 1
    (stored,) = raw_column("applicants_applicant", "national_id", "id", identified.pk)
    assert Fernet(new_key).decrypt(stored.encode()).decode() == NATIONAL_ID
    settings.CREDITPORTAL_FIELD_ENCRYPTION_KEYS = [new_key]  # the old key retired
    assert Applicant.objects.get(pk=identified.pk).national_id == NATIONAL_ID
    assert ids(officer_api.get(API, {"q": "AB123456C"})) == {identified.pk}
    # The history's copy of the index moved too: a later change does not claim a new id.
    applicant_update(applicant=Applicant.objects.get(pk=identified.pk), data={"phone": "0123 456"})
    newest, previous = Applicant.history.filter(id=identified.pk)[:2]
    assert "national_id_index" not in newest.diff_against(previous).changed_fields


@pytest.mark.parametrize(
    "keys, refused",
    [
        ({}, "Set CREDITPORTAL_FIELD_ENCRYPTION_KEYS"),
        (  # the public development key
            {"CREDITPORTAL_FIELD_ENCRYPTION_KEYS": "ZGV2LW9ubHktaW5zZWN1cmUtZmllbGQta2V5LTMyYiE="},
            "Set CREDITPORTAL_FIELD_ENCRYPTION_KEYS",
        ),
        ({"CREDITPORTAL_FIELD_ENCRYPTION_KEYS": "not-a-key"}, "is not a Fernet key"),
    ],
)
def test_production_refuses_to_start_without_a_real_key(keys, refused):
    started = run_django("print('started')", DJANGO_SECRET_KEY="s3cr3t-" + "x7Yq2" * 10, **keys)
    assert started.returncode != 0 and "started" not in started.stdout
    assert refused in started.stderr


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_the_ids_already_stored(officer):
    executor = MigrationExecutor(connection)
    executor.migrate([("applicants", "0003_administrators_manage_api_tokens")])
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO applicants_applicant (full_name, external_reference, email, phone, "
            "national_id, owner_id, is_archived, created_at, updated_at) "
            "VALUES ('Old Row', 'OLD-1', '', '', 'ZX-998877-Q', %s, %s, %s, %s)",
            [officer.pk, False, now, now],
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("applicants"))
    (stored,) = raw_column("applicants_applicant", "national_id", "external_reference", "OLD-1")
    assert "998877" not in stored and stored.startswith("gAAAAA")
    old = Applicant.objects.get(external_reference="OLD-1")
    assert old.national_id == "ZX-998877-Q"
    assert list(Applicant.objects.filter(national_id_index__in=[old.national_id_index])) == [old]
    assert old.history.count() == 1  # its history begins with the state it had


# --- hostile identity input ------------------------------------------------------------------

TODAY = datetime.date.today()
IMPOSSIBLE_BIRTHS = [
    "0001-01-01",
    "2999-01-01",
    (TODAY + datetime.timedelta(days=1)).isoformat(),  # tomorrow
    TODAY.replace(year=TODAY.year - 17).isoformat(),  # too young to borrow
    "1890-06-01",  # older than anyone alive
]
HOSTILE_NAMES = [
    "Ada\u202eecalevoL",  # right-to-left override: shows reversed
    "Ada \u2066Lovelace\u2069",  # bidi isolate
    "Ada\u200bLovelace",  # zero-width space
    "Ada\u200dLovelace",  # zero-width joiner
    "Ada\u2060Lovelace",  # word joiner
    "\ufeffAda Lovelace",  # byte-order mark
    "Ada\x00Lovelace",  # NUL
    "Ada\nLovelace",  # a line break
    "Ada\u2028Lovelace",  # line separator
    "\u200b\u200b",  # nothing visible at all
]
FINE_NAMES = ["Zoë Ng", "Nguyễn Văn An", "李小龍", "Seán O'Brien-Núñez", "Ólafur Þór"]
HOSTILE_PHONES = ["٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８", "+44 20 7946 00x0", "12", "44+20 7946 0000"]
HOSTILE_NATIONAL_IDS = ["AB١٢٣٤٥٦C", "ＡＢ123456Ｃ", "AB;123", "A\u202e12345"]


def api_create(api, **fields):
    return api.post(API, {"full_name": "Ada Lovelace", "external_reference": "X-1", **fields})


def portal_create(client, **fields):
    data = {"full_name": "Ada Lovelace", "external_reference": "X-1", **fields}
    return client.post(reverse("applicants:create"), data)


def service_create(owner, **fields):
    data = {"full_name": "Ada Lovelace", "external_reference": "X-1", **fields}
    return applicant_create(owner=owner, data=data)


def assert_refused_everywhere(officer, officer_api, officer_client, field, value, words):
    body = assert_error(api_create(officer_api, **{field: value}), 400, "validation_error", [field])
    assert any(words in message for message in body["fields"][field]), body
    page = portal_create(officer_client, **{field: value})
    assert page.status_code == 200  # the form again, with its error
    assert any(words in error for error in page.context["form"].errors[field])
    with pytest.raises(ValidationError) as raised:
        service_create(officer, **{field: value})
    assert any(words in message for message in raised.value.message_dict[field])
    assert not Applicant.objects.filter(external_reference="X-1").exists()


@pytest.mark.parametrize("born", IMPOSSIBLE_BIRTHS)
def test_impossible_dates_of_birth_are_refused(officer, officer_api, officer_client, born):
    assert_refused_everywhere(
        officer, officer_api, officer_client, "date_of_birth", born, "Date of birth"
    )


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=ascii)
def test_names_with_invisible_or_reordering_characters_are_refused(
    officer, officer_api, officer_client, name
):
    assert_refused_everywhere(officer, officer_api, officer_client, "full_name", name, "Full name")


def test_real_identities_are_accepted_in_one_unicode_spelling(officer_api):
    """Letters of any script, an 18-year-old, a phone written the usual ways; a name typed
    with a combining accent (e + U+0308) is stored as the one character (NFC)."""
    eighteen = TODAY.replace(year=TODAY.year - 18).isoformat()
    for index, name in enumerate(FINE_NAMES):
        typed = unicodedata.normalize("NFD", name)
        response = api_create(
            officer_api,
            full_name=typed,
            external_reference=f"OK-{index}",
            date_of_birth=eighteen,
            phone="+44 (0)20 7946-0000",
            national_id="ab-12 34-56-c",
        )
        assert response.status_code == 201, response.content
        assert response.json()["full_name"] == name
    assert Applicant.objects.filter(full_name="Zo\u00eb Ng").count() == 1


@pytest.mark.parametrize("phone", HOSTILE_PHONES, ids=ascii)
def test_phone_numbers_are_ascii_digits_in_a_plausible_pattern(
    officer, officer_api, officer_client, phone
):
    assert_refused_everywhere(officer, officer_api, officer_client, "phone", phone, "Phone")


@pytest.mark.parametrize("national_id", HOSTILE_NATIONAL_IDS, ids=ascii)
def test_national_ids_are_ascii_letters_and_digits(
    officer, officer_api, officer_client, national_id
):
    assert_refused_everywhere(
        officer, officer_api, officer_client, "national_id", national_id, "National ID"
    )


def test_other_free_text_refuses_bidi_overrides_too(officer_api, application):
    response = officer_api.patch(
        f"/api/v1/applications/{application.pk}/",
        {"purpose": "Car\u202e", "requested_amount": "1000", "term_months": 12},
    )
    assert_error(response, 400, "validation_error", ["purpose"])
    reference = api_create(officer_api, external_reference="REF\u200b1")
    assert_error(reference, 400, "validation_error", ["external_reference"])
