"""How the shop talks to a database that may be down: one circuit breaker per process.

Every database call goes through `database()`. After FAIL_MAX infrastructure failures
in a row the breaker opens: for RESET_TIMEOUT seconds no request touches the database,
each is answered at once (stale data or a 503), and the database gets room to recover.
Then a single trial call goes through, while every other caller is still answered at
once; the trial's success closes the breaker, its failure opens it again.
"""

import threading
from contextlib import contextmanager

import pybreaker
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.exceptions import APIException

FAIL_MAX = 3
RESET_TIMEOUT = 1  # seconds: the service recovers at most this long after the database


def is_infrastructure_failure(exc: BaseException) -> bool:
    """Only a database that cannot answer counts: a refused connection, a dropped one, a
    query cancelled by a timeout. An IntegrityError, a 404 or a validation error is the
    database answering, and must not open the breaker."""
    return isinstance(exc, OperationalError | InterfaceError)


class OneTrialCall(pybreaker.CircuitBreakerListener):
    """Admit one caller at a time in half-open state, and turn the others away.

    pybreaker decides the state under its lock, but `calling()` runs the block outside
    it, so every request that arrives while the trial call is still running finds the
    breaker half-open and goes through too: after an outage, the whole backlog hits the
    database at once. This listener lets the first one through and refuses the rest
    until the breaker leaves half-open state (the trial closed or reopened it).
    """

    def __init__(self) -> None:
        self._trial = threading.Lock()

    def before_call(self, cb, func, *args, **kwargs):
        # Called under the breaker's lock, once the state for this call is decided.
        if cb.current_state == pybreaker.STATE_HALF_OPEN and not self._trial.acquire(
            blocking=False
        ):
            raise pybreaker.CircuitBreakerError("a trial call is already in progress")

    def state_change(self, cb, old_state, new_state):
        # Also under the breaker's lock: no caller can slip in between the trial's end
        # and the state it leaves behind.
        if old_state is not None and old_state.name == pybreaker.STATE_HALF_OPEN:
            self._trial.release()


# One breaker per process, shared by every thread: module state is created once. The
# default success_threshold of 1 matters to OneTrialCall: one success leaves half-open.
database_breaker = pybreaker.CircuitBreaker(
    fail_max=FAIL_MAX,
    reset_timeout=RESET_TIMEOUT,
    exclude=[lambda exc: not is_infrastructure_failure(exc)],
    listeners=[OneTrialCall()],
    name="database",
)


class DatabaseUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The shop cannot reach its database right now. Please retry shortly."
    default_code = "database_unavailable"

    def __init__(self, retry_after: int = RESET_TIMEOUT):
        super().__init__()
        # DRF's exception handler sends `wait` as the Retry-After header (it is how
        # throttling does it): tell clients when the breaker will try again.
        self.wait = retry_after


@contextmanager
def database():
    """Run a block of database work through the breaker.

    An outage, or an open breaker, becomes DatabaseUnavailable (a JSON 503 with
    Retry-After). Querysets are lazy: evaluate them inside the block, or the query runs
    after it, outside the breaker.
    """
    try:
        # calling() rather than call(): pybreaker's call() holds the breaker's lock while
        # the function runs, which would let only one thread at a time use the database.
        # https://github.com/danielfm/pybreaker/issues/3
        with database_breaker.calling():
            yield
    except pybreaker.CircuitBreakerError as exc:
        raise DatabaseUnavailable() from exc
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable() from exc
