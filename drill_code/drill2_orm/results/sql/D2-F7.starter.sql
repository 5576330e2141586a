-- GET /api/authors/?page_size=3 on the starter, with 3 books: 5 queries for a COUNT, then authors and book counts.

SELECT COUNT(*) AS "__count"
FROM "bookstore_author";

SELECT "bookstore_author"."id",
       "bookstore_author"."name"
FROM "bookstore_author"
ORDER BY "bookstore_author"."name" ASC,
         "bookstore_author"."id" ASC
LIMIT 3;

-- Run 3 times, with different parameters (similar queries); the first one:
SELECT COUNT(*) AS "__count"
FROM "bookstore_book_authors"
WHERE "bookstore_book_authors"."author_id" = 1;
