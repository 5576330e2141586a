"""The confirmation task, run by a real Celery worker.

Messages go through the broker (in memory, or Redis when CELERY_BROKER_URL is set) and a
worker thread runs them: no task_always_eager, which skips the broker, the serializer and
the transaction boundary, exactly where these bugs live. The worker reads the database
through its own connection, so these tests commit for real (transaction=True).

The task's contract:
- it is queued after the order commits, and never for an order that rolled back;
- its message carries the order's id, as JSON, and the workers accept no pickle;
- delivered twice, one after the other or at the same moment, it emails once; it never
  confirms an order cancelled meanwhile;
- a mail outage is retried with exponential backoff and jitter, and at most five times;
- every way a relay fails on the wire is retried, timeouts included, and neither the
  mail call nor the task can block forever;
- an order whose confirmation is given up on says so, and can still be cancelled.
"""

import copy
import json
import smtplib
import socket
import ssl

import pytest
from celery.contrib.testing.worker import start_worker
from celery.exceptions import SoftTimeLimitExceeded
from conftest import BALANCE_CENTS, PRICE_CENTS, cancel_order, place_order
from django.core import mail
from taskqueue import FailingRelay, content_types_waiting

from drillkit.races import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)

MAX_RETRIES = 5
RELAY_DOWN = "taskqueue.MailRelayDown"
FAILING_RELAY = "taskqueue.FailingRelay"
# The longest a single SMTP operation, and a whole attempt, may block a worker (and the
# order's row lock, if the task holds one). Generous bounds: the test asks for a limit,
# not for a particular one.
MAX_EMAIL_TIMEOUT_SECONDS = 30
MAX_TASK_TIME_LIMIT_SECONDS = 300


@pytest.fixture
def ada(make_customer):
    return make_customer("ada")


@pytest.fixture
def lamp(make_product):
    return make_product("lamp", stock=5)


def confirmations_to(customer):
    return [m for m in mail.outbox if customer.email in m.to]


# -- queued after the commit ------------------------------------------------------------


def test_a_placed_order_is_confirmed_by_email(
    ada, lamp, tasks, celery_app, celery_worker_parameters
):
    response = place_order(ada, "lamp")
    assert response.status_code == 201
    with start_worker(celery_app, **celery_worker_parameters):
        tasks.wait_for_runs(tasks.the_one_message().id)
    emails = confirmations_to(ada)
    assert len(emails) == 1, "one confirmation per order"
    assert f"Order #{response.data['id']}" in emails[0].subject


# --8<-- [start:after-commit]
@pytest.mark.flaw("D3-F4")
def test_the_confirmation_is_queued_after_the_order_commits(ada, lamp, tasks):
    place_order(ada, "lamp")
    message = tasks.the_one_message()
    assert not message.inside_transaction, (
        "the confirmation reached the broker while the order's transaction was still "
        "open: a worker can run it before the commit and not find the order"
    )


@pytest.mark.flaw("D3-F4")
def test_no_confirmation_is_queued_for_an_order_that_rolled_back(make_customer, lamp, tasks):
    broke = make_customer("broke", balance_cents=PRICE_CENTS - 1)
    response = place_order(broke, "lamp")
    assert response.status_code == 402
    assert not broke.orders.exists(), "the order was rolled back"
    assert tasks.messages == [], (
        f"the order rolled back, yet {len(tasks.messages)} task message(s) reached the "
        "broker: the customer would be told an order that does not exist is confirmed"
    )


# --8<-- [end:after-commit]


@pytest.mark.flaw("D3-F5")
def test_the_task_message_carries_the_order_id_as_json(ada, lamp, tasks, celery_app):
    order_id = place_order(ada, "lamp").data["id"]
    message = tasks.the_one_message()
    on_the_broker = content_types_waiting(celery_app)  # no worker runs in this test
    assert on_the_broker == ["application/json"], (
        f"the message reached the broker as {on_the_broker}, not JSON. A "
        "pickled message runs code when a worker loads it: set CELERY_TASK_SERIALIZER to "
        "json, and send the order's id, not the order."
    )
    unsafe = {"pickle", "application/x-python-serialize"} & set(celery_app.conf.accept_content)
    assert not unsafe, (
        f"the workers accept {sorted(unsafe)}: anyone who can write to the broker can then "
        "run code on them. Accept JSON only (CELERY_ACCEPT_CONTENT)."
    )
    try:
        json.dumps([message.args, message.kwargs])
        problem = None
    except TypeError as exc:
        problem = str(exc)
    assert problem is None, (
        f"the task was sent {message.args!r}, which is not JSON ({problem}). Send the "
        "order's id and let the task read the row when it runs."
    )
    assert order_id in [*message.args, *message.kwargs.values()], (
        f"the message should carry the order id {order_id}, it carries {message.args!r}"
    )


