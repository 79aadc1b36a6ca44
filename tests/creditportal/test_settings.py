import pytest
from django.db import connection


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    options = connection.settings_dict["OPTIONS"]
    assert "journal_mode=WAL" in options["init_command"]
    assert options["transaction_mode"] == "IMMEDIATE"


def test_requests_are_atomic():
    assert connection.settings_dict["ATOMIC_REQUESTS"] is True


def test_the_data_directory_defaults_to_the_shared_folder_beside_the_repository(monkeypatch):
    import importlib

    import creditportal.settings as module

    monkeypatch.delenv("CREDITPORTAL_DATA_DIR", raising=False)
    fresh = importlib.reload(module)
    try:
        assert fresh.BASE_DIR.parent / "shared" / "data" == fresh.CREDITPORTAL_DATA_DIR
    finally:
        importlib.reload(module)


@pytest.mark.parametrize(
    "name, value",
    [
        ("CREDITPORTAL_API_TOKEN_TTL_HOURS", "0"),
        ("CREDITPORTAL_API_TOKEN_TTL_HOURS", "-1"),
        ("CREDITPORTAL_API_TOKENS_PER_USER", "0"),
    ],
)
def test_api_tokens_that_never_work_or_cannot_be_issued_are_refused(monkeypatch, name, value):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import creditportal.settings as module

    monkeypatch.setenv(name, value)
    try:
        with pytest.raises(ImproperlyConfigured, match=name):
            importlib.reload(module)
    finally:
        monkeypatch.delenv(name)
        importlib.reload(module)
