"""Watching the task queue from the outside: what reaches the broker, and what the worker
did with it.

`TaskLog` listens to Celery's own signals in this process: `before_task_publish` fires
in the thread that sends a message (a request, or the worker scheduling a retry), and
`task_postrun` in the worker thread when a delivery has been handled. Tests read the
messages as the target sent them, and can send one again exactly as it was.
"""

from __future__ import annotations

import smtplib
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from celery.signals import before_task_publish, task_postrun
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection

WAIT_SECONDS = 20
IGNORED_TASKS = {"celery.ping"}


@dataclass(frozen=True)
class Message:
    id: str
    task: str
    args: tuple
    kwargs: dict
    retries: int
    eta: datetime | None
    published_at: datetime
    inside_transaction: bool  # the sender's database transaction was still open
    sent_by_test: bool  # sent with send_again(), not by the target

    @property
    def delay_seconds(self) -> float:
        return 0.0 if self.eta is None else (self.eta - self.published_at).total_seconds()

    def names(self, pk) -> bool:
        """Whether the arguments name the row `pk`, as an id or as a model instance."""
        values = [*self.args, *self.kwargs.values()]
        return any(getattr(value, "pk", value) == pk for value in values)


@dataclass(frozen=True)
class Run:
    task_id: str
    state: str  # SUCCESS, RETRY or FAILURE


class TaskLog:
    def __init__(self, app) -> None:
        self.app = app
        self.messages: list[Message] = []
        self.runs: list[Run] = []
        self._changed = threading.Condition()
        self._sending = threading.local()

    # -- recording -------------------------------------------------------------------

    def connect(self) -> None:
        before_task_publish.connect(self._published, weak=False)
        task_postrun.connect(self._ran, weak=False)

    def disconnect(self) -> None:
        before_task_publish.disconnect(self._published)
        task_postrun.disconnect(self._ran)

    def _published(self, sender=None, body=None, headers=None, **_):
        if sender in IGNORED_TASKS:
            return
        args, kwargs, _embed = body
        eta = headers.get("eta")
        message = Message(
            id=headers["id"],
            task=sender,
            args=tuple(args),
            kwargs=dict(kwargs),
            retries=int(headers.get("retries") or 0),
            eta=datetime.fromisoformat(eta) if eta else None,
            published_at=self.app.now(),
            inside_transaction=connection.in_atomic_block,
            sent_by_test=getattr(self._sending, "active", False),
        )
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    def _ran(self, sender=None, task_id=None, state=None, **_):
        if sender is not None and sender.name in IGNORED_TASKS:
            return
        with self._changed:
            self.runs.append(Run(task_id=task_id, state=state))
            self._changed.notify_all()

    # -- reading ---------------------------------------------------------------------

    def the_one_message(self) -> Message:
        """The message the target sent (not a retry the worker scheduled since)."""
        sent = [m for m in self.messages if not m.sent_by_test and not m.retries]
        assert len(sent) == 1, f"expected the order to send one task message, it sent {len(sent)}"
        return sent[0]

    def retries_of(self, task_id: str) -> list[Message]:
        """The retries the worker scheduled for a message (they keep its id)."""
        return [m for m in self.messages if m.id == task_id and not m.sent_by_test and m.retries]

    def runs_of(self, task_id: str) -> list[Run]:
        return [r for r in self.runs if r.task_id == task_id]

    def wait_for_runs(self, *task_ids: str, count: int = 1) -> list[Run]:
        """Block until the worker has handled `count` deliveries of each message."""

        def short() -> list[str]:
            return [t for t in task_ids if len(self.runs_of(t)) < count]

        with self._changed:
            done = self._changed.wait_for(lambda: not short(), timeout=WAIT_SECONDS)
        assert done, "; ".join(
            f"the worker handled {len(self.runs_of(t))} of {count} deliveries of task {t} "
            f"within {WAIT_SECONDS} s"
            for t in short()
        )
        # task_postrun fires before the worker acknowledges the message; let it finish.
        # Once for all the messages, which the worker handled one after another meanwhile.
        time.sleep(0.05)
        return [r for r in self.runs if r.task_id in task_ids]

    # -- sending ---------------------------------------------------------------------

    def send_again(self, message: Message, *, task_id: str | None = None, retries: int = 0):
        """Publish `message` once more, as the broker redelivers it: same task, same
        arguments and, unless told otherwise, the same id."""
        self._sending.active = True
        try:
            return self.app.send_task(
                message.task,
                args=message.args,
                kwargs=message.kwargs,
                task_id=task_id or message.id,
                retries=retries,
            )
        finally:
            self._sending.active = False


def content_types_waiting(app) -> list[str]:
    """The content type of each message waiting in the app's default queue, as it sits on
    the broker (application/json, application/x-python-serialize for pickle...). Reads
    and removes the messages without decoding them: call it with no worker running."""
    found = []
    with app.connection_for_read() as conn:
        queue = app.amqp.queues[app.conf.task_default_queue](conn.default_channel)
        while (raw := queue.get(no_ack=True)) is not None:
            found.append(raw.content_type)
    return found


class MailRelayDown(BaseEmailBackend):
    """An email backend whose SMTP relay refuses every connection."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPConnectError(421, b"relay down for maintenance")


class FailingRelay(BaseEmailBackend):
    """An email backend that fails every send with `FailingRelay.error`, and counts the
    attempts. A task that would retry forever is stopped after STOP_AFTER attempts by an
    error no retry policy should cover, so a test of it ends (and fails) instead of
    looping. Set `error` and reset `attempts` with FailingRelay.fail_with()."""

    STOP_AFTER = 12
    error: BaseException = smtplib.SMTPConnectError(421, b"relay down for maintenance")
    attempts = 0

    @classmethod
    def fail_with(cls, error: BaseException) -> None:
        cls.error, cls.attempts = error, 0

    def send_messages(self, email_messages):
        type(self).attempts += 1
        if self.attempts > self.STOP_AFTER:
            raise RelayGaveUpOnTheTest(f"stopped after {self.STOP_AFTER} attempts")
        raise self.error


class RelayGaveUpOnTheTest(Exception):
    """Raised by FailingRelay to end a task that keeps retrying."""
