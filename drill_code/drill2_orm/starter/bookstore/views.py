from django.db.models import Avg, Count, Q
from rest_framework import viewsets
from rest_framework.decorators import action

from bookstore.filters import PublishedSinceFilter, ReviewedBookFilter
from bookstore.models import Author, Book, Publisher, Review
from bookstore.serializers import (
    AuthorSerializer,
    BookDetailSerializer,
    BookSerializer,
    PublisherSerializer,
    ReviewSerializer,
    TopRatedBookSerializer,
)


class BookViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalogue: books with their publisher, authors, tags and latest reviews."""

    filter_backends = [PublishedSinceFilter]

    def get_queryset(self):
        # The list does not show the full description, so leave it in the database.
        return Book.objects.defer("description").prefetch_related("reviews")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return BookDetailSerializer
        if self.action == "top_rated":
            return TopRatedBookSerializer
        return BookSerializer

    @action(detail=False, url_path="top-rated")
    def top_rated(self, request):
        """Books by the average rating of their published reviews, best first."""
        books = (
            # Like the list, leave the long description in the database.
            Book.objects.defer("description")
            .annotate(average_rating=Avg("reviews__rating", filter=Q(reviews__is_published=True)))
            .filter(average_rating__isnull=False)
            .order_by("-average_rating", "title", "id")
        )
        page = self.paginate_queryset(books)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)


class AuthorViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Author.objects.all()
    serializer_class = AuthorSerializer


class PublisherViewSet(viewsets.ReadOnlyModelViewSet):
    """Publishers with how many books they publish and how many reviews those books have."""

    serializer_class = PublisherSerializer

    def get_queryset(self):
        return Publisher.objects.annotate(
            book_count=Count("books"),
            review_count=Count("books__reviews", filter=Q(books__reviews__is_published=True)),
        ).order_by("name", "id")


class ReviewViewSet(viewsets.ReadOnlyModelViewSet):
    """The feed of published reviews, newest first."""

    filter_backends = [ReviewedBookFilter]

    serializer_class = ReviewSerializer
    queryset = Review.objects.filter(is_published=True).order_by("-created_at", "-id")
