"""Fixtures every drill's tests can use. The harness loads this module as a pytest plugin.

Drill-specific fixtures stay in the drill's own tests/conftest.py; what lives here is
what several drills would otherwise each write again.
"""

import json

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


def past_the_upload_limit(payload: dict) -> bytes:
    """`payload` as a JSON body one byte longer than Django's DATA_UPLOAD_MAX_MEMORY_SIZE,
    padded with whitespace between its tokens.

    The body is valid in every other way: each field within its bounds, no unknown field.
    A test that sends it sees it refused only by the size limit; take the limit away and
    the request succeeds, so the test fails, as it must."""
    from django.conf import global_settings, settings  # the target's, so imported late

    # A target that lifts the limit (None) is sent a body past Django's default one.
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or global_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    text = json.dumps(payload)
    assert text.endswith("}"), "the payload must be a JSON object"
    padding = max(0, limit + 1 - len(text))
    return (text[:-1] + " " * padding + "}").encode()