# -- delivered more than once -------------------------------------------------------------


# --8<-- [start:redelivery]
@pytest.mark.flaw("D3-F6")
def test_a_redelivered_message_sends_one_email(
    ada, lamp, tasks, celery_app, celery_worker_parameters
):
    from shop.models import Order

    order_id = place_order(ada, "lamp").data["id"]  # committed before the worker starts
    message = tasks.the_one_message()
    with start_worker(celery_app, **celery_worker_parameters):
        tasks.wait_for_runs(message.id)
        # What the broker does when a worker loses its connection, or is shut down,
        # between running the task and acknowledging the message (acks_late).
        tasks.send_again(message)
        tasks.wait_for_runs(message.id, count=2)

    assert len(confirmations_to(ada)) == 1, (
        f"the same message delivered twice sent {len(confirmations_to(ada))} emails"
    )
    assert Order.objects.get(pk=order_id).status == "confirmed"


@pytest.mark.flaw("D3-F6")
@pytest.mark.postgres(
    reason="two deliveries at once contend for a row lock, and the write gate reads "
    "pg_stat_activity to see who waits for one"
)
def test_a_message_delivered_twice_at_once_sends_one_email(ada, lamp, tasks, celery_app):
    """Two workers can hold the same message at the same moment (a Redis visibility
    timeout that expires while the first still runs it). Both deliveries run the task's
    own code, each in a thread with its own connection, held before they write to the
    order until the other has caught up or waits for a lock."""
    from shop.models import Order

    order_id = place_order(ada, "lamp").data["id"]
    message = tasks.the_one_message()  # on the broker; no worker runs in this test
    task = celery_app.tasks[message.task]

    def deliver():
        args, kwargs = copy.deepcopy((message.args, message.kwargs))  # each decodes its own
        return task.apply(args=args, kwargs=kwargs, task_id=message.id).get()

    run_concurrently([deliver, deliver], hold_before_writing_to=Order)

    assert len(confirmations_to(ada)) == 1, (
        f"the same message delivered twice at once sent {len(confirmations_to(ada))} emails: "
        "both deliveries found the order still to confirm"
    )
    assert Order.objects.get(pk=order_id).status == "confirmed"


# --8<-- [end:redelivery]


@pytest.mark.flaw("D3-F6")
def test_an_order_cancelled_before_the_worker_runs_is_not_confirmed(
    ada, lamp, tasks, celery_app, celery_worker_parameters
):
    from shop.models import Order

    order_id = place_order(ada, "lamp").data["id"]  # queued; no worker is running yet
    assert cancel_order(ada, order_id).status_code == 200
    with start_worker(celery_app, **celery_worker_parameters):
        tasks.wait_for_runs(tasks.the_one_message().id)

    assert confirmations_to(ada) == [], "a cancelled order must not be confirmed"
    assert Order.objects.get(pk=order_id).status == "cancelled", (
        "the task overwrote the cancellation"
    )


# -- retries ------------------------------------------------------------------------------


@pytest.fixture
def relay_down(settings):
    settings.EMAIL_BACKEND = RELAY_DOWN


@pytest.fixture
def first_attempt(ada, lamp, tasks, relay_down, celery_app, celery_worker_parameters):
    """An order placed while the mail relay is down, and its first (failed) delivery.
    The worker starts once the order has committed: these tests are about retries, so
    they must not depend on when the message was sent (that is D3-F4's test)."""
    place_order(ada, "lamp")
    message = tasks.the_one_message()
    with start_worker(celery_app, **celery_worker_parameters):
        tasks.wait_for_runs(message.id)
        yield message


def test_a_mail_outage_is_retried_later(first_attempt, tasks):
    first_run = tasks.runs_of(first_attempt.id)[0]
    assert first_run.state == "RETRY"
    first_retry = tasks.retries_of(first_attempt.id)[0]
    assert first_retry.retries == 1, "the worker scheduled the first retry"


