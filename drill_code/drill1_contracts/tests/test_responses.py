"""What the API sends: every response below is also validated against the contract.

Each test names the promise it checks. Where the starter breaks a promise, the test is
marked with the flaw, and the contract violation or the assertion says what is wrong.
"""

import pytest
from conftest import VALID_EVENT

SECRETS = {"password", "email", "is_staff", "is_superuser", "last_login", "user_permissions"}


def keys_anywhere(body):
    if isinstance(body, dict):
        return set(body) | {k for value in body.values() for k in keys_anywhere(value)}
    if isinstance(body, list):
        return {k for value in body for k in keys_anywhere(value)}
    return set()


# -- who organizes: the nested user ------------------------------------------------------


@pytest.mark.flaw("D1-F1")
def test_an_event_never_shows_the_organizers_account_details(api, event):
    body = api.get(f"/api/events/{event.pk}/").body
    leaked = sorted(SECRETS & keys_anywhere(body))
    assert not leaked, f"GET /api/events/{{id}}/ publishes the organizer's {', '.join(leaked)}"


@pytest.mark.flaw("D1-F8")
def test_the_organizer_is_sent_as_organizer_with_id_and_username(api, event, organizer):
    body = api.get(f"/api/events/{event.pk}/").body
    assert "organizer" in body, f"no `organizer` field; the event has {sorted(body)}"
    assert body["organizer"]["id"] == organizer.pk
    assert body["organizer"]["username"] == "olivia"


# -- computed values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    [
        "list",
        pytest.param("detail", marks=pytest.mark.flaw("D1-F2")),
        pytest.param("update", marks=pytest.mark.flaw("D1-F2")),
    ],
)
def test_seats_left_is_capacity_minus_tickets_booked(how, api, event, book):
    book("Ada")
    if how == "list":
        body = api.get("/api/events/").body
        body = body["results"][0] if isinstance(body, dict) else body[0]
    elif how == "detail":
        body = api.get(f"/api/events/{event.pk}/").body
    else:
        body = api.patch(f"/api/events/{event.pk}/", {"capacity": 5}).body
    expected = body["capacity"] - 1
    assert body["seats_left"] == expected, (
        f"seats_left in the {how} response should be {expected}, got {body['seats_left']!r}"
    )


@pytest.mark.flaw("D1-F2")
def test_a_new_event_has_all_its_seats_left(api):
    body = api.post("/api/events/", VALID_EVENT).body
    assert body["seats_left"] == 300, f"a new event has 300 seats left, not {body['seats_left']!r}"


# -- value formats ---------------------------------------------------------------------------


@pytest.mark.flaw("D1-F3")
def test_status_is_sent_in_the_contracts_lower_case(api, event):
    assert api.get(f"/api/events/{event.pk}/").body["status"] == "published"


@pytest.mark.flaw("D1-F3")
def test_status_is_accepted_in_the_contracts_lower_case(api):
    response = api.post("/api/events/", {**VALID_EVENT, "status": "published"})
    assert response.status_code == 201, f"status 'published' was refused: {response.body}"


