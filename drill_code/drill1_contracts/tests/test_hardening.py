"""Adversarial tests beyond the planted flaws (OWASP API Security Top 10, 2023).

Not tied to a flaw: they hold on the starter as on the solution. They use a plain DRF
APIClient, not the contract client, because most of what they send is outside the
contract on purpose. Each table row names the guard it probes; remove that guard and the
row fails.
"""

import json
from decimal import Decimal

import pytest
from conftest import basic_auth
from rest_framework.test import APIClient

from drillkit.fixtures import past_the_upload_limit


@pytest.fixture
def raw(organizer):
    """A plain client signed in as the organizer, that returns 500s instead of raising."""
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=basic_auth(organizer))
    return client


def as_user(user):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=basic_auth(user))
    return client


def make_event(owner, status="published", **extra):
    from events.models import Event

    fields = {
        "title": "Room",
        "starts_at": "2026-09-01T18:00:00Z",
        "capacity": 5,
        "price": Decimal("10.00"),
        **extra,
    }
    return Event.objects.create(
        organizer=owner, status=getattr(Event.Status, status.upper()), **fields
    )


# -- API1 broken object-level authorisation: every route and method --------------------------

# fmt: off
OBJECT_ACCESS = [
    # who         method   path                        status allowed
    ("anonymous", "GET",   "/api/events/",             (401,)),
    ("anonymous", "POST",  "/api/events/",             (401,)),
    ("anonymous", "GET",   "/api/events/{id}/",        (401,)),
    ("anonymous", "PATCH", "/api/events/{id}/",        (401,)),
    ("anonymous", "GET",   "/api/events/{id}/tickets/", (401,)),
    ("anonymous", "POST",  "/api/events/{id}/tickets/", (401,)),
    ("guest",     "PATCH", "/api/events/{id}/",        (403,)),
    ("guest",     "PUT",   "/api/events/{id}/",        (403, 405)),
    ("guest",     "DELETE", "/api/events/{id}/",       (403, 405)),
    ("organizer", "DELETE", "/api/events/{id}/",       (405,)),
    ("organizer", "PUT",   "/api/events/{id}/",        (405,)),
    ("guest",     "GET",   "/api/events/{draft}/",     (404,)),
    ("guest",     "PATCH", "/api/events/{draft}/",     (403, 404)),
]
# fmt: on


@pytest.mark.parametrize(
    ("who", "method", "path", "allowed"),
    [pytest.param(*row, id=f"{row[0]} {row[1]} {row[2]}") for row in OBJECT_ACCESS],
)
def test_who_may_do_what_to_an_event(who, method, path, allowed, organizer, guest, event):
    from events.models import Event

    draft = make_event(organizer, status="draft", title="Secret launch")
    client = APIClient(raise_request_exception=False)
    if who != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=basic_auth({"guest": guest}.get(who, organizer)))
    url = path.format(id=event.pk, draft=draft.pk)
    response = client.generic(method, url, json.dumps({"title": "Mine"}), "application/json")
    assert response.status_code in allowed, f"{who} {method} {url}: {response.status_code}"
    event.refresh_from_db()
    draft.refresh_from_db()
    assert (event.title, draft.title) == ("PyCon Berlin", "Secret launch")
    assert Event.objects.count() == 2


def test_a_draft_is_not_listed_for_anyone_but_its_organizer(organizer, guest, raw):
    make_event(organizer, status="draft", title="Secret launch")
    make_event(organizer, status="published", title="Open day")
    seen_by_guest = as_user(guest).get("/api/events/").json()["results"]
    seen_by_owner = raw.get("/api/events/").json()["results"]
    assert [e["title"] for e in seen_by_guest] == ["Open day"]
    assert sorted(e["title"] for e in seen_by_owner) == ["Open day", "Secret launch"]


# -- API3 broken object property level authorisation ------------------------------------------

# fmt: off
READ_ONLY_ON_WRITE = [
    # path                         method   field          value sent        stored field
    ("/api/events/",               "POST",  "organizer",   "{guest}",        "organizer_id"),
    ("/api/events/",               "POST",  "id",          999,              "id"),
    ("/api/events/",               "POST",  "created_at",  "2000-01-01T00:00:00Z", "created_at"),
    ("/api/events/{id}/",          "PATCH", "organizer",   "{guest}",        "organizer_id"),
    ("/api/events/{id}/",          "PATCH", "id",          999,              "id"),
    ("/api/events/{id}/",          "PATCH", "seats_left",  0,                "capacity"),
]
# fmt: on


@pytest.mark.parametrize(
    ("path", "method", "field", "value", "stored"),
    [pytest.param(*row, id=f"{row[1]} {row[0]} {row[2]}") for row in READ_ONLY_ON_WRITE],
)
def test_read_only_event_fields_cannot_be_set(
    path, method, field, value, stored, raw, guest, event
):
    from events.models import Event

    value = guest.pk if value == "{guest}" else value
    body = {"title": "T", "starts_at": "2026-06-01T09:00:00Z", "capacity": 3, "price": "1.00"}
    response = raw.generic(
        method, path.format(id=event.pk), json.dumps({**body, field: value}), "application/json"
    )
    assert response.status_code in (200, 201, 400)
    for row in Event.objects.all():
        assert getattr(row, stored) != value, f"{method} {path} set {field}={value!r}"


def test_the_ticket_a_buyer_gets_back_shows_only_their_own_booking(guest, event, book):
    book("Ada")
    response = as_user(guest).post(
        f"/api/events/{event.pk}/tickets/",
        {"holder_name": "Gus", "holder_email": "g@ex.org"},
        format="json",
    )
    assert response.status_code == 201
    assert "Ada" not in response.content.decode()


# -- API4 unrestricted resource consumption ---------------------------------------------------


