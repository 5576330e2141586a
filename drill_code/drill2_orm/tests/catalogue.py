"""The bookstore data every Drill 2 test and the benchmark run on.

`plan(n)` describes a catalogue of `n` books as plain Python rows, the same on every
run and every database: every row has a fixed primary key, so payloads can be compared
byte for byte between the starter, the solution and your copy. Tests compute what the
API should answer from the plan, without the ORM; `create(plan)` writes it.

Sizes grow with `n`: n books, n // 2 authors, n // 10 publishers (at least 3 and 2),
twelve tags, 0 to 3 reviews per book, two of every three published. The shapes a fix can
get right by luck are all there: one publisher and two authors with no book at all, every
tenth book with six reviews (more published ones than the three the list shows), and a
book's later reviews dated earlier, so the newest are not simply the highest ids; author
and publisher names do not sort in id order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

TAGS = (
    "biography",
    "children",
    "cooking",
    "databases",
    "design",
    "fiction",
    "history",
    "mystery",
    "poetry",
    "python",
    "science",
    "travel",
)
_ADJECTIVES = ("Quiet", "Hidden", "Last", "Silver", "Northern", "Broken", "Paper", "Winter")
_NOUNS = ("Harbour", "Garden", "Algorithm", "Orchard", "Signal", "Lighthouse", "Archive")
_FIRST = ("Ada", "Brian", "Chiara", "Dmitri", "Esi", "Farah", "Goran", "Hana", "Ines")
_LAST = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Haddad", "Kowalski")
_COUNTRIES = ("GB", "US", "DE", "FR", "JP", "NG", "BR")
_EPOCH = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


@dataclass
class Plan:
    size: int
    publishers: list[dict] = field(default_factory=list)
    authors: list[dict] = field(default_factory=list)
    tags: list[dict] = field(default_factory=list)
    books: list[dict] = field(default_factory=list)  # with publisher_id, author_ids, tag_ids
    reviews: list[dict] = field(default_factory=list)

    def book_counts(self) -> dict[int, int]:
        """publisher id -> number of its books."""
        return {
            p["id"]: sum(b["publisher_id"] == p["id"] for b in self.books) for p in self.publishers
        }

    def published_review_counts(self) -> dict[int, int]:
        """publisher id -> number of published reviews of its books."""
        publisher_of = {b["id"]: b["publisher_id"] for b in self.books}
        counts = dict.fromkeys((p["id"] for p in self.publishers), 0)
        for review in self.reviews:
            if review["is_published"]:
                counts[publisher_of[review["book_id"]]] += 1
        return counts


def plan(n: int) -> Plan:
    catalogue = Plan(size=n)
    n_publishers, n_authors = max(2, n // 10), max(3, n // 2)
    # One more publisher and two more authors than any book refers to: a count of nothing
    # must be 0, which an INNER JOIN or a bare Subquery gets wrong.
    for p in range(n_publishers + 1):
        catalogue.publishers.append(
            {
                "id": p + 1,
                "name": f"{_LAST[p % 7]} & {_FIRST[p % 9]} Press {p + 1}",
                "country": _COUNTRIES[p % 7],
            }
        )
    for a in range(n_authors + 2):
        catalogue.authors.append({"id": a + 1, "name": f"{_FIRST[a % 9]} {_LAST[(a // 9) % 7]}"})
    for t, slug in enumerate(TAGS):
        catalogue.tags.append({"id": t + 1, "slug": slug, "name": slug.title()})
    review_id = 0
    for i in range(n):
        title = f"The {_ADJECTIVES[i % 8]} {_NOUNS[(i // 8 + i) % 7]}"
        authors = {i % n_authors + 1}
        if i % 3 == 1:
            authors.add((i * 7 + 1) % n_authors + 1)
        tags = set() if i % 7 == 6 else {i % 12 + 1}
        if i % 3 == 0:
            tags.add((i * 5 + 7) % 12 + 1)
        catalogue.books.append(
            {
                "id": i + 1,
                "title": title,
                "isbn": f"978{i:010d}",
                "description": (
                    f"{title} follows a {TAGS[i % 12]} story across {i % 9 + 2} chapters. "
                    "Readers praise its pace, its careful research and an ending few see "
                    "coming. This edition adds notes, a reading guide and an index. " * 2
                ).strip(),
                "price": Decimal(f"{9 + i % 40}.{(i * 37) % 100:02d}"),
                "published_on": date(2015, 1, 1) + timedelta(days=11 * i),
                "publisher_id": i % n_publishers + 1,
                "author_ids": sorted(authors),
                "tag_ids": sorted(tags),
            }
        )
        for k in range(6 if i % 10 == 9 else i % 4):
            review_id += 1
            catalogue.reviews.append(
                {
                    "id": review_id,
                    "book_id": i + 1,
                    "rating": 1 + (i * 3 + k * 2) % 5,
                    "title": f"Review {review_id} of {title}",
                    "body": "Worth reading. " * (1 + k),
                    "is_published": (i + k) % 3 != 2,
                    # Later reviews of a book are dated earlier: newest is not highest id.
                    "created_at": _EPOCH + timedelta(hours=7 * i - 2 * k),
                }
            )
    return catalogue


def create(catalogue: Plan) -> Plan:
    """Write the plan to the target's database (which must hold no catalogue yet)."""
    from bookstore.models import Author, Book, Publisher, Review, Tag

    Publisher.objects.bulk_create(Publisher(**row) for row in catalogue.publishers)
    Author.objects.bulk_create(Author(**row) for row in catalogue.authors)
    Tag.objects.bulk_create(Tag(**row) for row in catalogue.tags)
    relations = ("author_ids", "tag_ids")
    Book.objects.bulk_create(
        Book(**{k: v for k, v in row.items() if k not in relations}) for row in catalogue.books
    )
    Book.authors.through.objects.bulk_create(
        Book.authors.through(book_id=row["id"], author_id=author_id)
        for row in catalogue.books
        for author_id in row["author_ids"]
    )
    Book.tags.through.objects.bulk_create(
        Book.tags.through(book_id=row["id"], tag_id=tag_id)
        for row in catalogue.books
        for tag_id in row["tag_ids"]
    )
    Review.objects.bulk_create(Review(**row) for row in catalogue.reviews)
    return catalogue


