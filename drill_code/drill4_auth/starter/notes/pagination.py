from rest_framework.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    """Every list comes in pages: ?page=2, and ?page_size= up to MAX_PAGE_SIZE."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
