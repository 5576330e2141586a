-- GET /api/books/top-rated/?page_size=3 on the starter, with 3 books: 12 queries for the top-rated books.

SELECT COUNT(*)
FROM
  (SELECT "bookstore_book"."id" AS "col1"
   FROM "bookstore_book"
   LEFT OUTER JOIN "bookstore_review" ON ("bookstore_book"."id" = "bookstore_review"."book_id")
   GROUP BY 1
   HAVING AVG("bookstore_review"."rating") FILTER (
                                                   WHERE ("bookstore_review"."is_published")) IS NOT NULL) subquery;

SELECT "bookstore_book"."id",
       "bookstore_book"."title",
       "bookstore_book"."isbn",
       "bookstore_book"."price",
       "bookstore_book"."published_on",
       "bookstore_book"."publisher_id",
       AVG("bookstore_review"."rating") FILTER (
                                                WHERE "bookstore_review"."is_published") AS "average_rating"
FROM "bookstore_book"
LEFT OUTER JOIN "bookstore_review" ON ("bookstore_book"."id" = "bookstore_review"."book_id")
GROUP BY "bookstore_book"."id",
         "bookstore_book"."title",
         "bookstore_book"."isbn",
         "bookstore_book"."price",
         "bookstore_book"."published_on",
         "bookstore_book"."publisher_id"
HAVING AVG("bookstore_review"."rating") FILTER (
                                                WHERE ("bookstore_review"."is_published")) IS NOT NULL
ORDER BY 7 DESC,
         "bookstore_book"."title" ASC,
         "bookstore_book"."id" ASC
LIMIT 2;

-- Run 2 times, with different parameters (similar queries); the first one:
SELECT "bookstore_publisher"."id",
       "bookstore_publisher"."name",
       "bookstore_publisher"."country"
FROM "bookstore_publisher"
WHERE "bookstore_publisher"."id" = 2
LIMIT 21;

-- Run 2 times, with different parameters (similar queries); the first one:
SELECT "bookstore_author"."id",
       "bookstore_author"."name"
FROM "bookstore_author"
INNER JOIN "bookstore_book_authors" ON ("bookstore_author"."id" = "bookstore_book_authors"."author_id")
WHERE "bookstore_book_authors"."book_id" = 2
ORDER BY "bookstore_author"."name" ASC,
         "bookstore_author"."id" ASC;

-- Run 2 times, with different parameters (similar queries); the first one:
SELECT "bookstore_tag"."id",
       "bookstore_tag"."slug",
       "bookstore_tag"."name"
FROM "bookstore_tag"
INNER JOIN "bookstore_book_tags" ON ("bookstore_tag"."id" = "bookstore_book_tags"."tag_id")
WHERE "bookstore_book_tags"."book_id" = 2
ORDER BY "bookstore_tag"."slug" ASC;

-- Run 2 times, with different parameters (similar queries); the first one:
SELECT "bookstore_book"."id",
       "bookstore_book"."description"
FROM "bookstore_book"
WHERE "bookstore_book"."id" = 2
LIMIT 21;

-- Run 2 times, with different parameters (similar queries); the first one:
SELECT "bookstore_review"."id",
       "bookstore_review"."book_id",
       "bookstore_review"."rating",
       "bookstore_review"."title",
       "bookstore_review"."body",
       "bookstore_review"."is_published",
       "bookstore_review"."created_at"
FROM "bookstore_review"
WHERE ("bookstore_review"."book_id" = 2
       AND "bookstore_review"."is_published")
ORDER BY "bookstore_review"."created_at" DESC
LIMIT 3;
