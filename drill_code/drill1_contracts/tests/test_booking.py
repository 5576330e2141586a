"""What the contract promises about bookings: seats never go below zero, only a published
event is on sale, and only the organizer reads the attendee list.

Every rule is probed on each path that reaches it (booking and changing the capacity;
the states an event can be in; every kind of user who is not the organizer), because a
fix that closes one path and leaves its sibling open is the usual way these stay broken.
"""

from decimal import Decimal

import pytest

from drillkit.races import run_concurrently

TICKET = {"holder_name": "Gus", "holder_email": "g@ex.org"}


@pytest.fixture
def make_event(organizer):
    """make_event(capacity=2, status="published") through the ORM, in the target's own
    spelling of the status (the starter stores it upper case)."""
    from events.models import Event

    def make(*, capacity=2, status="published", owner=None):
        return Event.objects.create(
            organizer=owner or organizer,
            title="Small room",
            status=getattr(Event.Status, status.upper()),
            starts_at="2026-09-01T18:00:00Z",
            capacity=capacity,
            price=Decimal("10.00"),
        )

    return make


def booked(event) -> int:
    return event.tickets.count()


# -- D1-F11: never more tickets than seats, also under concurrency -------------------------


@pytest.mark.flaw("D1-F11")
@pytest.mark.parametrize("capacity", [1, 2, 5])
def test_the_seat_after_the_last_one_is_refused_with_409(capacity, make_event, client_for, guest):
    event = make_event(capacity=capacity)
    client = client_for(guest)
    for n in range(capacity):
        response = client.post(f"/api/events/{event.pk}/tickets/", TICKET)
        assert response.status_code == 201, f"booking {n + 1} of {capacity} was refused"
    response = client.post(f"/api/events/{event.pk}/tickets/", TICKET)
    assert response.status_code == 409, (
        f"a booking for a full event (capacity {capacity}) got {response.status_code}, "
        "not 409: the event is oversold"
    )
    assert response.body["code"] == "sold_out"
    assert booked(event) == capacity


@pytest.mark.flaw("D1-F11")
def test_an_event_filled_elsewhere_is_sold_out_too(make_event, client_for, guest, book):
    """Tickets sold by the box office (not through this endpoint) take seats as well."""
    event = make_event(capacity=3)
    for name in ("Ada", "Bo", "Cy"):
        book(name, for_event=event)
    response = client_for(guest).post(f"/api/events/{event.pk}/tickets/", TICKET)
    assert response.status_code == 409, "the fourth ticket of a 3-seat event was sold"
    assert booked(event) == 3
    body = client_for(guest).get(f"/api/events/{event.pk}/").body
    assert body["seats_left"] == 0


@pytest.mark.flaw("D1-F11")
@pytest.mark.parametrize("new_capacity", [1, 2])
def test_the_capacity_cannot_go_below_the_tickets_sold(new_capacity, api, make_event, book):
    event = make_event(capacity=5)
    for name in ("Ada", "Bo", "Cy"):
        book(name, for_event=event)
    response = api.patch(f"/api/events/{event.pk}/", {"capacity": new_capacity})
    assert response.status_code == 400, (
        f"capacity {new_capacity} with 3 tickets sold was accepted ({response.status_code})"
    )
    assert "capacity" in response.body.get("fields", response.body)
    event.refresh_from_db()
    assert event.capacity == 5


@pytest.mark.flaw("D1-F11")
def test_seats_left_never_goes_below_zero_in_any_response(api, make_event, book):
    """Whatever the fix, no response may show an oversold event (the list and the
    detail compute seats_left on different paths)."""
    event = make_event(capacity=2)
    book("Ada", for_event=event)
    api.patch(f"/api/events/{event.pk}/", {"capacity": 1})
    book_response = api.post(f"/api/events/{event.pk}/tickets/", TICKET)
    assert book_response.status_code == 409
    detail = api.get(f"/api/events/{event.pk}/").body
    listed = api.get("/api/events/").body
    listed = listed["results"] if isinstance(listed, dict) else listed
    assert detail["seats_left"] == 0
    assert [e["seats_left"] for e in listed if e["id"] == event.pk] == [0]


def test_the_capacity_may_go_down_to_exactly_the_tickets_sold(api, make_event, book):
    event = make_event(capacity=5)
    for name in ("Ada", "Bo"):
        book(name, for_event=event)
    response = api.patch(f"/api/events/{event.pk}/", {"capacity": 2})
    assert response.status_code == 200, "a full event is not an error: seats_left is 0"
    event.refresh_from_db()
    assert event.capacity == 2


def _book_over_http(event_pk, user):
    from conftest import basic_auth
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(user))
    return client.post(f"/api/events/{event_pk}/tickets/", TICKET, format="json").status_code


