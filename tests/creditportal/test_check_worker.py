"""`manage.py check_worker`: the deployment check that a worker answers through the broker."""

import pytest
from django.core.management import CommandError, call_command


def test_check_worker_says_the_broker_is_unreachable(db, task_queue):
    task_queue.down()
    with pytest.raises(CommandError, match="the task broker is unreachable"):
        call_command("check_worker", timeout=1)
    assert task_queue.published == []
