-- GET /api/books/?page_size=3 on the solution, with 3 books: 2 queries for a COUNT for the paginator, then the books.

SELECT COUNT(*) AS "__count"
FROM "bookstore_book";

SELECT "bookstore_book"."id",
       "bookstore_book"."title",
       "bookstore_book"."isbn",
       "bookstore_book"."price",
       "bookstore_book"."published_on",
       "bookstore_book"."publisher_id",
       SUBSTR("bookstore_book"."description", 1, 160) AS "blurb",
       "bookstore_publisher"."id",
       "bookstore_publisher"."name",
       "bookstore_publisher"."country"
FROM "bookstore_book"
INNER JOIN "bookstore_publisher" ON ("bookstore_book"."publisher_id" = "bookstore_publisher"."id")
ORDER BY "bookstore_book"."title" ASC,
         "bookstore_book"."id" ASC
LIMIT 3;
