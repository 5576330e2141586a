-- GET /api/reviews/?page_size=3 on the solution, with 3 books: 1 query for the review feed.

SELECT "bookstore_review"."id",
       "bookstore_review"."book_id",
       "bookstore_review"."rating",
       "bookstore_review"."title",
       "bookstore_review"."is_published",
       "bookstore_review"."created_at",
       "bookstore_book"."id",
       "bookstore_book"."title",
       "bookstore_book"."isbn",
       "bookstore_book"."price",
       "bookstore_book"."published_on",
       "bookstore_book"."publisher_id",
       "bookstore_publisher"."id",
       "bookstore_publisher"."name",
       "bookstore_publisher"."country"
FROM "bookstore_review"
INNER JOIN "bookstore_book" ON ("bookstore_review"."book_id" = "bookstore_book"."id")
INNER JOIN "bookstore_publisher" ON ("bookstore_book"."publisher_id" = "bookstore_publisher"."id")
WHERE "bookstore_review"."is_published"
ORDER BY "bookstore_review"."created_at" DESC,
         "bookstore_review"."id" DESC
LIMIT 4;
