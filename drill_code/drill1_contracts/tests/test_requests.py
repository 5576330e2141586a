"""What the API accepts: happy paths, and the edge cases the contract rules out.

An edge-case request is sent with `invalid_request=True`: the contract must reject it
too, so each test proves that the code and the contract agree on a rule.
"""

import pytest
from conftest import VALID_EVENT


def test_signing_in_is_required(client_for):
    response = client_for(None).get("/api/events/", invalid_request=True)
    assert response.status_code == 401


def test_an_organizer_creates_an_event_and_owns_it(api, organizer):
    response = api.post("/api/events/", VALID_EVENT)
    assert response.status_code == 201
    from events.models import Event

    assert Event.objects.get(pk=response.body["id"]).organizer == organizer


def test_only_the_organizer_may_change_an_event(client_for, guest, event):
    response = client_for(guest).patch(f"/api/events/{event.pk}/", {"title": "Mine now"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.title == "PyCon Berlin"


def test_a_guest_books_a_ticket_and_it_is_listed(client_for, guest, api, event):
    response = client_for(guest).post(
        f"/api/events/{event.pk}/tickets/", {"holder_name": "Gus", "holder_email": "g@ex.org"}
    )
    assert response.status_code == 201
    listed = api.get(f"/api/events/{event.pk}/tickets/").body
    listed = listed["results"] if isinstance(listed, dict) else listed
    assert [t["holder_email"] for t in listed] == ["g@ex.org"]


def test_booking_for_an_event_that_does_not_exist_is_a_404(api):
    response = api.post(
        "/api/events/999999/tickets/", {"holder_name": "Gus", "holder_email": "g@ex.org"}
    )
    assert response.status_code == 404


# -- edge cases: one row per rule ------------------------------------------------------------

TOO_LONG_TITLE = "x" * 121

MISSING = object()  # the field is left out of the body

# fmt: off
# --8<-- [start:edge-cases]
EDGE_CASES = [
    # what is wrong                 field         value sent        planted flaw
    ("title missing",               "title",      MISSING),
    ("title null",                  "title",      None),
    ("title empty",                 "title",      ""),
    ("title of 121 characters",     "title",      TOO_LONG_TITLE,   "D1-F6"),
    ("capacity a word",             "capacity",   "many"),
    ("capacity zero",               "capacity",   0),
    ("capacity null",               "capacity",   None),
    ("status not in the enum",      "status",     "postponed"),
    ("starts_at not a date",        "starts_at",  "next Friday"),
]
# --8<-- [end:edge-cases]
# fmt: on


def _edge_cases():
    for problem, field, value, *flaw in EDGE_CASES:
        body = {k: v for k, v in VALID_EVENT.items() if k != field}
        if value is not MISSING:
            body[field] = value
        marks = [pytest.mark.flaw(flaw[0])] if flaw else []
        yield pytest.param(problem, body, field, id=problem, marks=marks)


@pytest.mark.parametrize(("problem", "body", "field"), list(_edge_cases()))
def test_an_invalid_event_is_refused_with_a_400_naming_the_field(problem, body, field, api):
    from events.models import Event

    response = api.post("/api/events/", body, invalid_request=True)
    assert response.status_code == 400, f"{problem}: expected 400, got {response.status_code}"
    assert field in str(response.body), f"{problem}: the error does not name {field!r}"
    assert not Event.objects.exists(), f"{problem}: an event was stored anyway"


@pytest.mark.flaw("D1-F6")
def test_a_title_of_121_characters_is_refused_on_update(api, event):
    response = api.patch(
        f"/api/events/{event.pk}/", {"title": TOO_LONG_TITLE}, invalid_request=True
    )
    assert response.status_code == 400, "the contract caps titles at 120 characters"


@pytest.mark.parametrize(
    ("problem", "body"),
    [
        ("holder_email missing", {"holder_name": "Gus"}),
        ("holder_email not an address", {"holder_name": "Gus", "holder_email": "gus"}),
        ("holder_name of 101 characters", {"holder_name": "g" * 101, "holder_email": "g@ex.org"}),
        ("holder_name null", {"holder_name": None, "holder_email": "g@ex.org"}),
    ],
)
def test_an_invalid_booking_is_refused_with_a_400(problem, body, client_for, guest, event):
    response = client_for(guest).post(
        f"/api/events/{event.pk}/tickets/", body, invalid_request=True
    )
    assert response.status_code == 400, f"{problem}: expected 400, got {response.status_code}"
    assert not event.tickets.exists()


# -- read-only fields sent on write ------------------------------------------------------------


def test_read_only_event_fields_sent_on_create_are_ignored(api, organizer, guest):
    body = {**VALID_EVENT, "id": 4242, "created_at": "2000-01-01T00:00:00Z", "seats_left": 1}
    response = api.post("/api/events/", body)
    assert response.status_code == 201
    assert response.body["id"] != 4242
    assert not response.body["created_at"].startswith("2000")


@pytest.mark.flaw("D1-F7")
def test_a_buyer_cannot_choose_the_price_of_a_ticket(client_for, guest, event):
    response = client_for(guest).post(
        f"/api/events/{event.pk}/tickets/",
        {"holder_name": "Gus", "holder_email": "g@ex.org", "price_paid": "0.01"},
    )
    assert response.status_code == 201
    ticket = event.tickets.get()
    assert str(ticket.price_paid) == "25.50", (
        f"the buyer set price_paid to {ticket.price_paid}; the server must charge the event price"
    )