@pytest.mark.flaw("D1-F3")
@pytest.mark.django_db(transaction=True)
def test_events_stored_before_the_fix_are_sent_in_lower_case(api, organizer):
    """The rows already in the database hold the old values: changing the choices alone
    leaves every existing event sending a status the contract does not have."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    first = [("events", "0001_initial")]
    executor.migrate(first)
    old_event = executor.loader.project_state(first).apps.get_model("events", "Event")
    stored = old_event.objects.create(
        organizer_id=organizer.pk,
        title="Stored last year",
        status="PUBLISHED",
        starts_at="2026-05-14T18:30:00Z",
        capacity=3,
        price="1.00",
    )
    executor = MigrationExecutor(connection)  # a fresh loader: the graph as it is on disk
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert api.get(f"/api/events/{stored.pk}/").body["status"] == "published"


@pytest.mark.flaw("D1-F4")
def test_prices_are_exact_decimal_strings_as_the_contract_says(api, event, book):
    book("Ada")
    event_body = api.get(f"/api/events/{event.pk}/").body
    ticket_body = api.get(f"/api/events/{event.pk}/tickets/").body
    tickets = ticket_body["results"] if isinstance(ticket_body, dict) else ticket_body
    assert event_body["price"] == "25.50", "money must travel as an exact decimal string"
    assert tickets[0]["price_paid"] == "25.50"


@pytest.mark.flaw("D1-F5")
def test_timestamps_are_utc_with_a_z(api, event):
    body = api.get(f"/api/events/{event.pk}/").body
    assert body["starts_at"] == "2026-05-14T18:30:00Z", (
        f"18:30 UTC must be written 2026-05-14T18:30:00Z, not {body['starts_at']}"
    )
    assert body["created_at"].endswith("Z")


def test_a_start_time_with_an_offset_is_stored_as_the_same_instant(api):
    body = api.post("/api/events/", VALID_EVENT).body  # 09:00 at +02:00
    assert body["starts_at"].startswith(("2026-06-01T07:00:00", "2026-06-01T09:00:00+02:00"))


# -- lists -----------------------------------------------------------------------------------


@pytest.mark.flaw("D1-F9")
def test_the_event_list_is_a_page_of_results_as_the_contract_describes(api, event):
    body = api.get("/api/events/").body
    assert isinstance(body, dict), "the list must stay paginated: unbounded lists time out"
    assert body["count"] == 1
    assert [e["title"] for e in body["results"]] == ["PyCon Berlin"]


@pytest.mark.flaw("D1-F9")
def test_the_ticket_list_is_a_page_of_results_as_the_contract_describes(api, event, book):
    book("Ada")
    body = api.get(f"/api/events/{event.pk}/tickets/").body
    assert isinstance(body, dict), "the list must stay paginated: unbounded lists time out"
    assert [t["holder_name"] for t in body["results"]] == ["Ada"]


@pytest.mark.flaw("D1-F9")
@pytest.mark.parametrize("path", ["/api/events/", "/api/events/{id}/tickets/"])
@pytest.mark.parametrize("query", ["", "?page_size=1000", "?page_size=0", "?limit=1000"])
def test_a_page_holds_20_items_whatever_the_client_asks(path, query, api, organizer, event):
    """The contract says 20 to a page. A page size the client can raise is an unbounded
    list again: one request for everything on the day of a big event."""
    from events.models import Event, Ticket

    Event.objects.filter(pk=event.pk).update(capacity=100)
    Event.objects.bulk_create(
        Event(organizer=organizer, title=f"E{n}", starts_at=event.starts_at, capacity=1, price=1)
        for n in range(24)
    )
    Ticket.objects.bulk_create(
        Ticket(event=event, holder_name=f"H{n}", holder_email=f"h{n}@ex.org", price_paid=1)
        for n in range(24)
    )
    body = api.get(path.format(id=event.pk) + query).body
    assert isinstance(body, dict), "the list must stay paginated: unbounded lists time out"
    assert (len(body["results"]), body["count"]) == (20, 25 if "tickets" not in path else 24)
    assert body["next"] is not None


def test_events_are_listed_soonest_first(api, organizer):
    from events.models import Event

    for title, day in (("Later", 20), ("Sooner", 10)):
        Event.objects.create(
            organizer=organizer,
            title=title,
            starts_at=f"2026-07-{day}T10:00:00Z",
            capacity=10,
            price="1.00",
        )
    body = api.get("/api/events/").body
    results = body["results"] if isinstance(body, dict) else body
    assert [e["title"] for e in results] == ["Sooner", "Later"]


# -- errors ----------------------------------------------------------------------------------


# fmt: off
ERRORS = [
    # who         method   path                   body               status  code
    (None,        "GET",   "/api/events/",        None,              401,    "not_authenticated"),
    ("organizer", "GET",   "/api/events/999999/", None,              404,    "not_found"),
    ("guest",     "PATCH", "/api/events/{id}/",   {"title": "Mine"}, 403,    "permission_denied"),
    ("organizer", "POST",  "/api/events/",        {"title": ""},     400,    "invalid"),
    # Outside the contract's operations, its promise for every error still holds.
    ("organizer", "GET",   "/api/no-such-thing/", None,              404,    "not_found"),
    ("organizer", "DELETE", "/api/events/{id}/",  None,              405,    "method_not_allowed"),
    (None,        "GET",   "/api/",               None,              404,    "not_found"),
]
# fmt: on


@pytest.mark.flaw("D1-F10")
@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status", "code"),
    [pytest.param(*row, id=f"{row[4]} {row[1]} {row[2]}") for row in ERRORS],
)
def test_every_error_has_the_contracts_error_body(
    who, method, path, body, status, code, client_for, organizer, guest, event
):
    client = client_for({"organizer": organizer, "guest": guest}.get(who))
    response = client.call(
        method, path.format(id=event.pk), body, invalid_request=status in (400, 401)
    )
    assert response.status_code == status
    assert response.body.get("code") == code, (
        f"a {status} must say code={code!r} in the Error body, got {response.body}"
    )
    assert isinstance(response.body.get("detail"), str)
