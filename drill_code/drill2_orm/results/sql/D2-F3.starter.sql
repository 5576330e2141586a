-- GET /api/books/?page_size=3 on the starter, with 3 books: 3 queries for every book's tags.

-- Run 3 times, with different parameters (similar queries); the first one:
SELECT "bookstore_tag"."id",
       "bookstore_tag"."slug",
       "bookstore_tag"."name"
FROM "bookstore_tag"
INNER JOIN "bookstore_book_tags" ON ("bookstore_tag"."id" = "bookstore_book_tags"."tag_id")
WHERE "bookstore_book_tags"."book_id" = 2
ORDER BY "bookstore_tag"."slug" ASC;
