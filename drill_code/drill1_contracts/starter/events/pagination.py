import re

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination

# The contract's `page`: a positive integer, written in ASCII digits.
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


class PagePagination(PageNumberPagination):
    """Lists in pages of 20; a client may not ask for bigger ones.

    DRF passes the page number through `int()`, which also takes "02", " 1", "1_0",
    non-ASCII digits, and the word "last". The contract promises none of them, and a
    client that comes to rely on one breaks on the day the parser changes, so anything
    but the contract's integer is refused like a page past the end.
    """

    page_size = 20
    page_size_query_param = None  # a fixed page size: no client can ask for everything
    last_page_strings = ()

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param, "1")
        if not PAGE_NUMBER.fullmatch(number):
            raise NotFound("Invalid page.")
        return number