@pytest.mark.flaw("D3-F7")
def test_the_task_gives_up_after_five_retries(first_attempt, tasks):
    last = tasks.send_again(first_attempt, task_id="last-attempt", retries=MAX_RETRIES)
    [run] = tasks.wait_for_runs(last.id)
    assert tasks.retries_of(last.id) == [], (
        f"the policy is at most {MAX_RETRIES} retries: attempt {MAX_RETRIES + 1} must give "
        f"up, but it scheduled {len(tasks.retries_of(last.id))} more"
    )
    assert run.state == "FAILURE", "a task that gives up fails (and is logged as failed)"


def _delays_after_attempt(tasks, template, attempt: int, count: int) -> list[int]:
    """Send `count` copies of a message on its `attempt`-th attempt, while the relay is
    down; return the delay, in whole seconds, of the retry each one schedules."""
    sent = [
        tasks.send_again(template, task_id=f"attempt-{attempt}-{n}", retries=attempt - 1)
        for n in range(count)
    ]
    tasks.wait_for_runs(*(message.id for message in sent))
    delays = []
    for message in sent:
        # A retry drawn with no delay may already have run and failed again: take only
        # the retry that follows this attempt.
        delays += [
            round(m.delay_seconds) for m in tasks.retries_of(message.id) if m.retries == attempt
        ]
    assert len(delays) == count, (
        f"the policy is {MAX_RETRIES} retries, so a failed attempt {attempt} still schedules "
        f"one; {count} failed attempts {attempt} scheduled {len(delays)}"
    )
    return delays


# --8<-- [start:backoff]
@pytest.mark.flaw("D3-F7")
def test_retries_back_off_exponentially_with_jitter(first_attempt, tasks):
    """With jitter, each delay is drawn at random from zero up to a ceiling that doubles
    with every retry; a fixed delay is the same every time. So ten messages fail their
    first attempt and ten their fifth, and the test asks what backoff with jitter gives
    on all but a vanishingly rare run, and a fixed delay, or a ceiling that stops growing
    after the first retry, never gives: the longest delay after a fifth attempt is more
    than twice the longest after a first. With the mildest setting, Celery's
    retry_backoff=True, the delays are drawn from 0-1 s after a first attempt and 0-16 s
    after a fifth: all ten fifth ones stay within 2 s with a chance of (3/17)^10, about 3
    in 100 million, and all ten are equal with 17 x (1/17)^10."""
    after_first = _delays_after_attempt(tasks, first_attempt, attempt=1, count=10)
    after_fifth = _delays_after_attempt(tasks, first_attempt, attempt=5, count=10)

    assert max(after_fifth) > 2 * max(after_first), (
        f"retries were scheduled {after_first} s after a first attempt and {after_fifth} s "
        "after a fifth: the delay does not grow, so every queued task keeps hammering the "
        "relay at the same pace"
    )
    assert len(set(after_fifth)) > 1, (
        f"ten tasks that failed their fifth attempt together all retry {after_fifth[0]} s "
        "later: without jitter, tasks that failed together retry together"
    )


# --8<-- [end:backoff]


# -- a relay that hangs, or fails in other ways ---------------------------------------------


def deliver_now(celery_app, message):
    """Run the task of `message` in this thread, as a worker would run a delivery: the
    target's own task code, with its own retry policy. Retries run at once instead of
    after their delay (Celery's apply()), so a task that retries five times runs six times
    here, in a fraction of a second."""
    args, kwargs = copy.deepcopy((message.args, message.kwargs))
    return celery_app.tasks[message.task].apply(args=args, kwargs=kwargs, task_id=message.id)


@pytest.fixture
def failing_relay(settings):
    settings.EMAIL_BACKEND = FAILING_RELAY
    return FailingRelay


@pytest.mark.flaw("D3-F8")
def test_the_mail_relay_call_has_a_timeout():
    """A relay that accepts the connection and then says nothing: without a socket
    timeout, smtplib waits for its greeting forever, and the worker with it."""
    from django.core.mail import get_connection

    smtp = get_connection("django.core.mail.backends.smtp.EmailBackend")
    # Django passes EMAIL_TIMEOUT to smtplib; unset, smtplib falls back on the socket
    # module's default timeout, which is also None unless someone set it.
    timeout = smtp.timeout if smtp.timeout is not None else socket.getdefaulttimeout()
    assert 0 < (timeout or 0) <= MAX_EMAIL_TIMEOUT_SECONDS, (
        f"the SMTP connection's timeout is {timeout!r}: a relay that never answers blocks "
        f"the worker for good. Set EMAIL_TIMEOUT (at most {MAX_EMAIL_TIMEOUT_SECONDS} s)."
    )


