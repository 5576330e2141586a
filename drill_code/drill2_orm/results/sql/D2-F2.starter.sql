-- GET /api/books/?page_size=3 on the starter, with 3 books: 3 queries for every book's authors.

-- Run 3 times, with different parameters (similar queries); the first one:
SELECT "bookstore_author"."id",
       "bookstore_author"."name"
FROM "bookstore_author"
INNER JOIN "bookstore_book_authors" ON ("bookstore_author"."id" = "bookstore_book_authors"."author_id")
WHERE "bookstore_book_authors"."book_id" = 2
ORDER BY "bookstore_author"."name" ASC,
         "bookstore_author"."id" ASC;
