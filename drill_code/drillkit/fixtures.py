"""Fixtures every drill's tests can use. The harness loads this module as a pytest plugin.

Drill-specific fixtures stay in the drill's own tests/conftest.py; what lives here is
what several drills would otherwise each write again.
"""

import pytest

# Every test user has this password, so a login test can use it.
PASSWORD = "correct horse battery staple"


@pytest.fixture
def api_client():
    """A DRF test client with no credentials."""
    from rest_framework.test import APIClient  # needs Django set up, so imported late

    return APIClient()


def create_user(username, **extra):
    """A user with PASSWORD, for a fixture that writes outside a test (make_user inside)."""
    from django.contrib.auth import get_user_model  # needs Django set up, so imported late

    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )


@pytest.fixture
def make_user(db):
    """make_user("olivia", is_staff=True) creates a user with PASSWORD."""
    return create_user
