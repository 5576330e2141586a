-- GET /api/publishers/?page_size=3 on the starter, with 3 books: 2 queries for the publishers with both counts.

SELECT COUNT(*)
FROM
  (SELECT "bookstore_publisher"."id" AS "col1"
   FROM "bookstore_publisher"
   LEFT OUTER JOIN "bookstore_book" ON ("bookstore_publisher"."id" = "bookstore_book"."publisher_id")
   LEFT OUTER JOIN "bookstore_review" ON ("bookstore_book"."id" = "bookstore_review"."book_id")
   GROUP BY 1) subquery;

SELECT "bookstore_publisher"."id",
       "bookstore_publisher"."name",
       "bookstore_publisher"."country",
       COUNT("bookstore_book"."id") AS "book_count",
       COUNT("bookstore_review"."id") FILTER (
                                              WHERE "bookstore_review"."is_published") AS "review_count"
FROM "bookstore_publisher"
LEFT OUTER JOIN "bookstore_book" ON ("bookstore_publisher"."id" = "bookstore_book"."publisher_id")
LEFT OUTER JOIN "bookstore_review" ON ("bookstore_book"."id" = "bookstore_review"."book_id")
GROUP BY "bookstore_publisher"."id",
         "bookstore_publisher"."name",
         "bookstore_publisher"."country"
ORDER BY "bookstore_publisher"."name" ASC,
         "bookstore_publisher"."id" ASC
LIMIT 3;

-- The answer:
--   Lindqvist & Brian Press 2: book_count 1, review_count 1
--   Moreau & Chiara Press 3: book_count 0, review_count 0
--   Okafor & Ada Press 1: book_count 3, review_count 1
