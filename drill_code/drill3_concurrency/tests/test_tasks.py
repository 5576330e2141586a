"""The confirmation task, run by a real Celery worker.

Messages go through the broker (in memory, or Redis when CELERY_BROKER_URL is set) and a
worker thread runs them: no task_always_eager, which skips the broker, the serializer and
the transaction boundary, exactly where these bugs live. The worker reads the database
through its own connection, so these tests commit for real (transaction=True).

The task's contract:
- it is queued after the order commits, and never for an order that rolled back;
- its message carries the order's id, as JSON;
- delivered twice, it emails once; it never confirms an order cancelled meanwhile;
- a mail outage is retried with exponential backoff, and at most five times.
"""

import json

import pytest
from celery.contrib.testing.worker import start_worker
from conftest import PRICE_CENTS, cancel_order, place_order
from django.core import mail

pytestmark = pytest.mark.django_db(transaction=True)

MAX_RETRIES = 5
RELAY_DOWN = "taskqueue.MailRelayDown"


@pytest.fixture
def ada(make_customer):
    return make_customer("ada")


@pytest.fixture
def lamp(make_product):
    return make_product("lamp", stock=5)


def confirmations_to(customer):
    return [m for m in mail.outbox if customer.email in m.to]


# -- queued after the commit ------------------------------------------------------------


def test_a_placed_order_is_confirmed_by_email(ada, lamp, tasks, celery_worker):
    response = place_order(ada, "lamp")
    assert response.status_code == 201
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
def test_the_task_message_carries_the_order_id_as_json(ada, lamp, tasks):
    order_id = place_order(ada, "lamp").data["id"]
    message = tasks.the_one_message()
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
def test_a_redelivered_message_sends_one_email(ada, lamp, tasks, celery_worker):
    from shop.models import Order

    order_id = place_order(ada, "lamp").data["id"]
    message = tasks.the_one_message()
    tasks.wait_for_runs(message.id)

    tasks.send_again(message)  # what the broker does when a worker dies before its ack
    tasks.wait_for_runs(message.id, count=2)

    assert len(confirmations_to(ada)) == 1, (
        f"the same message delivered twice sent {len(confirmations_to(ada))} emails"
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
def first_attempt(ada, lamp, tasks, relay_down, celery_worker):
    """An order placed while the mail relay is down, and its first (failed) delivery."""
    place_order(ada, "lamp")
    message = tasks.the_one_message()
    tasks.wait_for_runs(message.id)
    return message


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
        f"after {MAX_RETRIES} retries the task must give up, but it scheduled "
        f"{len(tasks.retries_of(last.id))} more"
    )
    assert run.state == "FAILURE", "a task that gives up fails (and is logged as failed)"


# --8<-- [start:backoff]
@pytest.mark.flaw("D3-F7")
def test_retries_back_off_exponentially(first_attempt, tasks):
    """Jitter makes each delay random, from zero up to a ceiling that doubles with every
    retry. Eight messages on their fifth attempt: with backoff, the chance that none waits
    longer than 5 s is below one in a billion; with a fixed short delay, it is certain."""
    fifth_attempts = [
        tasks.send_again(first_attempt, task_id=f"fifth-attempt-{n}", retries=4) for n in range(8)
    ]
    delays = []
    for sent in fifth_attempts:
        tasks.wait_for_runs(sent.id)
        # A retry drawn with no delay may already have run and failed again: take the
        # retry that follows the fifth attempt only.
        delays += [round(m.delay_seconds, 1) for m in tasks.retries_of(sent.id) if m.retries == 5]
    assert len(delays) == 8, "each failed attempt schedules one retry"
    assert max(delays) > 5, (
        f"on the fifth attempt the retries were scheduled {delays} seconds later: the "
        "delay does not grow, so every queued task keeps hammering the relay"
    )


# --8<-- [end:backoff]
