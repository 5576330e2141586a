from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """Pages of 20 by default; the back-office export asks for up to 1000 at a time."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 1000
