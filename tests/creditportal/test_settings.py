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