@pytest.mark.flaw("D3-F8")
def test_the_confirmation_task_has_a_time_limit(ada, lamp, tasks, celery_app):
    """EMAIL_TIMEOUT bounds each socket operation, not a whole send: a relay that drips
    one byte at a time never trips it. The task needs a limit of its own: a hard one that
    kills it, and a soft one below it that raises inside the task first, so it can roll
    back and retry."""
    place_order(ada, "lamp")
    task = celery_app.tasks[tasks.the_one_message().task]
    hard = task.time_limit or celery_app.conf.task_time_limit
    soft = task.soft_time_limit or celery_app.conf.task_soft_time_limit
    assert 0 < (hard or 0) <= MAX_TASK_TIME_LIMIT_SECONDS, (
        f"the confirmation task's hard time limit is {hard!r}: a send that never ends "
        f"holds a worker forever. Set time_limit (at most {MAX_TASK_TIME_LIMIT_SECONDS} s)."
    )
    assert 0 < (soft or 0) < hard, (
        f"the soft time limit is {soft!r} and the hard one {hard}: without a soft limit "
        "below the hard one, a slow send is killed with no chance to roll back, retry or "
        "mark the order. Set soft_time_limit below time_limit."
    )


def confirmation_of(tasks, order_id):
    """The message the target sent for one order (of several placed in a test)."""
    [message] = [
        m for m in tasks.messages if m.names(order_id) and not m.sent_by_test and not m.retries
    ]
    return message


# --8<-- [start:retry-list]
# Every way a relay fails on the wire: none of them is an SMTPException.
PASSING_FAILURES = {
    "socket timeout": TimeoutError("timed out"),
    "connection reset": ConnectionResetError(104, "Connection reset by peer"),
    "DNS failure": socket.gaierror(-3, "Temporary failure in name resolution"),
    "TLS failure": ssl.SSLError(1, "TLS handshake failed"),
    "soft time limit": SoftTimeLimitExceeded(),
}


@pytest.mark.flaw("D3-F9")
def test_a_relay_that_times_out_or_drops_is_retried(ada, lamp, tasks, celery_app, failing_relay):
    given_up_at_once = []
    for name, error in PASSING_FAILURES.items():
        order_id = place_order(ada, "lamp").data["id"]  # an order of its own for each
        failing_relay.fail_with(error)
        deliver_now(celery_app, confirmation_of(tasks, order_id))
        if failing_relay.attempts < 2:
            given_up_at_once.append(name)
    assert not given_up_at_once, (
        f"the task gave up at the first attempt on: {', '.join(given_up_at_once)}. A timeout "
        "or a dropped connection passes like a refused one: retry every error the relay and "
        "the network can raise (smtplib's errors are OSErrors), and the task's own soft "
        "time limit."
    )


# --8<-- [end:retry-list]

# However the task ends without sending, it must say so.
WAYS_TO_GIVE_UP = {
    "out of retries": smtplib.SMTPConnectError(421, b"down"),
    "out of retries on timeouts": TimeoutError("timed out"),
    "an error no retry fixes": ValueError("bad header in the template"),
}


@pytest.mark.flaw("D3-F10")
def test_an_order_whose_confirmation_is_given_up_on_says_so(
    ada, lamp, tasks, celery_app, failing_relay
):
    """However the task ends without sending (out of retries, or an error it does not
    retry), the order must not stay "placed" as if the email were on its way: nobody
    would ever look at it again. It keeps its stock and its charge, and it can still be
    cancelled."""
    from shop.models import Order, Product

    orders = {}
    for name, error in WAYS_TO_GIVE_UP.items():
        orders[name] = place_order(ada, "lamp").data["id"]
        failing_relay.fail_with(error)
        deliver_now(celery_app, confirmation_of(tasks, orders[name]))

    statuses = {name: Order.objects.get(pk=pk).status for name, pk in orders.items()}
    silent = {name: s for name, s in statuses.items() if s in ("placed", "confirmed", "cancelled")}
    assert not silent, (
        f"the confirmation task gave up, and the orders say {silent}: an order whose "
        "confirmation was never sent should say so (e.g. 'unconfirmed'), so support finds it"
    )
    assert Product.objects.get(sku="lamp").stock == 5 - len(orders), "they keep their stock"
    refused = {name: cancel_order(ada, pk).status_code for name, pk in orders.items()}
    assert set(refused.values()) == {200}, (
        f"an order whose confirmation failed can still be cancelled: {refused}"
    )
    ada.wallet.refresh_from_db()
    assert ada.wallet.balance_cents == BALANCE_CENTS, "and cancelling it refunds it"