# The book whose reviews the query-plan tests and the benchmark ask for: with hundreds of
# reviews, finding them in order matters. plan() gives no book more than six.
POPULAR_BOOK = 7


def add_popular_reviews(catalogue: Plan, count: int = 400) -> Plan:
    """Give POPULAR_BOOK `count` more reviews, three in four published, one every 37 minutes
    back from mid-2025, and write them (after create())."""
    from bookstore.models import Review

    first = len(catalogue.reviews) + 1
    added = [
        {
            "id": first + k,
            "book_id": POPULAR_BOOK,
            "rating": 1 + k % 5,
            "title": f"Extra review {k}",
            "body": "Still thinking about it.",
            "is_published": k % 4 != 0,
            "created_at": datetime(2025, 6, 1, tzinfo=UTC) - timedelta(minutes=37 * k),
        }
        for k in range(count)
    ]
    Review.objects.bulk_create(Review(**row) for row in added)
    catalogue.reviews += added
    return catalogue


def clear() -> None:
    """Delete the whole catalogue, children first (a publisher is protected by its books)."""
    from bookstore.models import Author, Book, Publisher, Review, Tag

    for model in (Review, Book, Author, Publisher, Tag):
        model.objects.all().delete()


# The requests whose JSON must be identical on every target for the same catalogue.
PAYLOAD_SIZE = 20  # 12 authors: enough for name order to differ from id order
PAYLOAD_REQUESTS = (
    "/api/books/",
    "/api/books/?page=2&page_size=5",
    "/api/books/4/",
    "/api/books/top-rated/",
    "/api/authors/",
    "/api/publishers/",
    "/api/reviews/",
)
