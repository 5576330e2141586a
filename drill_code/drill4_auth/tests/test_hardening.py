"""Adversarial tests beyond the planted flaws, after the OWASP API Security Top 10 (2023).

None of these is tied to a flaw: the starter and the solution must both pass them. Each
table is one category; read a row as one attack and what the API must answer.

- API1/API5 (object and function level): methods a route does not offer are refused,
  for the roles that may use the route, and change nothing.
- API3 (property level): fields a client may not set are ignored, and no response
  carries a field the caller should not see.
- API4 (resource consumption): every list is paged with a bounded page size, every
  string has a maximum length, anonymous clients are rate limited.
- API8 (misconfiguration) and robustness: malformed bodies, headers, ids and query
  strings get a 4xx, never a 500, and store nothing.
"""

import json

import pytest
from conftest import LOGIN, LOGOUT, REFRESH, results
from rest_framework.test import APIClient

from drillkit.fixtures import past_the_upload_limit

# -- API1/API5: methods a route does not offer ------------------------------------------

NOT_OFFERED = [
    # role    method    path
    ("user", "PUT", "/api/me/"),
    ("user", "DELETE", "/api/me/"),
    ("user", "POST", "/api/me/"),
    ("owner", "DELETE", "/api/projects/"),
    ("owner", "PUT", "/api/projects/"),
    ("owner", "POST", "/api/projects/{id}/"),
    ("owner", "PUT", "/api/projects/{id}/notes/"),
    ("owner", "PATCH", "/api/projects/{id}/notes/"),
    ("owner", "DELETE", "/api/projects/{id}/notes/"),
    ("staff", "POST", "/api/users/"),
    ("staff", "DELETE", "/api/users/"),
    ("staff", "POST", "/api/stats/"),
    ("staff", "DELETE", "/api/stats/"),
    ("staff", "GET", "/api/auth/token/"),
    ("staff", "GET", "/api/auth/logout/"),
]


