"""The catalogue API, with every list loading its page in a fixed number of queries.

The rule behind each fix: the queryset fetches, the serializer only reads. Forward
foreign keys are joined (select_related), to-many relations are fetched once per page
(prefetch_related / Prefetch), and numbers are computed by the database (annotate).
https://docs.djangoproject.com/en/5.2/topics/db/optimization/
"""

from django.db.models import Avg, Count, Prefetch, Q
from django.db.models.functions import Left
from rest_framework import viewsets
from rest_framework.decorators import action

from bookstore.filters import PublishedSinceFilter, ReviewedBookFilter
from bookstore.models import Author, Book, Publisher, Review
from bookstore.pagination import FeedPagination
from bookstore.serializers import (
    AuthorSerializer,
    BookDetailSerializer,
    BookSerializer,
    PublisherSerializer,
    ReviewSerializer,
    TopRatedBookSerializer,
)

BLURB_LENGTH = 160
RECENT_REVIEWS = 3


# --8<-- [start:book-queryset]
class BookViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalogue: books with their publisher, authors, tags and latest reviews."""

    filter_backends = [PublishedSinceFilter]

    def get_queryset(self):
        books = (
            # A forward foreign key: one JOIN in the main query, no query per book.
            Book.objects.select_related("publisher")
            .prefetch_related(
                # To-many relations: one extra query each for the whole page. A plain
                # prefetch_related("authors") meets the same query budget; to_attr stores
                # a plain list instead of building a related manager and a queryset per
                # book to hold the cache.
                Prefetch("authors", to_attr="author_list"),
                # The serializer's tags look like a plain field (a SlugRelatedField), yet
                # they read the whole relation for every book: a list of their own, for the
                # same reason.
                Prefetch("tags", to_attr="tag_list"),
                # prefetch_related("reviews") caches book.reviews.all(), but a .filter()
                # or .order_by() on it is a new query per book. A Prefetch with its own
                # queryset filters and orders in that one query, and to_attr stores the
                # result as a plain list. Slicing a Prefetch (Django 4.2+) keeps only
                # the newest three per book, using a window function. No page shows a
                # review's body, so it stays in the database (the lesson of D2-F5).
                # https://docs.djangoproject.com/en/5.2/ref/models/querysets/#prefetch-objects
                Prefetch(
                    "reviews",
                    queryset=Review.objects.filter(is_published=True)
                    .defer("body")
                    .order_by("-created_at", "-id")[:RECENT_REVIEWS],
                    to_attr="recent_reviews",
                ),
            )
            # The blurb is cut by the database, so the list still never loads the long
            # description. Reading a deferred field costs one query per object.
            .annotate(blurb=Left("description", BLURB_LENGTH))
        )
        if self.action != "retrieve":
            books = books.defer("description")
        return books

    # --8<-- [end:book-queryset]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return BookDetailSerializer
        if self.action == "top_rated":
            return TopRatedBookSerializer
        return BookSerializer

    # --8<-- [start:top-rated]
    @action(detail=False, url_path="top-rated")
    def top_rated(self, request):
        """Books by the average rating of their published reviews, best first."""
        # Start from get_queryset(), not Book.objects: a custom action that builds its
        # own queryset silently loses every select_related and prefetch of the list.
        books = (
            self.get_queryset()
            .annotate(average_rating=Avg("reviews__rating", filter=Q(reviews__is_published=True)))
            .filter(average_rating__isnull=False)
            .order_by("-average_rating", "title", "id")
        )
        page = self.paginate_queryset(books)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    # --8<-- [end:top-rated]


# --8<-- [start:author-queryset]
class AuthorViewSet(viewsets.ReadOnlyModelViewSet):
    # One GROUP BY for the page instead of author.books.count() for every author.
    # Meta.ordering does not apply to a query with GROUP BY (since Django 3.1), so the
    # order the paginator relies on is spelled out again.
    queryset = Author.objects.annotate(book_count=Count("books")).order_by("name", "id")
    serializer_class = AuthorSerializer


# --8<-- [end:author-queryset]


# --8<-- [start:publisher-queryset]
class PublisherViewSet(viewsets.ReadOnlyModelViewSet):
    """Publishers with how many books they publish and how many reviews those books have."""

    serializer_class = PublisherSerializer

    def get_queryset(self):
        # Both counts share one JOIN publisher -> book -> review, so a book with three
        # reviews appears in three rows. Count("books") would count it three times;
        # distinct=True counts each book once. (For Sum or Avg, distinct is not a fix:
        # use a Subquery per aggregate instead.)
        # https://docs.djangoproject.com/en/5.2/topics/db/aggregation/#combining-multiple-aggregations
        return Publisher.objects.annotate(
            book_count=Count("books", distinct=True),
            review_count=Count("books__reviews", filter=Q(books__reviews__is_published=True)),
        ).order_by("name", "id")


# --8<-- [end:publisher-queryset]


# --8<-- [start:review-queryset]
class ReviewViewSet(viewsets.ReadOnlyModelViewSet):
    """The feed of published reviews, newest first."""

    filter_backends = [ReviewedBookFilter]
    # A feed is scrolled, not paged: a cursor needs no COUNT and keeps its place when new
    # reviews arrive (see FeedPagination).
    pagination_class = FeedPagination

    serializer_class = ReviewSerializer
    # ReviewSerializer reads book.title and book.publisher.name through dotted sources;
    # joining both here turns 2 queries per review into none.
    queryset = (
        Review.objects.filter(is_published=True)
        .select_related("book__publisher")
        .order_by("-created_at", "-id")
        # A join loads every column of the joined rows. The feed shows neither the review's
        # body nor the book's description, and both are long: leave them in the database.
        .defer("body", "book__description")
    )


# --8<-- [end:review-queryset]
