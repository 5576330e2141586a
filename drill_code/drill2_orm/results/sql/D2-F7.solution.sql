-- GET /api/authors/?page_size=3 on the solution, with 3 books: 2 queries for a COUNT, then authors and book counts.

SELECT COUNT(*)
FROM
  (SELECT "bookstore_author"."id" AS "col1"
   FROM "bookstore_author"
   LEFT OUTER JOIN "bookstore_book_authors" ON ("bookstore_author"."id" = "bookstore_book_authors"."author_id")
   GROUP BY 1) subquery;

SELECT "bookstore_author"."id",
       "bookstore_author"."name",
       COUNT("bookstore_book_authors"."book_id") AS "book_count"
FROM "bookstore_author"
LEFT OUTER JOIN "bookstore_book_authors" ON ("bookstore_author"."id" = "bookstore_book_authors"."author_id")
GROUP BY "bookstore_author"."id",
         "bookstore_author"."name"
ORDER BY "bookstore_author"."name" ASC,
         "bookstore_author"."id" ASC
LIMIT 3;
