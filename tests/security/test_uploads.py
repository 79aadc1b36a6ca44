"""Uploads: a file over its limit is stopped as it streams, a file of any shape is read in
bounded chunks, and every byte of a file is judged by one rule for training and bulk (its
encoding, NUL characters, the longest value, the number of columns), each refusal naming
the line, row or column, in the portal and the API alike."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadhandler import FileUploadHandler
from django.urls import reverse

from ml.cleaning import MAX_FIELD_CHARS
from scoring.jobs import pipeline
from scoring.models import BatchScoringJob, JobStatus, TrainingDataset
from scoring.services import bulk_scoring
from tests.apikit import assert_error, client_for
from tests.scoring.jobkit import card_default_csv, upload

pytestmark = pytest.mark.django_db

BULK_PAGE = "scoring:batch_job_list"
TRAINING_PAGE = "scoring:training_dataset_upload"
BULK_API = "/api/v1/batch-jobs/"
TRAINING_API = "/api/v1/training-datasets/"
TEMPORARY_HANDLER = "django.core.files.uploadhandler.TemporaryFileUploadHandler"


def nothing_stored() -> bool:
    return not BatchScoringJob.objects.exists() and not TrainingDataset.objects.exists()


def post_page(client, page: str, content: bytes, name: str = "applicants.csv"):
    return client.post(reverse(page), {"scorecard": "card_default", "file": upload(content, name)})


def post_api(user, url: str, content: bytes, name: str = "applicants.csv"):
    return client_for(user).post(
        url, {"scorecard": "card_default", "file": upload(content, name)}, format="multipart"
    )


def with_column(content: bytes, name: str, values) -> bytes:
    """The CSV with one more column, `values` by data row."""
    lines = content.decode().splitlines()
    rows = [lines[0] + f",{name}"]
    rows += [f"{line},{value}" for line, value in zip(lines[1:], values, strict=False)]
    return ("\n".join(rows) + "\n").encode()


# --- a file over its limit is stopped while it streams --------------------------------------


class StoredBytes(FileUploadHandler):
    """Counts the bytes of each file that reach the handlers that store it (placed just
    before Django's temporary-file handler), and passes them on."""

    largest = 0
    total = 0  # of all the files of all the requests of a test

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        StoredBytes.total += len(raw_data)
        StoredBytes.largest = max(StoredBytes.largest, self.received)
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def storage_spy(settings, tmp_path):
    handlers = list(settings.FILE_UPLOAD_HANDLERS)
    handlers.insert(handlers.index(TEMPORARY_HANDLER), f"{__name__}.StoredBytes")
    settings.FILE_UPLOAD_HANDLERS = handlers
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024  # to disk, as a large file goes
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-temp")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    settings.MAX_BATCH_UPLOAD_MB = settings.MAX_TRAINING_UPLOAD_MB = 1
    StoredBytes.largest = StoredBytes.total = 0
    yield StoredBytes
    assert not list(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir())  # no temporary file left


def over_one_mb() -> bytes:
    content = card_default_csv(2, invalid={})
    header, first = content.decode().splitlines()[:2]
    return (header + "\n" + (first + "\n") * (1_300_000 // len(first))).encode()


@pytest.mark.parametrize("page", [BULK_PAGE, TRAINING_PAGE])
def test_portal_upload_over_the_limit_is_stopped_at_the_limit(
    manager_client, production_model, storage_spy, page
):
    content = over_one_mb()
    response = post_page(manager_client, page, content)
    assert response.status_code == 400
    assert "the limit is 1 MB" in response.content.decode()
    assert storage_spy.largest <= 1024 * 1024 < len(content)
    assert nothing_stored()


@pytest.mark.parametrize("url", [BULK_API, TRAINING_API])
def test_api_upload_over_the_limit_is_stopped_at_the_limit(
    manager, production_model, storage_spy, url
):
    content = over_one_mb()
    error = assert_error(post_api(manager, url, content), 400, "validation_error", ["file"])
    assert "the limit is 1 MB" in error["fields"]["file"][0]
    assert storage_spy.largest <= 1024 * 1024 < len(content)
    assert nothing_stored()


def parts_under_the_limit(count: int = 5) -> list[bytes]:
    """`count` valid CSV files of about 0.3 MB: each under the 1 MB limit, together over."""
    content = card_default_csv(2, invalid={})
    header, first = content.decode().splitlines()[:2]
    part = (header + "\n" + (first + "\n") * (300_000 // len(first))).encode()
    return [part] * count


def many_parts(same_name: bool) -> dict:
    """The parts as repeats of `file`, or as other fields before the one `file`."""
    files = [upload(part) for part in parts_under_the_limit()]
    if same_name:
        return {"scorecard": "card_default", "file": files}
    fields = {f"extra{number}": part for number, part in enumerate(files[:-1])}
    return {"scorecard": "card_default", **fields, "file": files[-1]}


@pytest.mark.parametrize("same_name", [True, False])
@pytest.mark.parametrize("page", [BULK_PAGE, TRAINING_PAGE])
def test_portal_caps_the_files_of_a_request_together(
    manager_client, production_model, storage_spy, page, same_name
):
    response = manager_client.post(reverse(page), many_parts(same_name))
    assert response.status_code == 400
    assert "MB; the limit is 1 MB" in response.content.decode()
    assert storage_spy.total <= 1024 * 1024 < sum(map(len, parts_under_the_limit()))
    assert nothing_stored()


@pytest.mark.parametrize("same_name", [True, False])
@pytest.mark.parametrize("url", [BULK_API, TRAINING_API])
def test_api_caps_the_files_of_a_request_together(
    manager, production_model, storage_spy, url, same_name
):
    response = client_for(manager).post(url, many_parts(same_name), format="multipart")
    if same_name:
        error = assert_error(response, 400, "validation_error", ["file"])
        assert "MB; the limit is 1 MB" in error["fields"]["file"][0]
    else:  # the API refuses fields it does not take, files too
        assert_error(response, 400, "validation_error", ["extra0", "extra3"])
    assert storage_spy.total <= 1024 * 1024 < sum(map(len, parts_under_the_limit()))
    assert nothing_stored()


def test_a_view_that_takes_no_file_stores_none_beyond_a_request_body(
    officer_client, storage_spy, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    response = officer_client.post(reverse("applicants:create"), {"file": upload(b"x" * 300_000)})
    assert response.status_code < 500
    assert storage_spy.largest <= 100_000


# --- columns: capped at the header, in the request -------------------------------------------


def ten_thousand_columns() -> bytes:
    content = card_default_csv(5, invalid={})
    lines = content.decode().splitlines()
    extra = ",".join(f"x{n}" for n in range(10_000))
    zeros = ",".join("0" * 10_000)
    return "\n".join([lines[0] + "," + extra, *(line + "," + zeros for line in lines[1:])]).encode()


@pytest.mark.parametrize("page", [BULK_PAGE, TRAINING_PAGE])
def test_portal_refuses_ten_thousand_columns_at_the_header(manager_client, production_model, page):
    response = post_page(manager_client, page, ten_thousand_columns())
    assert response.status_code == 400
    assert "10,025 columns; the limit is 300" in response.content.decode()
    assert nothing_stored()


@pytest.mark.parametrize("url", [BULK_API, TRAINING_API])
def test_api_refuses_ten_thousand_columns_at_the_header(manager, production_model, url):
    error = assert_error(post_api(manager, url, ten_thousand_columns()), 400, fields=["file"])
    assert "10,025 columns; the limit is 300" in error["fields"]["file"][0]
    assert nothing_stored()


# --- chunks bounded by bytes as well as rows --------------------------------------------------


def test_wide_rows_are_scored_in_chunks_bounded_by_size(officer, production_model, settings):
    settings.BATCH_CHUNK_ROWS = 10_000
    settings.BATCH_CHUNK_MB = 1
    content = with_column(card_default_csv(300, invalid={}), "note", ["n" * 9_000] * 300)
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(content), owner=officer
    )
    scored = []
    with pipeline.inject_fault(scored.append):
        bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.rows_valid == 300
    assert len(scored) == 3  # 2.8 MB of input: three chunks of at most about 1 MB


# --- NUL characters anywhere ----------------------------------------------------------------


def nul_at_row(row: int) -> bytes:
    lines = card_default_csv(3000, invalid={}).decode().splitlines()
    lines[row] = lines[row].replace("C", "C\x00", 1)  # the ID of data row `row`
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("page", [BULK_PAGE, TRAINING_PAGE])
def test_portal_refuses_a_nul_after_the_first_64_kb_naming_its_line(
    manager_client, production_model, page
):
    content = nul_at_row(2500)
    assert content.index(b"\x00") > 65_536
    response = post_page(manager_client, page, content)
    assert response.status_code == 400
    assert "Line 2,501 contains a NUL character" in response.content.decode()
    assert nothing_stored()


@pytest.mark.parametrize("url", [BULK_API, TRAINING_API])
def test_api_refuses_a_nul_after_the_first_64_kb_naming_its_line(manager, production_model, url):
    error = assert_error(post_api(manager, url, nul_at_row(2500)), 400, fields=["file"])
    assert "Line 2,501 contains a NUL character" in error["fields"]["file"][0]
    assert nothing_stored()


def test_a_stored_file_with_a_nul_fails_its_job_and_copies_nothing(officer, production_model):
    """A file stored before this rule (or by another way in) is read by the same rule."""
    job = bulk_scoring.batch_job_create(
        scorecard_key="card_default", upload=upload(card_default_csv(3000)), owner=officer
    )
    job.input_file.save("inputs/with-nul.csv", upload(nul_at_row(2500)), save=True)
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "Line 2,501 contains a NUL character" in job.error
    assert not job.result_file and job.rows_done == 0


# --- encodings detected and named -------------------------------------------------------------


def with_accents(content: bytes) -> str:
    return with_column(content, "name", ["Zoë Müller"] * 200).decode()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_utf16_and_utf8_with_a_bom_are_read_not_refused(officer, production_model, encoding):
    text = with_accents(card_default_csv(200, invalid={}))
    response = post_api(officer, BULK_API, text.encode(encoding))
    assert response.status_code == 202, response.json()
    job = BatchScoringJob.objects.get()
    bulk_scoring.batch_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_valid) == (JobStatus.SUCCEEDED, 200), job.error
    with job.result_file.open("rb") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read().decode(), newline="")))
    assert {row["name"] for row in rows} == {"Zoë Müller"}
    assert rows[0]["ID"] == "C0000001"  # the BOM is not part of the first column's name


def test_utf16_training_upload_is_read(manager_client):
    text = card_default_csv(150, invalid={}).decode()
    response = post_page(manager_client, TRAINING_PAGE, text.encode("utf-16"))
    assert response.status_code == 302
    assert TrainingDataset.objects.get().rows_kept == 150


def latin1_file() -> bytes:
    return with_accents(card_default_csv(200, invalid={})).encode("latin-1")


@pytest.mark.parametrize("page", [BULK_PAGE, TRAINING_PAGE])
def test_portal_refuses_latin1_naming_the_encoding_and_the_fix(
    manager_client, production_model, page
):
    response = post_page(manager_client, page, latin1_file())
    assert response.status_code == 400
    page_text = response.content.decode()
    assert "The file is not UTF-8: line 2 has the byte 0xEB" in page_text
    assert "Windows-1252 or Latin-1" in page_text and "CSV UTF-8" in page_text
    assert nothing_stored()


@pytest.mark.parametrize("url", [BULK_API, TRAINING_API])
def test_api_refuses_latin1_naming_the_encoding_and_the_fix(manager, production_model, url):
    error = assert_error(post_api(manager, url, latin1_file()), 400, fields=["file"])
    assert "Windows-1252 or Latin-1" in error["fields"]["file"][0]
    assert "\ufffd" not in error["message"]
    assert nothing_stored()


# --- one field-size rule for training and bulk ------------------------------------------------


def one_long_value(length: int) -> bytes:
    values = ["short"] * 40
    values[30] = "v" * length
    return with_column(card_default_csv(150, invalid={}), "note", values)


@pytest.mark.parametrize("page", [BULK_PAGE, TRAINING_PAGE])
def test_portal_refuses_a_value_over_the_one_limit_naming_row_and_column(
    manager_client, production_model, page
):
    response = post_page(manager_client, page, one_long_value(MAX_FIELD_CHARS + 1))
    assert response.status_code == 400
    assert "Row 31, column &#x27;note&#x27;: the value is 100,001 characters long; the " in (
        response.content.decode()
    )
    assert nothing_stored()


@pytest.mark.parametrize("url", [BULK_API, TRAINING_API])
def test_api_refuses_a_value_over_the_one_limit_naming_row_and_column(
    manager, production_model, url
):
    error = assert_error(post_api(manager, url, one_long_value(MAX_FIELD_CHARS + 1)), 400)
    assert (
        "Row 31, column 'note': the value is 100,001 characters long"
        in (error["fields"]["file"][0])
    )
    assert nothing_stored()


@pytest.mark.parametrize("url", [BULK_API, TRAINING_API])
def test_a_value_at_the_limit_is_accepted_by_both(manager, production_model, url, task_queue):
    response = post_api(manager, url, one_long_value(MAX_FIELD_CHARS))
    assert response.status_code in (201, 202), response.json()
