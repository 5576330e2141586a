"""Query-string filters of the catalogue's lists, as DRF filter backends.

A filter backend is where DRF expects a list to be narrowed: `list()` and `get_object()`
both pass the queryset through `filter_queryset()`, so a detail answers 404 for an object
its list would not show. Every value is validated first: a malformed one is a 400 that
says which parameter is wrong, never a 500 from the database.
"""

from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend


class _Query(serializers.Serializer):
    """The filters' parameters, all optional; anything else in the query string is ignored."""

    published_since = serializers.DateField(required=False)
    book = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


def _params(request, name):
    query = _Query(data={name: request.query_params[name]} if name in request.query_params else {})
    query.is_valid(raise_exception=True)
    return query.validated_data


# --8<-- [start:filters]
class PublishedSinceFilter(BaseFilterBackend):
    """`?published_since=2024-05-01`: the books published on or after a date (new releases)."""

    def filter_queryset(self, request, queryset, view):
        since = _params(request, "published_since").get("published_since")
        return queryset if since is None else queryset.filter(published_on__gte=since)


class ReviewedBookFilter(BaseFilterBackend):
    """`?book=12`: one book's reviews, in the feed's order (newest first)."""

    def filter_queryset(self, request, queryset, view):
        book = _params(request, "book").get("book")
        return queryset if book is None else queryset.filter(book_id=book)


# --8<-- [end:filters]
