"""The JWT lifecycle: login, expiry, refresh, rotation, logout, and forged tokens.

Time is moved with time-machine, never slept through: `time_machine.shift()` jumps the
clock that both the target and PyJWT read.
"""

from datetime import timedelta

import jwt
import pytest
from conftest import LOGIN, LOGOUT, REFRESH
from django.core.cache import cache
from rest_framework.test import APIClient

from drillkit.races import run_concurrently

ACCESS_LIFETIME = timedelta(minutes=5)
REFRESH_LIFETIME = timedelta(days=1)


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def me_status(token):
    return bearer(token).get("/api/me/").status_code


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def tokens(alice, login):
    return login(alice)


# -- login ----------------------------------------------------------------------------


def test_login_returns_an_access_and_a_refresh_token(tokens):
    assert set(tokens) == {"access", "refresh"}
    assert me_status(tokens["access"]) == 200


def test_wrong_password_gets_401_and_no_tokens(alice, api_client):
    response = api_client.post(LOGIN, {"username": "alice", "password": "guess"})
    assert response.status_code == 401
    assert "access" not in response.data


# The API runs behind one reverse proxy (see the brief). It connects from PROXY and
# appends the address it saw to X-Forwarded-For; anything before that was sent by the
# client itself and proves nothing.
PROXY = "10.0.0.2"
ATTACKER = "203.0.113.7"
NEIGHBOUR = "203.0.113.8"


def through_proxy(client_address, forged=""):
    """The request as the API sees it. A forging client also sends the other headers that
    name a client address; the proxy passes them on untouched."""
    if not forged:
        return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": client_address}
    return {
        "REMOTE_ADDR": PROXY,
        "HTTP_X_FORWARDED_FOR": f"{forged}, {client_address}",
        "HTTP_X_REAL_IP": forged.split(",")[0],
        "HTTP_FORWARDED": f"for={forged.split(',')[0]}",
    }


def guess(n, headers):
    """One wrong password. The usernames vary too: password spraying tries many accounts,
    so a limit per account alone is not a limit per client."""
    username = "alice" if n % 2 else f"user{n}"
    body = {"username": username, "password": f"guess-{n}"}
    return APIClient().post(LOGIN, body, **headers).status_code


# --8<-- [start:throttle]
@pytest.mark.flaw("D4-F10")
def test_password_guessing_is_throttled_to_five_a_minute(alice, time_machine):
    time_machine.move_to(timedelta(0), tick=False)
    statuses = []
    for n in range(6):  # one guess every 10 seconds: six inside one minute
        statuses.append(guess(n, through_proxy(ATTACKER)))
        time_machine.shift(timedelta(seconds=10))
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429, "the sixth login attempt within a minute should be throttled"
    time_machine.shift(timedelta(seconds=2))  # 62 s after the first guess
    assert guess(6, through_proxy(ATTACKER)) == 401, "a minute later, one more attempt"


# --8<-- [end:throttle]

BUDGET_CAP = 100  # more than any rate a target here sets, so every throttle shows


def attempts_before_429(headers_for):
    """How many guesses one client gets before the first 429 (None: never, up to the cap),
    from a clean slate and with the clock stopped."""
    cache.clear()
    for n in range(BUDGET_CAP):
        if guess(n, headers_for(n)) == 429:
            return n
    return None


@pytest.mark.flaw("D4-F12")
@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda n: f"198.51.100.{n}", id="one forged address"),
        pytest.param(lambda n: f"198.51.100.{n}, 192.0.2.{n}", id="a forged chain"),
    ],
)
def test_a_forged_x_forwarded_for_does_not_reset_the_login_throttle(alice, forge, time_machine):
    time_machine.move_to(timedelta(0), tick=False)
    steady = attempts_before_429(lambda n: through_proxy(ATTACKER))
    # Another client behind the same proxy keeps its own budget: the throttle must count
    # the address the proxy saw, not the proxy itself.
    assert guess(0, through_proxy(NEIGHBOUR)) == 401, "a neighbour got the attacker's 429"
    rotating = attempts_before_429(lambda n: through_proxy(ATTACKER, forged=forge(n)))
    assert rotating == steady, (
        f"a client that changes X-Forwarded-For on every guess got {rotating} guesses "
        f"before a 429, one that does not got {steady}"
    )


# -- expiry, with a controlled clock ---------------------------------------------------


# --8<-- [start:expiry]
@pytest.mark.flaw("D4-F11")
@pytest.mark.parametrize("issued_by", ["login", "refresh"])
def test_access_token_expires_after_five_minutes(issued_by, tokens, time_machine):
    time_machine.move_to(timedelta(0), tick=False)  # freeze now; shift() moves it exactly
    access = tokens["access"]
    if issued_by == "refresh":
        access = APIClient().post(REFRESH, {"refresh": tokens["refresh"]}).data["access"]
    time_machine.shift(ACCESS_LIFETIME - timedelta(seconds=5))
    assert me_status(access) == 200, "still inside its lifetime"
    time_machine.shift(timedelta(seconds=10))
    assert me_status(access) == 401, "an access token must not outlive 5 minutes"