@pytest.mark.parametrize("path", ["/api/events/", "/api/events/{id}/tickets/"])
@pytest.mark.parametrize("query", ["", "?page_size=1000", "?limit=1000", "?page_size=0"])
def test_no_client_gets_more_than_a_page_of_20(path, query, raw, organizer, event, book):
    from events.models import Ticket

    event.capacity = 50
    event.save()
    for n in range(24):
        make_event(organizer, title=f"Event {n}")
    Ticket.objects.bulk_create(
        Ticket(event=event, holder_name=f"H{n}", holder_email=f"h{n}@ex.org", price_paid=1)
        for n in range(24)
    )
    body = raw.get(path.format(id=event.pk) + query).json()
    items = body["results"] if isinstance(body, dict) else body
    assert len(items) == 20, f"{path}{query} returned {len(items)} items in one response"


# fmt: off
PAGES = [
    # page sent      status
    ("1",            200),
    ("2",            404),   # past the end: one event, 20 to a page
    ("0",            404),
    ("-1",           404),
    ("abc",          404),
    ("1.5",          404),
    ("99999999999999999999999", 404),
]
# fmt: on


@pytest.mark.parametrize(("page", "status"), PAGES, ids=[p for p, _ in PAGES])
def test_page_numbers_are_checked(page, status, raw, event):
    assert raw.get(f"/api/events/?page={page}").status_code == status


# fmt: off
TOO_BIG = [
    # field          value                      why (the title is D1-F6)
    ("description",  "d" * 5001,                "past the contract's 5000"),
    ("capacity",     100_001,                   "past the contract's maximum"),
    ("capacity",     2**63,                     "past a 64-bit column"),
    ("capacity",     10**400,                   "past any column"),
    ("price",        "1000000.00",              "past max_digits=8"),
    ("price",        "1e400",                   "past any decimal"),
    ("price",        "NaN",                     "not a number"),
    ("price",        "-1.00",                   "below zero"),
]
# fmt: on


@pytest.mark.parametrize(
    ("field", "value", "why"), TOO_BIG, ids=[f"{f} {w}" for f, _, w in TOO_BIG]
)
def test_values_past_their_bounds_are_refused(field, value, why, raw):
    from events.models import Event

    body = {"title": "T", "starts_at": "2026-06-01T09:00:00Z", "capacity": 3, "price": "1.00"}
    payload = json.dumps({**body, field: value})
    response = raw.post("/api/events/", payload, content_type="application/json")
    assert response.status_code == 400, f"{field} {why}: {response.status_code}"
    assert not Event.objects.exists()


def test_a_body_past_the_upload_limit_is_refused_not_parsed(raw):
    from events.models import Event

    event = {"title": "T", "starts_at": "2026-06-01T09:00:00Z", "capacity": 3, "price": "1.00"}
    body = past_the_upload_limit(event)
    response = raw.post("/api/events/", body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.status_code
    assert not Event.objects.exists()


# -- API8 security misconfiguration: malformed input is a 4xx, never a 500 ---------------------

# fmt: off
MALFORMED = [
    # what                          method   path                         body
    ("array instead of object",     "POST",  "/api/events/",              "[1, 2]"),
    ("array on update",             "PATCH", "/api/events/{id}/",         "[]"),
    ("array on booking",            "POST",  "/api/events/{id}/tickets/", '[{"holder_name": "G"}]'),
    ("not JSON",                    "POST",  "/api/events/",              "{title:"),
    ("not UTF-8",                   "POST",  "/api/events/",              b"\xff\xfe\x00{"),
    ("empty body",                  "POST",  "/api/events/{id}/tickets/", ""),
    ("null byte in a string",       "POST",  "/api/events/{id}/tickets/",
        '{"holder_name": "G\\u0000", "holder_email": "g@ex.org"}'),
    ("year 1 with an offset",       "PATCH", "/api/events/{id}/",
        '{"starts_at": "0001-01-01T00:00:00+02:00"}'),
    ("year 9999 with an offset",    "PATCH", "/api/events/{id}/",
        '{"starts_at": "9999-12-31T23:59:59-02:00"}'),
    ("year 10000",                  "PATCH", "/api/events/{id}/",
        '{"starts_at": "10000-01-01T00:00:00Z"}'),
    ("id past 64 bits",             "GET",   "/api/events/99999999999999999999999/",  ""),
    ("id past 64 bits, booking",    "POST",  "/api/events/99999999999999999999999/tickets/",
        '{"holder_name": "G", "holder_email": "g@ex.org"}'),
    ("id past 64 bits, update",     "PATCH", "/api/events/99999999999999999999999/", "{}"),
    ("id not a number",             "GET",   "/api/events/x/",            ""),
    ("unknown route",               "GET",   "/api/nothing/",             ""),
]
# fmt: on


@pytest.mark.parametrize(
    ("what", "method", "path", "body"), MALFORMED, ids=[row[0] for row in MALFORMED]
)
def test_malformed_input_is_a_4xx_and_stores_nothing(what, method, path, body, raw, event):
    from events.models import Event, Ticket

    data = body if isinstance(body, bytes) else body.encode()
    response = raw.generic(method, path.format(id=event.pk), data, "application/json")
    assert 400 <= response.status_code < 500, f"{what}: {response.status_code}"
    assert Event.objects.count() == 1
    assert not Ticket.objects.exists()
    event.refresh_from_db()
    assert event.starts_at.year == 2026


@pytest.mark.parametrize(
    "header",
    ["", "Basic", "Basic !!!", "Basic " + "x" * 10_000, "Bearer abc", "Basic Zm9vOmJhcg=="],
)
def test_bad_credentials_are_a_401(header, event):
    client = APIClient(raise_request_exception=False)
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/events/").status_code == 401