def snapshot():
    """Everything a request could change, to compare before and after."""
    from django.contrib.auth import get_user_model
    from notes.models import Note, Project

    return (
        list(get_user_model().objects.order_by("pk").values()),
        list(Project.objects.order_by("pk").values()),
        list(Note.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize(("role", "method", "path"), NOT_OFFERED)
def test_a_method_the_route_does_not_offer_is_refused(
    role, method, path, people, project, client_for
):
    client = client_for(people[role])
    before = snapshot()
    body = json.dumps({"name": "x", "body": "x", "is_staff": True})
    response = client.generic(
        method, path.format(id=project.pk), data=body, content_type="application/json"
    )
    assert response.status_code == 405, f"{method} {path} as {role}: {response.status_code}"
    assert snapshot() == before, f"{method} {path} changed data although it was refused"


# -- API3: properties a client may not set -------------------------------------------------

# (method, path, body): each body tries to set what the server alone decides.
READ_ONLY_ATTEMPTS = [
    (
        "POST",
        "/api/projects/",
        {"name": "Mine", "owner": "{other}", "id": 9999, "created_at": "2001-01-01T00:00:00Z"},
    ),
    (
        "PATCH",
        "/api/projects/{mine}/",
        {"owner": "{other}", "id": 9999, "created_at": "2001-01-01T00:00:00Z"},
    ),
    ("PUT", "/api/projects/{mine}/", {"name": "Mine", "owner": "{other}", "id": 9999}),
    (
        "POST",
        "/api/projects/{mine}/notes/",
        {
            "body": "hi",
            "project": "{theirs}",
            "author": "{other}",
            "id": 9999,
            "created_at": "2001-01-01T00:00:00Z",
        },
    ),
    (
        "PATCH",
        "/api/me/",
        {
            "id": 9999,
            "username": "root",
            "password": "new-password",
            "date_joined": "2001-01-01T00:00:00Z",
            "last_login": "2001-01-01T00:00:00Z",
        },
    ),
]


@pytest.fixture
def mine(people):
    """A project of mallory's, the caller of the property tests, and one of olivia's."""
    from notes.models import Project

    return {
        "mine": Project.objects.create(owner=people["user"], name="Mallory's"),
        "theirs": Project.objects.create(owner=people["owner"], name="Olivia's"),
    }


def _fill(value, people, mine):
    ids = {"{other}": people["owner"].pk, "{mine}": mine["mine"].pk, "{theirs}": mine["theirs"].pk}
    if isinstance(value, str):
        for key, pk in ids.items():
            value = value.replace(key, str(pk))
        return int(value) if value.isdigit() else value
    if isinstance(value, dict):
        return {k: _fill(v, people, mine) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("method", "path", "body"),
    READ_ONLY_ATTEMPTS,
    ids=[f"{m} {p}" for m, p, _ in READ_ONLY_ATTEMPTS],
)
def test_fields_the_server_decides_cannot_be_set(method, path, body, people, mine, client_for):
    from django.contrib.auth import get_user_model
    from notes.models import Note, Project

    caller = people["user"]
    client = client_for(caller)
    users_before = list(get_user_model().objects.order_by("pk").values())
    response = client.generic(
        method,
        _fill(path, people, mine),
        json.dumps(_fill(body, people, mine)),
        content_type="application/json",
    )
    assert response.status_code in (200, 201), response.data
    assert not Project.objects.exclude(owner__in=[caller, people["owner"]]).exists()
    assert list(Project.objects.filter(owner=people["owner"])) == [mine["theirs"]]
    assert not Project.objects.filter(pk=9999).exists()
    assert not Project.objects.filter(created_at__year=2001).exists()
    assert not Note.objects.filter(pk=9999).exists()
    assert not Note.objects.filter(project=mine["theirs"]).exists()
    assert not Note.objects.exclude(author=caller).exclude(project__owner=people["owner"]).exists()
    if path == "/api/me/":
        assert list(get_user_model().objects.order_by("pk").values()) == users_before
        assert (
            client.post(
                LOGIN, {"username": caller.username, "password": "new-password"}
            ).status_code
            == 401
        )


# Which fields each response may carry: anything more is excessive data exposure.
EXPOSED_FIELDS = [
    # role     path                      fields of one item
    ("user", "/api/me/", {"id", "username", "email", "first_name", "last_name", "is_staff"}),
    ("owner", "/api/projects/", {"id", "name", "owner", "created_at"}),
    ("owner", "/api/projects/{id}/", {"id", "name", "owner", "created_at"}),
    ("owner", "/api/projects/{id}/notes/", {"id", "project", "author", "body", "created_at"}),
    ("staff", "/api/users/", {"id", "username", "email", "is_staff", "is_active", "date_joined"}),
    ("staff", "/api/stats/", {"users", "projects", "notes"}),
]


@pytest.mark.parametrize(("role", "path", "fields"), EXPOSED_FIELDS)
def test_responses_carry_no_field_beyond_their_contract(
    role, path, fields, people, project, client_for
):
    response = client_for(people[role]).get(path.format(id=project.pk))
    assert response.status_code == 200
    items = (
        results(response)
        if isinstance(response.data, (list, dict))
        and (isinstance(response.data, list) or "results" in response.data)
        else [response.data]
    )
    assert items, "nothing to inspect"
    for item in items:
        assert set(item) <= fields, f"{path} exposes {set(item) - fields}"


def test_login_returns_no_user_data_in_its_tokens(people, login):
    import jwt

    tokens = login(people["user"])
    for kind in ("access", "refresh"):
        claims = jwt.decode(tokens[kind], options={"verify_signature": False})
        leaked = {"password", "email", "username", "is_staff"} & set(claims)
        assert not leaked, f"the {kind} token carries {leaked}, readable by anyone who holds it"


# -- API4: bounds on every list, string and rate -----------------------------------------

MANY = 120  # more than one maximum page


@pytest.fixture
def crowd(people):
    """MANY projects for olivia, MANY notes in one of them, MANY users."""
    from django.contrib.auth import get_user_model
    from notes.models import Note, Project

    owner = people["owner"]
    Project.objects.bulk_create(Project(owner=owner, name=f"p{n}") for n in range(MANY))
    first = Project.objects.filter(owner=owner).first()
    Note.objects.bulk_create(Note(project=first, author=owner, body=f"n{n}") for n in range(MANY))
    get_user_model().objects.bulk_create(get_user_model()(username=f"u{n}") for n in range(MANY))
    return first


LISTS = [
    ("owner", "/api/projects/"),
    ("owner", "/api/projects/{id}/notes/"),
    ("staff", "/api/users/"),
]
PAGE_SIZES = [
    # query            items at most
    ("", 50),
    ("?page_size=100", 100),
    ("?page_size=1000000", 100),
    ("?page_size=99999999999999999999999", 100),
    ("?page_size=-1", 50),
    ("?page_size=0", 50),
    ("?page_size=abc", 50),
]


@pytest.mark.parametrize(("role", "path"), LISTS)
@pytest.mark.parametrize(("query", "limit"), PAGE_SIZES)
def test_every_list_is_paged_with_a_bounded_page_size(
    role, path, query, limit, people, crowd, client_for
):
    response = client_for(people[role]).get(path.format(id=crowd.pk) + query)
    assert response.status_code == 200
    assert len(results(response)) == limit, f"{path}{query} returned {len(results(response))} items"


@pytest.mark.parametrize(("role", "path"), LISTS)
@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999", "99999999999999999999999", ""])
def test_a_page_past_the_end_or_malformed_is_a_404_not_a_500(
    role, path, page, people, crowd, client_for
):
    response = client_for(people[role]).get(path.format(id=crowd.pk) + f"?page={page}")
    assert response.status_code in (200, 404), response.status_code


# (method, path, field, longest allowed): one past the limit is refused and not stored.
STRING_LIMITS = [
    ("POST", "/api/projects/", "name", 100),
    ("PATCH", "/api/projects/{id}/", "name", 100),
    ("PUT", "/api/projects/{id}/", "name", 100),
    ("POST", "/api/projects/{id}/notes/", "body", 10_000),
    ("PATCH", "/api/me/", "first_name", 150),
    ("PATCH", "/api/me/", "last_name", 150),
]


@pytest.mark.parametrize(("method", "path", "field", "limit"), STRING_LIMITS)
def test_every_string_has_a_maximum_length(method, path, field, limit, people, project, client_for):
    client = client_for(people["owner"])
    url = path.format(id=project.pk)
    before = snapshot()
    too_long = client.generic(
        method, url, json.dumps({field: "x" * (limit + 1)}), content_type="application/json"
    )
    assert too_long.status_code == 400, f"{field} of {limit + 1} characters: {too_long.status_code}"
    assert snapshot() == before
    longest = client.generic(
        method, url, json.dumps({field: "x" * limit}), content_type="application/json"
    )
    assert longest.status_code in (200, 201), f"{field} of {limit} characters was refused"


def test_an_email_longer_than_the_column_is_refused(people, client_for):
    client = client_for(people["user"])
    address = "x" * 245 + "@example.com"  # 257 characters: past the 254 of the column
    response = client.patch("/api/me/", {"email": address}, format="json")
    assert response.status_code == 400
    people["user"].refresh_from_db()
    assert people["user"].email == "mallory@example.com"


def test_a_body_of_megabytes_is_refused_and_not_stored(people, project, client_for):
    client = client_for(people["owner"])
    huge = past_the_upload_limit({"body": "A note well within its length."})
    response = client.generic(
        "POST", f"/api/projects/{project.pk}/notes/", huge, content_type="application/json"
    )
    assert response.status_code in (400, 413), response.status_code
    assert not project.notes.filter(body="A note well within its length.").exists()


ANONYMOUS_RATE = 60  # a minute, per client


def test_anonymous_clients_are_rate_limited(time_machine):
    time_machine.move_to("2030-01-01T00:00:00Z", tick=False)
    client = APIClient()
    statuses = [
        client.post(REFRESH, {"refresh": "nope"}).status_code for _ in range(ANONYMOUS_RATE + 1)
    ]
    assert statuses[:ANONYMOUS_RATE] == [401] * ANONYMOUS_RATE
    assert statuses[-1] == 429


def test_the_health_check_is_never_throttled(time_machine):
    time_machine.move_to("2030-01-01T00:00:00Z", tick=False)
    client = APIClient()
    statuses = {client.get("/api/health/").status_code for _ in range(ANONYMOUS_RATE * 2)}
    assert statuses == {200}, "a load balancer probing the health check got throttled"


# -- malformed input: a 4xx, never a 500, nothing stored ------------------------------------

# Bodies that are not a JSON object at all.
MALFORMED_BODIES = [
    pytest.param("[]", id="JSON array"),
    pytest.param('[{"name": "x", "body": "x"}]', id="array of objects"),
    pytest.param('"text"', id="JSON string"),
    pytest.param("12", id="JSON number"),
    pytest.param("null", id="JSON null"),
    pytest.param("{", id="truncated JSON"),
    pytest.param('{"name": NaN, "body": Infinity}', id="NaN and Infinity"),
    pytest.param(b'{"name": "\xff\xfe", "body": "\xff"}', id="not UTF-8"),
]
# An object whose fields hold what no field of this API accepts.
BAD_VALUES = [
    pytest.param("", id="empty string"),
    pytest.param("x\u0000y", id="NUL character"),
    pytest.param({"a": 1}, id="object"),
    pytest.param([1], id="array"),
    pytest.param(None, id="null"),
    pytest.param(True, id="boolean"),
]
# role, method, path, the string fields the route reads
WRITE_ROUTES = [
    ("anonymous", "POST", LOGIN, ["username", "password"]),
    ("anonymous", "POST", REFRESH, ["refresh"]),
    ("anonymous", "POST", LOGOUT, ["refresh"]),
    ("owner", "POST", "/api/projects/", ["name"]),
    ("owner", "PUT", "/api/projects/{id}/", ["name"]),
    ("owner", "PATCH", "/api/projects/{id}/", ["name"]),
    ("owner", "POST", "/api/projects/{id}/notes/", ["body"]),
    ("owner", "PATCH", "/api/me/", ["email"]),
]
BLANK_IS_VALID = {("PATCH", "/api/me/")}  # Django's own user model: an email may be blank


def _route_ids(routes):
    return [f"{role} {method} {path}" for role, method, path, *_ in routes]


@pytest.mark.parametrize(
    ("role", "method", "path", "fields"), WRITE_ROUTES, ids=_route_ids(WRITE_ROUTES)
)
@pytest.mark.parametrize("body", MALFORMED_BODIES)
def test_a_body_that_is_not_an_object_gets_a_4xx_and_stores_nothing(
    role, method, path, fields, body, people, project, client_for
):
    client = client_for(people.get(role))
    before = snapshot()
    response = client.generic(
        method, path.format(id=project.pk), body, content_type="application/json"
    )
    assert 400 <= response.status_code < 500, f"{method} {path}: {response.status_code}"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("role", "method", "path", "fields"), WRITE_ROUTES, ids=_route_ids(WRITE_ROUTES)
)
@pytest.mark.parametrize("value", BAD_VALUES)
def test_a_field_of_the_wrong_kind_gets_a_4xx_and_stores_nothing(
    role, method, path, fields, value, people, project, client_for
):
    if value == "" and (method, path) in BLANK_IS_VALID:
        pytest.skip("a blank value is valid here")
    client = client_for(people.get(role))
    before = snapshot()
    body = json.dumps(dict.fromkeys(fields, value))
    response = client.generic(
        method, path.format(id=project.pk), body, content_type="application/json"
    )
    assert 400 <= response.status_code < 500, f"{method} {path} {body}: {response.status_code}"
    assert snapshot() == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/projects/99999999999999999999999/",
        "/api/projects/9223372036854775808/",
        "/api/projects/99999999999999999999999/notes/",
        "/api/projects/9223372036854775808/notes/",
        "/api/projects/0/",
        "/api/projects/abc/",
    ],
)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "POST"])
def test_an_id_past_the_column_range_is_refused_not_a_500(
    path, method, people, project, client_for
):
    client = client_for(people["owner"])
    before = snapshot()
    response = client.generic(
        method, path, json.dumps({"name": "x", "body": "x"}), content_type="application/json"
    )
    # A list of a project that cannot exist may be empty instead of a 404 (that is D4-F3's
    # business); anything else is refused. Never a 500, and nothing changes.
    empty_list = method == "GET" and response.status_code == 200 and not results(response)
    assert response.status_code in (404, 405) or empty_list, (
        f"{method} {path}: {response.status_code}"
    )
    assert snapshot() == before


AUTHORIZATION_HEADERS = [
    pytest.param("", id="empty"),
    pytest.param("Bearer", id="keyword alone"),
    pytest.param("Bearer a b", id="two tokens"),
    pytest.param("Bearer é.é.é", id="latin-1 characters"),
    # A server hands headers over as latin-1 (PEP 3333): UTF-8 bytes arrive like this.
    pytest.param("Bearer " + "€".encode().decode("latin-1"), id="UTF-8 bytes"),
    pytest.param("Bearer " + "a" * 20_000, id="20 kB token"),
    pytest.param("Bearer eyJhbGciOiJIUzI1NiJ9.e30.", id="empty signature"),
    pytest.param("Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoiMSJ9.", id="alg none"),
    pytest.param("Basic b2xpdmlhOnBhc3N3b3Jk", id="basic credentials"),
]


@pytest.mark.parametrize("header", AUTHORIZATION_HEADERS)
@pytest.mark.parametrize("path", ["/api/me/", "/api/projects/", "/api/users/"])
def test_a_malformed_authorization_header_is_a_401(header, path, db):
    client = APIClient()
    response = client.get(path, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401, f"{header[:30]!r} on {path}: {response.status_code}"
