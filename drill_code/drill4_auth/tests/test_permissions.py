"""Who may do what: one table, one row per endpoint and method, one column per role.

Read a row as "a <role> sending <method> <path> gets <status>". A cell written as
(status, "D4-Fn") is a cell the starter gets wrong because of that planted flaw.
"""

import json
import re

import pytest
from conftest import results

# --8<-- [start:matrix]
F1, F2, F3, F4 = "D4-F1", "D4-F2", "D4-F3", "D4-F4"

PERMISSION_MATRIX = [
    # method    path                           anonymous    user         owner        staff
    ("GET", "/api/health/", 200, 200, 200, 200),
    ("GET", "/api/me/", 401, 200, 200, 200),
    ("GET", "/api/projects/", 401, 200, 200, 200),
    ("POST", "/api/projects/", 401, 201, 201, 201),
    ("GET", "/api/projects/{id}/", 401, (404, F2), 200, (404, F2)),
    ("PUT", "/api/projects/{id}/", 401, (404, F2), 200, (404, F2)),
    ("PATCH", "/api/projects/{id}/", 401, (404, F2), 200, (404, F2)),
    ("DELETE", "/api/projects/{id}/", 401, (404, F2), 204, (404, F2)),
    ("GET", "/api/projects/{id}/notes/", 401, (404, F3), 200, (404, F3)),
    ("POST", "/api/projects/{id}/notes/", 401, (404, F3), 201, (404, F3)),
    ("GET", "/api/users/", 401, (403, F4), (403, F4), 200),
    ("GET", "/api/stats/", (401, F1), (403, F1), (403, F1), 200),
]
ROLES = ("anonymous", "user", "owner", "staff")
# --8<-- [end:matrix]

BODIES = {
    ("POST", "/api/projects/"): {"name": "Side quest"},
    ("PUT", "/api/projects/{id}/"): {"name": "Renamed"},
    ("PATCH", "/api/projects/{id}/"): {"name": "Renamed"},
    ("POST", "/api/projects/{id}/notes/"): {"body": "Order the badges"},
}


def _cases():
    for method, path, *cells in PERMISSION_MATRIX:
        for role, cell in zip(ROLES, cells, strict=True):
            status, flaw = cell if isinstance(cell, tuple) else (cell, None)
            yield pytest.param(
                role,
                method,
                path,
                status,
                id=f"{role} {method} {path}",
                marks=[pytest.mark.flaw(flaw)] if flaw else [],
            )


@pytest.mark.parametrize(("role", "method", "path", "expected"), list(_cases()))
def test_permission_matrix(role, method, path, expected, people, project, client_for):
    client = client_for(people.get(role))
    url = path.format(id=project.pk)
    body = BODIES.get((method, path))
    response = client.generic(
        method, url, data=json.dumps(body) if body else "", content_type="application/json"
    )
    assert response.status_code == expected, (
        f"{role} {method} {url} should get {expected}, got {response.status_code}"
    )


@pytest.mark.flaw(F2)
def test_another_users_project_is_unchanged_after_their_attempts(people, project, client_for):
    client = client_for(people["user"])
    client.put(f"/api/projects/{project.pk}/", {"name": "pwned"}, format="json")
    client.patch(f"/api/projects/{project.pk}/", {"name": "pwned"}, format="json")
    client.delete(f"/api/projects/{project.pk}/")
    survivors = type(project).objects.filter(pk=project.pk).values_list("name", flat=True)
    assert list(survivors) == ["Launch plan"], "another user renamed or deleted the project"


@pytest.mark.flaw(F3)
def test_notes_cannot_be_added_to_another_users_project(people, project, client_for):
    client_for(people["user"]).post(
        f"/api/projects/{project.pk}/notes/", {"body": "spam"}, format="json"
    )
    assert list(project.notes.values_list("body", flat=True)) == ["Book the venue"]


def test_projects_list_shows_only_the_callers_projects(people, project, client_for):
    response = client_for(people["user"]).get("/api/projects/")
    assert response.status_code == 200
    names = [item["name"] for item in results(response)]
    assert names == ["Mallory's own"], "the list must be scoped to the caller's own projects"


def test_a_new_project_belongs_to_its_creator_whatever_the_body_says(people, client_for):
    response = client_for(people["user"]).post(
        "/api/projects/", {"name": "Mine", "owner": people["owner"].pk}, format="json"
    )
    assert response.status_code == 201
    assert response.data["owner"] == people["user"].pk


# -- secure by default: every route the target has, not only the ones in the table -----

PUBLIC = {"health/", "auth/token/", "auth/token/refresh/", "auth/logout/"}


def _routes(patterns, prefix=""):
    """Every concrete path in the URLconf, with each path parameter filled with `{id}`."""
    for entry in patterns:
        route = str(entry.pattern).lstrip("^").rstrip("$")
        route = re.sub(r"<[^>]+>|\(\?P<[^>]+>[^)]*\)", "{id}", route)
        if hasattr(entry, "url_patterns"):
            yield from _routes(entry.url_patterns, prefix + route)
        else:
            yield prefix + route


@pytest.mark.flaw(F1)
def test_every_route_but_the_public_ones_refuses_anonymous_callers(project):
    """A forgotten permission_classes must close a view, not open it: any route the
    target serves, including one a reader of the table above never heard of."""
    from django.urls import get_resolver
    from rest_framework.test import APIClient

    client = APIClient()
    open_routes = []
    for route in sorted(set(_routes(get_resolver().url_patterns))):
        if route.removeprefix("api/") in PUBLIC:
            continue
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            status = client.generic(method, "/" + route.format(id=project.pk)).status_code
            if status != 401:
                open_routes.append(f"{method} /{route} -> {status}")
    assert not open_routes, f"anonymous requests that were not refused: {open_routes}"