def test_refresh_gives_a_new_access_token_after_the_old_one_expired(tokens, time_machine):
    time_machine.move_to(timedelta(0), tick=False)
    time_machine.shift(ACCESS_LIFETIME + timedelta(minutes=1))
    response = APIClient().post(REFRESH, {"refresh": tokens["refresh"]})
    assert response.status_code == 200
    assert me_status(response.data["access"]) == 200


def test_refresh_token_expires_after_a_day(tokens, time_machine):
    time_machine.move_to(timedelta(0), tick=False)
    time_machine.shift(REFRESH_LIFETIME + timedelta(seconds=1))
    response = APIClient().post(REFRESH, {"refresh": tokens["refresh"]})
    assert response.status_code == 401


# --8<-- [end:expiry]


# -- rotation and logout ----------------------------------------------------------------


def test_refresh_rotates_the_refresh_token(tokens):
    response = APIClient().post(REFRESH, {"refresh": tokens["refresh"]})
    assert response.status_code == 200
    assert response.data["refresh"] != tokens["refresh"]


@pytest.mark.flaw("D4-F6")
def test_old_refresh_token_is_dead_after_rotation(tokens):
    client = APIClient()
    first = client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert first.status_code == 200
    reuse = client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert reuse.status_code == 401, "a rotated refresh token must not mint new tokens"
    second = client.post(REFRESH, {"refresh": first.data["refresh"]})
    assert second.status_code == 200, "the rotated-to token carries the session on"
    again = client.post(REFRESH, {"refresh": first.data["refresh"]})
    assert again.status_code == 401, "every rotation revokes, not only the first"


# --8<-- [start:race]
@pytest.mark.flaw("D4-F6")
def test_a_refresh_that_another_overtakes_after_its_blacklist_check_is_refused(alice, login):
    """The race below, without threads, on any database: the moment this refresh has read
    the blacklist, a second refresh of the same token runs from start to finish. Then
    this one goes on. Exactly one of the two may get a new pair."""
    from django.db import connection

    refresh = login(alice)["refresh"]
    overtaker = []

    def second_refresh_after_the_first_blacklist_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        reads_blacklist = sql.lstrip().upper().startswith("SELECT") and "blacklist" in sql
        if reads_blacklist and not overtaker:
            overtaker.append(None)  # reserve: the second refresh's own reads don't count
            overtaker[0] = APIClient().post(REFRESH, {"refresh": refresh}).status_code
        return result

    with connection.execute_wrapper(second_refresh_after_the_first_blacklist_read):
        first = APIClient().post(REFRESH, {"refresh": refresh}).status_code
    if not overtaker:  # nothing ever read a blacklist: the two refreshes ran one after another
        overtaker.append(APIClient().post(REFRESH, {"refresh": refresh}).status_code)
    statuses = sorted([first, overtaker[0]])
    assert statuses == [200, 401], (
        f"two interleaved refreshes of one token: exactly one may rotate it, but the "
        f"statuses were {statuses}"
    )


