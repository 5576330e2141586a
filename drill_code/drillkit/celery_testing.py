"""A pytest plugin for drills whose tests run Celery's test worker on the in-memory broker.

Celery's worker loop waits up to 2 s for a message (`drain_events(timeout=2.0)` in
celery.worker.loops) before it looks again at whether it was told to stop, and it does so
twice on the way out. On a real broker the wait ends as soon as the socket has news; on
kombu's in-memory transport, which polls, nothing cuts it short, so every test that
starts a worker spends about 4 s waiting for it to stop. Here the in-memory transport
waits in short slices and gives up early once the worker has been told to stop.

The worker's timer thread (retries with a countdown) likewise sleeps up to
`worker_timer_precision`, 1 s by default, before it sees the stop; test workers use a
twentieth of that, which also runs a retry closer to the moment it was scheduled for.

Nothing a test can observe changes: messages are delivered exactly as before (the same
transport, the same polling), and a worker that has not been told to stop waits its full
timeout, slice by slice. The harness loads this plugin with `celery.contrib.pytest`.
"""

from __future__ import annotations

from time import monotonic

import pytest

SLICE_SECONDS = 0.05  # how often a waiting worker checks whether it was told to stop


def _stopping() -> bool:
    from celery.worker import state

    # celery.contrib.testing.worker sets should_terminate to 0 when a test worker must stop.
    return state.should_terminate is not None


def _drain_in_slices(original):
    def drain_events(self, connection, timeout=None):
        if timeout is None:
            return original(self, connection, timeout=None)
        deadline = monotonic() + timeout
        while True:
            remaining = deadline - monotonic()
            try:
                return original(self, connection, timeout=max(min(SLICE_SECONDS, remaining), 0))
            except TimeoutError:
                if _stopping() or deadline - monotonic() <= 0:
                    raise

    return drain_events


def _precise_timer(sender, **_):
    sender.timer_precision = SLICE_SECONDS


@pytest.fixture(scope="session", autouse=True)
def _test_workers_stop_promptly():
    from celery.signals import worker_init
    from kombu.transport import memory

    original = memory.Transport.drain_events
    memory.Transport.drain_events = _drain_in_slices(original)
    worker_init.connect(_precise_timer)
    yield
    worker_init.disconnect(_precise_timer)
    memory.Transport.drain_events = original
