from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination, PageNumberPagination


class StandardPagination(PageNumberPagination):
    """Pages of 20 by default; the back-office export asks for up to 1000 at a time."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 1000


# --8<-- [start:feed-pagination]
class FeedPagination(CursorPagination):
    """The review feed: newest first, read by scrolling, always growing at the top.

    Page numbers cost a COUNT(*) of the whole feed on every request, and an OFFSET that
    reads and throws away every row before the page, so page 500 reads 10,000 rows; and a
    review published between two requests pushes every row down one place, so the next
    page repeats one. A cursor is the last row's position: the next page is the rows after
    it (WHERE created_at < ?), with no count and no rows to skip, and a row added at the
    top cannot move it.
    https://www.django-rest-framework.org/api-guide/pagination/#cursorpagination
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 1000
    # The position is the first field; DRF breaks ties on it with an offset, and the id
    # makes the order total, so two reviews of the same second keep their places.
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request):
        # DRF filters on the cursor's position as it came: a crafted cursor whose position
        # is not a date would reach the database and come back as a 500, not a 404.
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                valid = parse_datetime(cursor.position) is not None
            except ValueError:  # well formed, but no such date (2024-02-30)
                valid = False
            if not valid:
                raise NotFound(self.invalid_cursor_message)
        return cursor


# --8<-- [end:feed-pagination]
