"""Fixtures for Drill 4: the people in the permission matrix and their tokens.

Tokens come from the target's own login endpoint, never from a helper, so every test
also exercises the login flow the learner is reviewing.
"""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from drillkit.fixtures import PASSWORD

LOGIN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
LOGOUT = "/api/auth/logout/"


def results(response):
    """The items of a list response, paged ({"results": [...]}) or not."""
    data = response.data
    return data["results"] if isinstance(data, dict) else data


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    # Throttles count requests in the cache; each test starts with a clean slate.
    cache.clear()


@pytest.fixture
def people(make_user):
    """The signed-in roles of the matrix; 'owner' owns the project, 'user' does not.
    The fourth role, anonymous, is no user at all: people.get("anonymous") is None."""
    return {
        "owner": make_user("olivia"),
        "user": make_user("mallory"),
        "staff": make_user("sam", is_staff=True),
    }


@pytest.fixture
def project(people):
    """Olivia's project, with one note. Mallory has a project of her own, made first, so
    that no project id equals its owner's user id: a check that compares the wrong ids
    would otherwise pass by luck of the data."""
    from notes.models import Note, Project  # the target's app, whichever it is

    own = Project.objects.create(owner=people["user"], name="Mallory's own")
    Note.objects.create(project=own, author=people["user"], body="Mallory's note")
    project = Project.objects.create(owner=people["owner"], name="Launch plan")
    Note.objects.create(project=project, author=people["owner"], body="Book the venue")
    return project


@pytest.fixture
def login(api_client):
    """Log in through the API and return the token pair."""

    def log_in(user, password=PASSWORD):
        response = api_client.post(LOGIN, {"username": user.username, "password": password})
        assert response.status_code == 200, f"login as {user.username} failed: {response.data}"
        return response.data

    return log_in


@pytest.fixture
def client_for(login):
    """An APIClient that sends `user`'s access token (or no token for None)."""

    def make(user):
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(user)['access']}")
        return client

    return make
