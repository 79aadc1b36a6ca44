"""Gunicorn settings for serving CreditPortal in production:

    gunicorn creditportal.wsgi --config creditportal/gunicorn_conf.py --bind 0.0.0.0:8000

Sync workers, `WEB_CONCURRENCY` of them (default: gunicorn's own advice, 2 x cores + 1; with
PostgreSQL on the same 2 cores the benchmark did best with 2). Each worker, before its first
request, loads the production model of every scorecard and then moves everything alive at
that point (Django, scikit-learn, pandas, the models: about 180,000 objects) out of the
garbage collector's reach with `gc.freeze()`. Without that, each full collection walked
them all: 60 ms on an idle machine and 130-200 ms under load, which was the whole of the
API's p99 latency (bench/bench_api.py). Objects created later are collected as usual.
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
