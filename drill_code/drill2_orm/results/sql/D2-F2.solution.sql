-- GET /api/books/?page_size=3 on the solution, with 3 books: 1 query for every book's authors.

SELECT ("bookstore_book_authors"."book_id") AS "_prefetch_related_val_book_id",
       "bookstore_author"."id",
       "bookstore_author"."name"
FROM "bookstore_author"
INNER JOIN "bookstore_book_authors" ON ("bookstore_author"."id" = "bookstore_book_authors"."author_id")
WHERE "bookstore_book_authors"."book_id" IN (2,
                                             3,
                                             1)
ORDER BY "bookstore_author"."name" ASC,
         "bookstore_author"."id" ASC;
