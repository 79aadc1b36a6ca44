"""The production server settings (creditportal/gunicorn_conf.py)."""

import gc

from creditportal import gunicorn_conf
from scoring import serving


def test_worker_start_loads_production_models_then_freezes_the_heap(production_model):
    assert "card_default" not in serving._loaded
    try:
        gunicorn_conf.post_worker_init(worker=None)
        assert serving._loaded["card_default"].version_id == production_model.pk
        assert gc.get_freeze_count() > 0  # no longer walked by every full collection
    finally:
        gc.unfreeze()


def test_worker_start_without_production_models(db):
    try:
        gunicorn_conf.post_worker_init(worker=None)  # nothing to load: not an error
        assert serving._loaded == {}
    finally:
        gc.unfreeze()