def _patch_over_http(event_pk, user, body):
    from conftest import basic_auth
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(user))
    return client.patch(f"/api/events/{event_pk}/", body, format="json").status_code


@pytest.mark.flaw("D1-F11")
@pytest.mark.postgres(reason="the race needs row locks and concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_two_buyers_of_the_last_seat_do_not_both_get_it(make_event, make_user):
    from events.models import Ticket

    event = make_event(capacity=2)
    Ticket.objects.create(event=event, holder_name="Ada", holder_email="a@ex.org")
    buyers = [make_user("gus"), make_user("hal")]
    statuses = run_concurrently(
        [lambda user=user: _book_over_http(event.pk, user) for user in buyers],
        hold_before_writing_to=Ticket,
    )
    assert sorted(statuses) == [201, 409], (
        f"two concurrent bookings of the last seat answered {statuses}: "
        "both read 'one seat left' before either wrote"
    )
    assert booked(event) == 2


@pytest.mark.flaw("D1-F11")
@pytest.mark.postgres(reason="the race needs row locks and concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_a_booking_and_a_capacity_cut_do_not_oversell_together(make_event, make_user, organizer):
    from events.models import Event, Ticket

    event = make_event(capacity=3)
    for name in ("Ada", "Bo"):
        Ticket.objects.create(event=event, holder_name=name, holder_email=f"{name}@ex.org")
    buyer = make_user("gus")
    statuses = run_concurrently(
        [
            lambda: _book_over_http(event.pk, buyer),
            lambda: _patch_over_http(event.pk, organizer, {"capacity": 2}),
        ],
        hold_before_writing_to=(Ticket, Event),
    )
    event.refresh_from_db()
    assert booked(event) <= event.capacity, (
        f"booking and capacity cut answered {statuses}: {booked(event)} tickets for "
        f"{event.capacity} seats"
    )


# -- D1-F12: only a published event is on sale -----------------------------------------------


@pytest.mark.flaw("D1-F12")
@pytest.mark.parametrize("status", ["draft", "cancelled"])
@pytest.mark.parametrize("who", ["organizer", "guest"])
def test_an_event_that_is_not_published_takes_no_booking(
    status, who, make_event, client_for, organizer, guest
):
    event = make_event(status=status)
    client = client_for({"organizer": organizer, "guest": guest}[who])
    response = client.post(f"/api/events/{event.pk}/tickets/", TICKET)
    # A guest may not even see someone else's draft (404); otherwise the contract's
    # answer is 409 not_on_sale.
    assert response.status_code in (404, 409), (
        f"the {who} booked a ticket for a {status} event ({response.status_code})"
    )
    assert booked(event) == 0


@pytest.mark.flaw("D1-F12")
@pytest.mark.parametrize("status", ["draft", "cancelled"])
def test_an_event_taken_off_sale_through_the_api_stops_selling(
    status, api, make_event, client_for, guest
):
    event = make_event(status="published")
    assert api.patch(f"/api/events/{event.pk}/", {"status": status}).status_code == 200
    response = client_for(guest).post(f"/api/events/{event.pk}/tickets/", TICKET)
    assert response.status_code in (404, 409), f"a {status} event sold a ticket"
    assert booked(event) == 0


# -- D1-F13: the attendee list is the organizer's ---------------------------------------------


@pytest.fixture
def outsiders(make_user, make_event):
    """Everyone who is signed in but is not this event's organizer: a guest, a staff
    member, and the organizer of another event."""
    other_organizer = make_user("otto")
    make_event(owner=other_organizer)
    return {
        "guest": make_user("gina"),
        "staff member": make_user("stan", is_staff=True),
        "another organizer": other_organizer,
    }


@pytest.mark.flaw("D1-F13")
@pytest.mark.parametrize("who", ["guest", "staff member", "another organizer"])
@pytest.mark.parametrize("status", ["published", "cancelled"])
@pytest.mark.parametrize("query", ["", "?page=1"])
def test_only_the_organizer_reads_the_attendee_list(
    who, status, query, outsiders, make_event, client_for, book
):
    event = make_event(status=status)
    book("Ada", for_event=event)
    response = client_for(outsiders[who]).get(f"/api/events/{event.pk}/tickets/{query}")
    assert "Ada@example.com" not in str(response.body), (
        f"a {who} read the attendees of a {status} event"
    )
    assert response.status_code == 403, (
        f"the contract answers a {who} 403, got {response.status_code}"
    )


def test_the_organizer_reads_the_attendee_list(api, make_event, book):
    event = make_event()
    book("Ada", for_event=event)
    body = api.get(f"/api/events/{event.pk}/tickets/").body
    tickets = body["results"] if isinstance(body, dict) else body
    assert [t["holder_email"] for t in tickets] == ["Ada@example.com"]
