-- GET /api/books/?page_size=3 on the solution, with 3 books: 1 query for every book's tags.

SELECT ("bookstore_book_tags"."book_id") AS "_prefetch_related_val_book_id",
       "bookstore_tag"."id",
       "bookstore_tag"."slug",
       "bookstore_tag"."name"
FROM "bookstore_tag"
INNER JOIN "bookstore_book_tags" ON ("bookstore_tag"."id" = "bookstore_book_tags"."tag_id")
WHERE "bookstore_book_tags"."book_id" IN (2,
                                          3,
                                          1)
ORDER BY "bookstore_tag"."slug" ASC;
