from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class Publisher(models.Model):
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, help_text="ISO 3166 country code")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Author(models.Model):
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Tag(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class Book(models.Model):
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=13, unique=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=7, decimal_places=2)
    published_on = models.DateField()
    publisher = models.ForeignKey(Publisher, on_delete=models.PROTECT, related_name="books")
    authors = models.ManyToManyField(Author, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books", blank=True)

    class Meta:
        # --8<-- [start:book-indexes]
        # ?published_since= (bookstore/filters.py) reads a range of published_on. Without
        # an index, the database reads every book to find the few new ones, and the
        # paginator's COUNT reads them all again.
        indexes = [models.Index(fields=["published_on"], name="book_published_on_idx")]
        # --8<-- [end:book-indexes]
        ordering = ["title", "id"]

    def __str__(self):
        return self.title


class Review(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        # --8<-- [start:review-indexes]
        # One book's reviews, newest first (?book= on the feed): WHERE book_id = ? ORDER BY
        # created_at DESC, id DESC. The foreign key's own index finds the book's reviews
        # but not in that order, so the database sorts them all for every page. An index
        # on (book, created_at, id), in the order of the query, hands them over already
        # sorted: the equality column first, then the ORDER BY columns.
        indexes = [
            models.Index(fields=["book", "-created_at", "-id"], name="review_book_newest_idx")
        ]
        # --8<-- [end:review-indexes]
        # Whatever writes reviews (admin, an import), a rating outside 1 to 5 would make
        # every average wrong, and one past 9.99 would not fit the top-rated answer.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            )
        ]

    def __str__(self):
        return self.title
