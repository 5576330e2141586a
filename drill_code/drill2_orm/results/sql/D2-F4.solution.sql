-- GET /api/books/?page_size=3 on the solution, with 3 books: 1 query for every book's three newest published reviews.

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
                                                  3,
                                                  1))
      ORDER BY "bookstore_review"."created_at" DESC,
               "bookstore_review"."id" DESC) "qualify"
   WHERE ("qual0" > 0
          AND "qual0" <= 3)) "qualify_mask"
ORDER BY "col6" DESC,
         "col1" DESC;
