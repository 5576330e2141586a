-- GET /api/books/?page_size=3 on the starter, with 3 books: 4 queries for every book's three newest published reviews.

SELECT "bookstore_review"."id",
       "bookstore_review"."book_id",
       "bookstore_review"."rating",
       "bookstore_review"."title",
       "bookstore_review"."body",
       "bookstore_review"."is_published",
       "bookstore_review"."created_at"
FROM "bookstore_review"
WHERE "bookstore_review"."book_id" IN (2,
                                       3,
                                       1)
ORDER BY "bookstore_review"."created_at" DESC,
         "bookstore_review"."id" DESC;

-- Run 3 times, with different parameters (similar queries); the first one:
SELECT "bookstore_review"."id",
       "bookstore_review"."book_id",
       "bookstore_review"."rating",
       "bookstore_review"."title",
       "bookstore_review"."body",
       "bookstore_review"."is_published",
       "bookstore_review"."created_at"
FROM "bookstore_review"
WHERE ("bookstore_review"."book_id" = 2
       AND "bookstore_review"."is_published")
ORDER BY "bookstore_review"."created_at" DESC
LIMIT 3;
