-- GET /api/reviews/?page_size=3 on the starter, with 3 books: 6 queries for the review feed.

SELECT COUNT(*) AS "__count"
FROM "bookstore_review"
WHERE "bookstore_review"."is_published";

SELECT "bookstore_review"."id",
       "bookstore_review"."book_id",
       "bookstore_review"."rating",
       "bookstore_review"."title",
       "bookstore_review"."body",
       "bookstore_review"."is_published",
       "bookstore_review"."created_at"
FROM "bookstore_review"
WHERE "bookstore_review"."is_published"
ORDER BY "bookstore_review"."created_at" DESC,
         "bookstore_review"."id" DESC
LIMIT 2;

-- Run 2 times, with different parameters (similar queries); the first one:
SELECT "bookstore_book"."id",
       "bookstore_book"."title",
       "bookstore_book"."isbn",
       "bookstore_book"."description",
       "bookstore_book"."price",
       "bookstore_book"."published_on",
       "bookstore_book"."publisher_id"
FROM "bookstore_book"
WHERE "bookstore_book"."id" = 3
LIMIT 21;

-- Run 2 times, with different parameters (similar queries); the first one:
SELECT "bookstore_publisher"."id",
       "bookstore_publisher"."name",
       "bookstore_publisher"."country"
FROM "bookstore_publisher"
WHERE "bookstore_publisher"."id" = 1
LIMIT 21;
