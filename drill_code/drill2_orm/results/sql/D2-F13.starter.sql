-- GET /api/reviews/?page_size=3 on the starter, with 3 books: 2 queries for the reviews, by cursor: no COUNT.

SELECT COUNT(*) AS "__count"
FROM "bookstore_review"
WHERE "bookstore_review"."is_published";

SELECT "bookstore_review"."id",
       "bookstore_review"."book_id",
       "bookstore_review"."rating",
       "bookstore_review"."title",
       "bookstore_review"."body",
       "bookstore_review"."is_published",
       "bookstore_review"."created_at"
FROM "bookstore_review"
WHERE "bookstore_review"."is_published"
ORDER BY "bookstore_review"."created_at" DESC,
         "bookstore_review"."id" DESC
LIMIT 2;
