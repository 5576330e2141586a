-- GET /api/books/?page_size=3 on the starter, with 3 books: 5 queries for a COUNT for the paginator, then the books.

SELECT COUNT(*) AS "__count"
FROM "bookstore_book";

SELECT "bookstore_book"."id",
       "bookstore_book"."title",
       "bookstore_book"."isbn",
       "bookstore_book"."price",
       "bookstore_book"."published_on",
       "bookstore_book"."publisher_id"
FROM "bookstore_book"
ORDER BY "bookstore_book"."title" ASC,
         "bookstore_book"."id" ASC
LIMIT 3;

-- Run 3 times, with different parameters (similar queries); the first one:
SELECT "bookstore_book"."id",
       "bookstore_book"."description"
FROM "bookstore_book"
WHERE "bookstore_book"."id" = 2
LIMIT 21;
