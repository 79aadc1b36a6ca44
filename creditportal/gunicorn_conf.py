"""Gunicorn settings for serving CreditPortal in production:

    gunicorn creditportal.wsgi --config creditportal/gunicorn_conf.py --bind 0.0.0.0:8000

Sync workers, `WEB_CONCURRENCY` of them (default: gunicorn's own advice, 2 x cores + 1;
with the database on the same machine, fewer may serve better: docs/deployment.md). Each
worker, before its first request, loads the production model of every scorecard and then
moves everything alive at that point (Django, scikit-learn, pandas, the models) out of the
garbage collector's reach with `gc.freeze()`. Without that, each full collection walked
them all, and those pauses were the API's slowest answers (docs/benchmarks.md). Objects
created later are collected as usual.
"""

import gc
import logging
import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))

logger = logging.getLogger("creditportal.gunicorn")


def post_worker_init(worker):
    from creditportal.errors import ApplicationError
    from ml.scorecards import SCORECARDS
    from scoring.serving import production_model

    for key in SCORECARDS:
        try:
            production_model(key)
        except ApplicationError:  # no production model yet: loaded on first use instead
            pass
        except Exception:  # the database not reachable yet, a bad artifact...: not fatal here
            logger.exception("Could not load the production model of %s at start-up", key)
    gc.collect()
    gc.freeze()