@pytest.mark.flaw("D4-F6")
@pytest.mark.postgres(
    reason="two refreshes must really run at once, each on its own connection, and the "
    "write gate reads pg_stat_activity to see which of them waits for a lock"
)
@pytest.mark.django_db(transaction=True)  # each thread commits for real
def test_two_refreshes_of_one_token_at_once_give_one_new_pair(alice, login):
    """Both requests read the blacklist before either writes to it: the gate holds each
    one just before its first write to the blacklist table until both got there."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    refresh = login(alice)["refresh"]
    responses = run_concurrently(
        [lambda: APIClient().post(REFRESH, {"refresh": refresh})] * 2,
        hold_before_writing_to=BlacklistedToken,
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 401], (
        f"two refreshes of one token at the same moment: exactly one may rotate it, "
        f"but the statuses were {statuses}"
    )


# --8<-- [end:race]


@pytest.mark.flaw("D4-F7")
# Logout is open to anyone (see the brief): a client whose access token has expired must
# still be able to end its session.
@pytest.mark.parametrize("sends_access_token", [True, False], ids=["signed in", "expired"])
def test_logout_revokes_the_refresh_token(sends_access_token, tokens):
    client = bearer(tokens["access"]) if sends_access_token else APIClient()
    assert client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 200
    after = APIClient().post(REFRESH, {"refresh": tokens["refresh"]})
    assert after.status_code == 401, "the refresh token must not work after logout"


# --8<-- [start:logout-access]
def test_logout_cannot_revoke_the_access_token(tokens):
    """What really happens: JWT access tokens are not looked up per request, so logout
    leaves the access token working until it expires. That is why it lives minutes."""
    bearer(tokens["access"]).post(LOGOUT, {"refresh": tokens["refresh"]})
    assert me_status(tokens["access"]) == 200


# --8<-- [end:logout-access]


# -- tokens the API must refuse ---------------------------------------------------------


# --8<-- [start:flaw-marker]
@pytest.mark.flaw("D4-F8")
def test_refresh_token_is_not_an_access_token(tokens):
    assert me_status(tokens["refresh"]) == 401


# --8<-- [end:flaw-marker]


@pytest.mark.flaw("D4-F9")
def test_deactivated_users_tokens_stop_working(alice, tokens):
    alice.is_active = False
    alice.save()
    assert me_status(tokens["access"]) == 401, "the access token still works"
    refreshed = APIClient().post(REFRESH, {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 401, "the refresh token still works"


# --8<-- [start:password-change]
@pytest.mark.flaw("D4-F13")
def test_a_password_change_ends_the_access_tokens_issued_before_it(alice, tokens):
    alice.set_password("a brand new passphrase")
    alice.save()
    assert me_status(tokens["access"]) == 401


@pytest.mark.flaw("D4-F13")
def test_a_password_change_ends_the_refresh_tokens_issued_before_it(alice, tokens):
    alice.set_password("a brand new passphrase")
    alice.save()
    refreshed = APIClient().post(REFRESH, {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 401, "a refresh token from before the change still works"


# --8<-- [end:password-change]


def test_tokens_issued_after_a_password_change_work(alice, login):
    alice.set_password("a brand new passphrase")
    alice.save()
    fresh = login(alice, password="a brand new passphrase")
    assert me_status(fresh["access"]) == 200
    assert APIClient().post(REFRESH, {"refresh": fresh["refresh"]}).status_code == 200


def test_a_deleted_users_tokens_are_refused_not_a_server_error(alice, tokens):
    """simplejwt 5.5.1's own refresh answers 500 here (upstream issue #860)."""
    alice.delete()
    assert me_status(tokens["access"]) == 401
    assert APIClient().post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401
    logout = bearer(tokens["access"]).post(LOGOUT, {"refresh": tokens["refresh"]})
    assert logout.status_code < 500


def _claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def test_token_with_a_tampered_payload_is_refused(tokens, make_user):
    victim = make_user("victim")
    header, _payload, signature = tokens["access"].split(".")
    forged = jwt.encode({**_claims(tokens["access"]), "user_id": str(victim.pk)}, "k" * 32)
    forged_payload = forged.split(".")[1]
    assert me_status(f"{header}.{forged_payload}.{signature}") == 401


def test_token_signed_with_another_key_is_refused(tokens):
    forged = jwt.encode(
        _claims(tokens["access"]), "a-key-that-is-not-the-servers-key", algorithm="HS256"
    )
    assert me_status(forged) == 401


def test_unsigned_alg_none_token_is_refused(tokens):
    forged = jwt.encode(_claims(tokens["access"]), None, algorithm="none")
    assert me_status(forged) == 401


def test_garbage_token_is_refused():
    assert me_status("not.a.jwt") == 401


# -- privileges through the profile -----------------------------------------------------


@pytest.mark.flaw("D4-F5")
# DRF's BooleanField reads all of these as True: a check on the raw body must not miss one.
@pytest.mark.parametrize("true", [True, "true", 1, "on"], ids=repr)
def test_user_cannot_grant_themselves_a_privilege(true, alice, tokens):
    from django.contrib.auth.models import Group, Permission

    admins = Group.objects.create(name="admins")
    body = {
        "is_staff": true,
        "is_superuser": true,
        "is_active": False,
        "groups": [admins.pk],
        "user_permissions": list(Permission.objects.values_list("pk", flat=True)[:3]),
    }
    response = bearer(tokens["access"]).patch("/api/me/", body, format="json")
    alice.refresh_from_db()
    held = {
        "is_staff": alice.is_staff,
        "is_superuser": alice.is_superuser,
        "is_active": not alice.is_active,  # dropping it would lock her out: still a change
        "groups": alice.groups.exists(),
        "user_permissions": alice.user_permissions.exists(),
    }
    changed = [name for name, value in held.items() if value]
    assert not changed, f"PATCH /api/me/ changed {changed} (status {response.status_code})"


def test_user_can_update_their_own_email(alice, tokens):
    response = bearer(tokens["access"]).patch(
        "/api/me/", {"email": "alice@new.example"}, format="json"
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.email == "alice@new.example"
