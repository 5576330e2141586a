-- GET /api/books/?page_size=3 on the starter, with 3 books: 3 queries for every book's publisher: joined, no query.

-- Run 3 times, with different parameters (similar queries); the first one:
SELECT "bookstore_publisher"."id",
       "bookstore_publisher"."name",
       "bookstore_publisher"."country"
FROM "bookstore_publisher"
WHERE "bookstore_publisher"."id" = 2
LIMIT 21;
