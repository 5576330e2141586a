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


class BookSerializer(serializers.ModelSerializer):
    publisher = PublisherSummarySerializer(read_only=True)
    authors = AuthorSummarySerializer(many=True, read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    blurb = serializers.SerializerMethodField()
    recent_reviews = serializers.SerializerMethodField()

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

    def get_blurb(self, book):
        return book.description[:160]

    def get_recent_reviews(self, book):
        reviews = book.reviews.filter(is_published=True).order_by("-created_at")[:3]
        return ReviewSummarySerializer(reviews, many=True).data


class BookDetailSerializer(BookSerializer):
    class Meta(BookSerializer.Meta):
        fields = [*BookSerializer.Meta.fields, "description"]


class TopRatedBookSerializer(BookSerializer):
    average_rating = serializers.DecimalField(max_digits=3, decimal_places=2, read_only=True)

    class Meta(BookSerializer.Meta):
        fields = [*BookSerializer.Meta.fields, "average_rating"]


class AuthorSerializer(serializers.ModelSerializer):
    book_count = serializers.SerializerMethodField()

    class Meta:
        model = Author
        fields = ["id", "name", "book_count"]

    def get_book_count(self, author):
        return author.books.count()


class PublisherSerializer(serializers.ModelSerializer):
    book_count = serializers.IntegerField(read_only=True)
    review_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Publisher
        fields = ["id", "name", "country", "book_count", "review_count"]


class ReviewSerializer(serializers.ModelSerializer):
    book_title = serializers.CharField(source="book.title", read_only=True)
    publisher = serializers.CharField(source="book.publisher.name", read_only=True)

    class Meta:
        model = Review
        fields = ["id", "rating", "title", "created_at", "book", "book_title", "publisher"]
