-- GET /api/books/top-rated/?page_size=3 on the solution, with 3 books: 5 queries for the top-rated books.

SELECT COUNT(*)
FROM
  (SELECT SUBSTR("bookstore_book"."description", 1, 160) AS "blurb"
   FROM "bookstore_book"
   LEFT OUTER JOIN "bookstore_review" ON ("bookstore_book"."id" = "bookstore_review"."book_id")
   GROUP BY "bookstore_book"."id",
            1
   HAVING AVG("bookstore_review"."rating") FILTER (
                                                   WHERE ("bookstore_review"."is_published")) IS NOT NULL) subquery;

SELECT "bookstore_book"."id",
       "bookstore_book"."title",
       "bookstore_book"."isbn",
       "bookstore_book"."price",
       "bookstore_book"."published_on",
       "bookstore_book"."publisher_id",
       SUBSTR("bookstore_book"."description", 1, 160) AS "blurb",
       AVG("bookstore_review"."rating") FILTER (
                                                WHERE "bookstore_review"."is_published") AS "average_rating",
       "bookstore_publisher"."id",
       "bookstore_publisher"."name",
       "bookstore_publisher"."country"
FROM "bookstore_book"
LEFT OUTER JOIN "bookstore_review" ON ("bookstore_book"."id" = "bookstore_review"."book_id")
INNER JOIN "bookstore_publisher" ON ("bookstore_book"."publisher_id" = "bookstore_publisher"."id")
GROUP BY "bookstore_book"."id",
         "bookstore_book"."title",
         "bookstore_book"."isbn",
         "bookstore_book"."price",
         "bookstore_book"."published_on",
         "bookstore_book"."publisher_id",
         7,
         "bookstore_publisher"."id",
         "bookstore_publisher"."name",
         "bookstore_publisher"."country"
HAVING AVG("bookstore_review"."rating") FILTER (
                                                WHERE ("bookstore_review"."is_published")) IS NOT NULL
ORDER BY 8 DESC,
         "bookstore_book"."title" ASC,
         "bookstore_book"."id" ASC
LIMIT 2;

SELECT ("bookstore_book_authors"."book_id") AS "_prefetch_related_val_book_id",
       "bookstore_author"."id",
       "bookstore_author"."name"
FROM "bookstore_author"
INNER JOIN "bookstore_book_authors" ON ("bookstore_author"."id" = "bookstore_book_authors"."author_id")
WHERE "bookstore_book_authors"."book_id" IN (2,
                                             3)
ORDER BY "bookstore_author"."name" ASC,
         "bookstore_author"."id" ASC;

SELECT ("bookstore_book_tags"."book_id") AS "_prefetch_related_val_book_id",
       "bookstore_tag"."id",
       "bookstore_tag"."slug",
       "bookstore_tag"."name"
FROM "bookstore_tag"
INNER JOIN "bookstore_book_tags" ON ("bookstore_tag"."id" = "bookstore_book_tags"."tag_id")
WHERE "bookstore_book_tags"."book_id" IN (2,
                                          3)
ORDER BY "bookstore_tag"."slug" ASC;

SELECT "col1",
       "col2",
       "col3",
       "col4",
       "col5",
       "col6"
FROM
  (SELECT *
   FROM
     (SELECT "bookstore_review"."id" AS "col1",
             "bookstore_review"."book_id" AS "col2",
             "bookstore_review"."rating" AS "col3",
             "bookstore_review"."title" AS "col4",
             "bookstore_review"."is_published" AS "col5",
             "bookstore_review"."created_at" AS "col6",
             ROW_NUMBER() OVER (PARTITION BY "bookstore_review"."book_id"
                                ORDER BY "bookstore_review"."created_at" DESC, "bookstore_review"."id" DESC) AS "qual0"
      FROM "bookstore_review"
      WHERE ("bookstore_review"."is_published"
             AND "bookstore_review"."book_id" IN (2,
                                                  3))
      ORDER BY "bookstore_review"."created_at" DESC,
               "bookstore_review"."id" DESC) "qualify"
   WHERE ("qual0" > 0
          AND "qual0" <= 3)) "qualify_mask"
ORDER BY "col6" DESC,
         "col1" DESC;
