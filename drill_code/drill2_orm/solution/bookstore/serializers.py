from rest_framework import serializers

from bookstore.models import Author, Book, Publisher, Review


class PublisherSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Publisher
        fields = ["id", "name", "country"]


class AuthorSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name"]


class ReviewSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = ["id", "rating", "title", "created_at"]


# --8<-- [start:book-serializer]
class BookSerializer(serializers.ModelSerializer):
    """Reads only what BookViewSet.get_queryset() has already loaded: no field here may
    touch the database. A serializer cannot fetch efficiently row by row; the queryset can
    fetch everything for the page in a fixed number of queries."""

    publisher = PublisherSummarySerializer(read_only=True)  # select_related("publisher")
    # Lists filled by Prefetch(..., to_attr=...) in the view: one query each per page.
    authors = AuthorSummarySerializer(many=True, read_only=True, source="author_list")
    # The tags are a SlugRelatedField(many=True): it looks like a plain field, yet it reads
    # the whole relation of every book unless its source is the list the view prefetched
    # (to_attr="tag_list").
    tags = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="slug", source="tag_list"
    )
    # Computed by the database (annotate(blurb=Left(...))), so the long description column
    # can stay deferred without a query per book to fetch it.
    blurb = serializers.CharField(read_only=True)
    # A list filled by Prefetch(..., to_attr="recent_reviews"). Calling .filter() on
    # book.reviews would ignore any prefetch and query again for every book.
    recent_reviews = ReviewSummarySerializer(many=True, read_only=True)
    # --8<-- [end:book-serializer]

    class Meta:
        model = Book
        fields = [
            "id",
            "title",
            "isbn",
            "price",
            "published_on",
            "publisher",
            "authors",
            "tags",
            "blurb",
            "recent_reviews",
        ]


class BookDetailSerializer(BookSerializer):
    class Meta(BookSerializer.Meta):
        fields = [*BookSerializer.Meta.fields, "description"]


class TopRatedBookSerializer(BookSerializer):
    average_rating = serializers.DecimalField(max_digits=3, decimal_places=2, read_only=True)

    class Meta(BookSerializer.Meta):
        fields = [*BookSerializer.Meta.fields, "average_rating"]


class AuthorSerializer(serializers.ModelSerializer):
    # Annotated by AuthorViewSet: one COUNT ... GROUP BY for the page instead of a
    # SELECT COUNT(*) per author.
    book_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Author
        fields = ["id", "name", "book_count"]


class PublisherSerializer(serializers.ModelSerializer):
    book_count = serializers.IntegerField(read_only=True)
    review_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Publisher
        fields = ["id", "name", "country", "book_count", "review_count"]


class ReviewSerializer(serializers.ModelSerializer):
    # A dotted source reads review.book.publisher.name. That is only free when the
    # queryset has select_related("book__publisher"); see ReviewViewSet.
    book_title = serializers.CharField(source="book.title", read_only=True)
    publisher = serializers.CharField(source="book.publisher.name", read_only=True)

    class Meta:
        model = Review
        fields = ["id", "rating", "title", "created_at", "book", "book_title", "publisher"]
