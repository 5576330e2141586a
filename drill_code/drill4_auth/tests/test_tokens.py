"""The JWT lifecycle: login, expiry, refresh, rotation, logout, and forged tokens.

Time is moved with time-machine, never slept through: `time_machine.shift()` jumps the
clock that both the target and PyJWT read.
"""

from datetime import timedelta

import jwt
import pytest
from conftest import LOGIN, LOGOUT, REFRESH
from rest_framework.test import APIClient

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


@pytest.mark.flaw("D4-F10")
def test_password_guessing_is_throttled(alice, api_client):
    statuses = [
        api_client.post(LOGIN, {"username": "alice", "password": f"guess-{n}"}).status_code
        for n in range(6)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429, "the sixth login attempt within a minute should be throttled"


# -- expiry, with a controlled clock ---------------------------------------------------


# --8<-- [start:expiry]
@pytest.mark.flaw("D4-F11")
def test_access_token_expires_after_five_minutes(tokens, time_machine):
    time_machine.move_to(timedelta(0), tick=False)  # freeze now; shift() moves it exactly
    time_machine.shift(ACCESS_LIFETIME - timedelta(seconds=5))
    assert me_status(tokens["access"]) == 200, "still inside its lifetime"
    time_machine.shift(timedelta(seconds=10))
    assert me_status(tokens["access"]) == 401, "an access token must not outlive 5 minutes"


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
    assert client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 200
    reuse = client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert reuse.status_code == 401, "a rotated refresh token must not mint new tokens"


@pytest.mark.flaw("D4-F7")
def test_logout_revokes_the_refresh_token(tokens):
    client = bearer(tokens["access"])
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


@pytest.mark.flaw("D4-F8")
def test_refresh_token_is_not_an_access_token(tokens):
    assert me_status(tokens["refresh"]) == 401


@pytest.mark.flaw("D4-F9")
def test_deactivated_users_token_stops_working(alice, tokens):
    alice.is_active = False
    alice.save()
    assert me_status(tokens["access"]) == 401


def test_deactivated_user_cannot_refresh(alice, tokens):
    alice.is_active = False
    alice.save()
    assert APIClient().post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401


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
def test_user_cannot_make_themselves_staff(alice, tokens):
    response = bearer(tokens["access"]).patch("/api/me/", {"is_staff": True}, format="json")
    alice.refresh_from_db()
    assert not alice.is_staff, f"PATCH /api/me/ granted staff (status {response.status_code})"


def test_user_can_update_their_own_email(alice, tokens):
    response = bearer(tokens["access"]).patch(
        "/api/me/", {"email": "alice@new.example"}, format="json"
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.email == "alice@new.example"
